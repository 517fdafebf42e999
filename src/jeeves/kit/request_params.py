"""Request parameters the way Slack's and Strava's APIs accept them: the query string, then a
form or a JSON object body on top (used by the emulators that stand in for those APIs)."""

from __future__ import annotations

from typing import Any

from quart import request


async def request_params() -> dict[str, Any]:
    """The current request's parameters, merged: query string, then form or JSON body."""
    params: dict[str, Any] = dict(request.args)
    if request.method == "POST":
        if request.is_json:
            body = await request.get_json(silent=True)
            if isinstance(body, dict):
                params.update(body)
        else:
            params.update((await request.form).to_dict())
    return params
