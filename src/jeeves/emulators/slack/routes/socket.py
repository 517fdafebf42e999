"""Socket Mode: the WebSocket an app connects to, and the control API over its connections.

- `GET /link/?ticket=…` (WebSocket): the URL `apps.connections.open` hands out. A ticket works
  once (an unknown or used one is refused with HTTP 401 before the upgrade). The first frame is
  `hello`; then envelopes arrive and acks are read back (see `domain.socket_mode`).
- `GET /_emulator/socket` — the open connections (`id`, `opened_at`, `sent`, `acked`).
- `POST /_emulator/socket/refuse` — `{"count": 2}`: the next upgrades fail with HTTP 503 after
  spending their ticket (an app must then ask `apps.connections.open` for a new URL).
- `POST /_emulator/socket/disconnect` — `{"reason": "refresh_requested" | "warning" |
  "link_disabled" | "too_many_websockets" | null, "connection"?: "c1", "close_after_s"?: 0.2}`:
  Slack's `disconnect` message to one or every connection, which is then closed (`warning`
  closes nothing; `null` closes without a message: a dropped link).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any, cast

from quart import Blueprint, Response, jsonify, websocket

from jeeves.emulators.slack.domain.socket_mode import (
    DISCONNECT_REASONS,
    DisconnectReason,
    parse_ack,
)
from jeeves.emulators.slack.emulator import emulator_of
from jeeves.emulators.slack.routes.control import body_object
from jeeves.emulators.slack.socket_delivery import CLOSE, Connection, SocketHub
from jeeves.kit.errors import APIError

blueprint = Blueprint("slack_socket", __name__)
MAX_CLOSE_AFTER_S = 30.0


@blueprint.websocket("/link/")
async def link() -> Response | None:
    hub = emulator_of().socket
    admitted = hub.admit(websocket.args.get("ticket", ""))
    if not admitted:
        status, error = (401, "invalid_ticket") if admitted is False else (503, "unavailable")
        body = json.dumps({"ok": False, "error": error})
        return Response(body, status=status, content_type="application/json")
    await websocket.accept()
    connection = await hub.attach()
    reader = asyncio.create_task(_read(hub, connection))
    try:
        await _write(connection)
    finally:
        hub.detach(connection)
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader
    return None


async def _write(connection: Connection) -> None:
    """Send what the outbox holds until a CLOSE, or until the app goes away."""
    while True:
        frame = await connection.outbox.get()
        if frame is CLOSE:
            await websocket.close(1000)
            return
        await websocket.send(frame)


async def _read(hub: SocketHub, connection: Connection) -> None:
    """Acks from the app; the connection closes from here when the app hangs up."""
    try:
        while True:
            message = await websocket.receive()
            text = message.decode() if isinstance(message, bytes) else message
            ack = parse_ack(text)
            if ack is not None:
                hub.acknowledge(connection, ack)
    except asyncio.CancelledError:
        raise
    except Exception:  # the app hung up: let the writer end the connection
        connection.close()


@blueprint.get("/_emulator/socket")
async def connections() -> Response:
    return jsonify(emulator_of().socket.to_json())


@blueprint.post("/_emulator/socket/refuse")
async def refuse() -> Response:
    body = await body_object()
    count = body.get("count", 1)
    if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= 100:
        raise APIError(422, "validation_failed", "'count' must be a whole number from 0 to 100")
    hub = emulator_of().socket
    hub.refuse_upgrades = count
    return jsonify({"refuse_upgrades": hub.refuse_upgrades})


@blueprint.post("/_emulator/socket/disconnect")
async def disconnect() -> Response:
    body = await body_object()
    reason = body.get("reason", "refresh_requested")
    if reason is not None and reason not in DISCONNECT_REASONS:
        choices = ", ".join(DISCONNECT_REASONS)
        raise APIError(422, "validation_failed", f"'reason' must be one of {choices} or null")
    connection = body.get("connection")
    if connection is not None and not isinstance(connection, str):
        raise APIError(422, "validation_failed", "'connection' must be a connection id")
    close_after = body.get("close_after_s", 0.2)
    if (
        isinstance(close_after, bool)
        or not isinstance(close_after, int | float)
        or not 0 <= close_after <= MAX_CLOSE_AFTER_S
    ):
        raise APIError(422, "validation_failed", f"'close_after_s' must be 0-{MAX_CLOSE_AFTER_S}")
    hub = emulator_of().socket
    if connection is not None and connection not in hub.connections:
        raise APIError(404, "not_found", f"no open connection {connection}")
    chosen = hub.disconnect(cast(DisconnectReason | None, reason), connection, float(close_after))
    answer: dict[str, Any] = {"reason": reason, "connections": chosen}
    return jsonify(answer)
