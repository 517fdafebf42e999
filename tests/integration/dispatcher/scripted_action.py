"""A Jeeves action whose behaviour the message scripts, run as a real process by pipeline tests.

It serves the action protocol (`POST /v1/act`) on the kit; what it answers depends on `text`
(the words after the keyword):
- `ok <words>`  → 200 `{"reply": {"text": "ok: <words>"}}`
- `fail <n>`    → 500 for the first n calls with one `id`, then 200 "recovered after <n>"
- `broken`      → 500 while the switch `POST /control {"broken": true}` is on, else 200 "fixed"
- `reject`      → 422 with an error message meant for the user
- `later`       → 202 (the action would post through poster itself)
- `slow <s>`    → sleeps s seconds, then 200
Every call is kept: `GET /calls` lists `{"body", "headers"}` in arrival order.

Run as `python -m scripted_action` with `PYTHONPATH` pointing at this folder.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from quart import Quart, jsonify, request
from quart.typing import ResponseReturnValue

from jeeves.kit.app import create_app
from jeeves.kit.serving import run
from jeeves.kit.settings import ServiceSettings, load_settings


def build(settings: ServiceSettings) -> Quart:
    app = create_app("scripted", settings)
    calls: list[dict[str, Any]] = []
    seen: Counter[str] = Counter()
    state = {"broken": True}

    @app.post("/v1/act")
    async def act() -> ResponseReturnValue:
        body = await request.get_json()
        calls.append({"body": body, "headers": dict(request.headers)})
        seen[body["id"]] += 1
        command, _, rest = str(body.get("text", "")).partition(" ")
        if command == "fail" and seen[body["id"]] <= int(rest or "1"):
            return jsonify({"error": {"code": "boom", "message": "scripted failure"}}), 500
        if command == "fail":
            return jsonify({"reply": {"text": f"recovered after {rest or '1'}"}})
        if command == "broken":
            if state["broken"]:
                return jsonify({"error": {"code": "down", "message": "still broken"}}), 500
            return jsonify({"reply": {"text": "fixed"}})
        if command == "reject":
            return jsonify({"error": {"code": "no", "message": "I cannot do that, Dave"}}), 422
        if command == "later":
            return "", 202
        if command == "slow":
            await asyncio.sleep(float(rest or "1"))
        return jsonify({"reply": {"text": f"ok: {rest}".strip()}})

    @app.post("/control")
    async def control() -> ResponseReturnValue:
        state.update(await request.get_json())
        return jsonify(state)

    @app.get("/calls")
    async def list_calls() -> ResponseReturnValue:
        return jsonify({"calls": calls})

    return app


if __name__ == "__main__":
    config = load_settings(ServiceSettings)
    run(build(config), config)
