"""Serving the built frontend (`make dashboard` → `JEEVES_DASHBOARD_STATIC_DIR`) and the
security headers of every answer.

`/assets/…` are Vite's content-hashed files (cached for a year); any other path that is not
the API gets `index.html`, so the React router owns page URLs. Without a built frontend the
answer is a short page saying how to build it (503), never a blank page.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from quart import Blueprint, Quart, Response, request
from werkzeug.security import safe_join

from jeeves.kit.errors import APIError

NOT_BUILT = """<!doctype html><html lang="en"><meta charset="utf-8">
<title>Jeeves dashboard</title><main><h1>The dashboard's frontend is not built</h1>
<p>Run <code>make dashboard</code> (it runs <code>npm ci</code> and <code>vite build</code>),
then reload this page.</p></main></html>"""
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
API_PREFIXES = ("api/", "auth/")
TYPES = {
    ".js": "text/javascript",
    ".css": "text/css",
    ".svg": "image/svg+xml",
    ".html": "text/html; charset=utf-8",
    ".json": "application/json",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
}
IMMUTABLE = "public, max-age=31536000, immutable"


@dataclass(frozen=True)
class Found:
    body: bytes
    content_type: str
    cache: str


def find(static_dir: Path, path: str) -> Found | None:
    """The file for `path` ('' = index.html), index.html for page URLs, None when absent."""
    joined = safe_join(str(static_dir), path) if path else None
    if joined is not None and Path(joined).is_file():
        target = Path(joined)
        cache = IMMUTABLE if path.startswith("assets/") else "no-cache"
        return Found(
            target.read_bytes(), TYPES.get(target.suffix, "application/octet-stream"), cache
        )
    if path.startswith("assets/"):
        return None
    index = static_dir / "index.html"
    if not index.is_file():
        return Found(NOT_BUILT.encode(), TYPES[".html"], "no-store")
    return Found(index.read_bytes(), TYPES[".html"], "no-cache")


def web_blueprint(static_dir: Path) -> Blueprint:
    blueprint = Blueprint("web", __name__)

    async def serve(path: str) -> Response:
        if path.startswith(API_PREFIXES):
            raise APIError(404, "not_found", f"no such API: /{path}")
        found = await asyncio.to_thread(find, static_dir, path)
        if found is None:
            raise APIError(404, "not_found", f"no such file: /{path}")
        status = 503 if found.body == NOT_BUILT.encode() else 200
        response = Response(found.body, status=status, content_type=found.content_type)
        response.headers["Cache-Control"] = found.cache
        return response

    @blueprint.get("/")
    async def root() -> Response:
        return await serve("")

    @blueprint.get("/<path:path>")
    async def anything(path: str) -> Response:
        return await serve(path)

    return blueprint


def install_security_headers(app: Quart) -> None:
    @app.after_request
    async def _headers(response: Response) -> Response:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Content-Security-Policy", CSP)
        if request.path.startswith("/api/"):
            response.headers["Cache-Control"] = "no-store"
        return response
