"""`GET /`: the chat page, a single HTML file with plain JavaScript (no build step)."""

from __future__ import annotations

from functools import cache
from importlib import resources

from quart import Blueprint, Response

blueprint = Blueprint("slack_page", __name__)


@cache
def _page() -> str:
    return (resources.files("jeeves.emulators.slack") / "static" / "chat.html").read_text()


@blueprint.get("/")
async def page() -> Response:
    return Response(_page(), content_type="text/html; charset=utf-8")
