"""A minimal Slack Web API stand-in that accepts a message but answers too late, once.

It serves what the poster's read-back needs and the Slack emulator lacks:
- `chat.postMessage` records the message (with its metadata) and, for the first post to a
  channel whose id starts with `CLAG`, answers only after `LAG_S` seconds — after the poster
  has given up: Slack has the message, the poster does not know;
- `conversations.history` / `conversations.replies` list recorded messages with metadata
  (`oldest` and the thread respected), as Slack does with `include_all_metadata`;
- `GET /_messages` lists everything recorded, for assertions.

Run as `python -m lagging_slack` with `PYTHONPATH` pointing at this folder.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from typing import Any

from quart import Quart, jsonify, request
from quart.typing import ResponseReturnValue

from jeeves.kit.app import create_app
from jeeves.kit.serving import run
from jeeves.kit.settings import ServiceSettings, load_settings

LAG_S = 4.0


def build(settings: ServiceSettings) -> Quart:
    app = create_app("lagging-slack", settings)
    messages: list[dict[str, Any]] = []
    lagged: set[str] = set()
    sequence = itertools.count(1)

    async def params() -> dict[str, Any]:
        data = dict(request.args)
        if request.is_json:
            data.update(await request.get_json())
        else:
            data.update((await request.form).to_dict())
        return data

    @app.route("/api/chat.postMessage", methods=["POST"])
    async def post_message() -> ResponseReturnValue:
        body = await params()
        ts = f"{int(time.time())}.{next(sequence):06d}"
        message = {
            "ts": ts,
            "channel": body["channel"],
            "text": body.get("text"),
            "thread_ts": body.get("thread_ts"),
            "metadata": body.get("metadata"),
        }
        messages.append(message)
        if body["channel"].startswith("CLAG") and body["channel"] not in lagged:
            lagged.add(body["channel"])
            await asyncio.sleep(LAG_S)
        return jsonify({"ok": True, "channel": body["channel"], "ts": ts})

    def listing(channel: str, oldest: float, thread_ts: str | None) -> ResponseReturnValue:
        found = [
            m
            for m in messages
            if m["channel"] == channel
            and float(m["ts"]) >= oldest
            and (thread_ts is None or m["thread_ts"] == thread_ts)
        ]
        return jsonify({"ok": True, "messages": list(reversed(found)), "has_more": False})

    @app.route("/api/conversations.history", methods=["GET", "POST"])
    async def history() -> ResponseReturnValue:
        body = await params()
        return listing(body["channel"], float(body.get("oldest", 0)), None)

    @app.route("/api/conversations.replies", methods=["GET", "POST"])
    async def replies() -> ResponseReturnValue:
        body = await params()
        return listing(body["channel"], float(body.get("oldest", 0)), body["ts"])

    @app.get("/_messages")
    async def recorded() -> ResponseReturnValue:
        return jsonify({"messages": messages})

    return app


if __name__ == "__main__":
    config = load_settings(ServiceSettings)
    run(build(config), config)
