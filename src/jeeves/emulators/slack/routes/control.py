"""`/_emulator/…`: the control API tests and the chat page drive the emulator with.

Documented in docs/slack-emulator.md (and summarised in the package docstring).
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Callable
from dataclasses import replace
from typing import Any, TypeVar

from quart import Blueprint, Response, jsonify, request

from jeeves.emulators.slack.delivery import MODES
from jeeves.emulators.slack.domain.control import (
    ControlError,
    parse_replay,
    parse_send_click,
    parse_send_command,
    parse_send_message,
    parse_since,
)
from jeeves.emulators.slack.domain.deliveries import Delivery
from jeeves.emulators.slack.domain.faults import FaultSpecError
from jeeves.emulators.slack.domain.messages import SOURCES, Source
from jeeves.emulators.slack.domain.web_api import ParamError
from jeeves.emulators.slack.emulator import (
    Emulator,
    NotConfigured,
    Sent,
    UnknownEvent,
    UnknownTeam,
    emulator_of,
)
from jeeves.emulators.slack.settings import parse_delays
from jeeves.kit.errors import APIError

blueprint = Blueprint("slack_control", __name__, url_prefix="/_emulator")
T = TypeVar("T")
MAX_WAIT_S = 120.0


async def _body() -> Any:
    body = await request.get_json(silent=True, force=True)
    if body is None and (await request.get_data()):
        raise APIError(400, "bad_request", "the body must be JSON")
    return body if body is not None else {}


async def body_object() -> dict[str, Any]:
    """The JSON object in the request body (an empty body is `{}`); 422 for anything else."""
    body = await _body()
    if not isinstance(body, dict):
        raise APIError(422, "validation_failed", "'body' must be a JSON object")
    return body


def _parsed(parse: Callable[[], T]) -> T:
    try:
        return parse()
    except (ControlError, FaultSpecError) as exc:
        raise APIError(422, "validation_failed", str(exc)) from None


def _send(action: Callable[[], T]) -> T:
    try:
        return action()
    except NotConfigured as exc:
        raise APIError(409, "no_gateway", str(exc)) from None
    except UnknownEvent as exc:
        raise APIError(404, "unknown_event", f"no event {exc} was sent") from None
    except ParamError as exc:
        raise APIError(404, exc.error, "that channel is not one of the configured ones") from None
    except UnknownTeam as exc:
        raise APIError(404, "team_not_found", f"no workspace {exc} in the emulator") from None


def challenge_echoed(delivery: Delivery, challenge: str) -> bool:
    """Slack accepts the challenge as plain text, or as JSON `{"challenge": …}`."""
    attempt = delivery.response()
    if attempt is None or attempt.status != 200 or attempt.body is None:
        return False
    if attempt.body.strip() == challenge:
        return True
    try:
        answer = json.loads(attempt.body)
    except ValueError:
        return False
    return isinstance(answer, dict) and answer.get("challenge") == challenge


def _wait_budget(emulator: Emulator) -> float:
    config = emulator.config
    return min(MAX_WAIT_S, config.ack_timeout_s * 4 + sum(config.retry_delays_s) * 3 + 5)


async def _wait(delivery: Delivery, seconds: float) -> None:
    try:
        await asyncio.wait_for(delivery.finished.wait(), seconds)
    except TimeoutError:
        raise APIError(504, "still_delivering", f"delivery {delivery.id} not settled") from None


async def _answer(sent: Sent, wait: bool) -> Response:
    emulator = emulator_of()
    if wait:
        await _wait(sent.delivery, _wait_budget(emulator))
    response = jsonify(sent.to_json())
    response.status_code = 200 if wait else 202
    return response


@blueprint.get("/info")
async def info() -> Response:
    return jsonify(emulator_of().info())


@blueprint.put("/config")
async def configure() -> Response:
    emulator = emulator_of()
    body = await _body()
    if not isinstance(body, dict):
        raise APIError(422, "validation_failed", "'body' must be a JSON object")
    config = emulator.config
    if "gateway_url" in body:
        url = body["gateway_url"]
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise APIError(422, "validation_failed", "'gateway_url' must be an http(s) URL")
        config.gateway_url = url.rstrip("/")
    if "ack_timeout_s" in body:
        value = body["ack_timeout_s"]
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 60:
            raise APIError(422, "validation_failed", "'ack_timeout_s' must be in (0, 60]")
        config.ack_timeout_s = float(value)
    if "token_rotation" in body:
        if not isinstance(body["token_rotation"], bool):
            raise APIError(422, "validation_failed", "'token_rotation' must be true or false")
        emulator.workspaces.rotation = body["token_rotation"]
    if "token_ttl_s" in body:
        ttl = body["token_ttl_s"]
        if isinstance(ttl, bool) or not isinstance(ttl, int | float) or not ttl > 0:
            raise APIError(422, "validation_failed", "'token_ttl_s' must be seconds > 0")
        emulator.workspaces.token_ttl_s = float(ttl)
    if "delivery" in body:
        if body["delivery"] not in MODES:
            raise APIError(422, "validation_failed", "'delivery' must be http or socket")
        config.mode = body["delivery"]
    if "echo_bot_messages" in body:
        if not isinstance(body["echo_bot_messages"], bool):
            raise APIError(422, "validation_failed", "'echo_bot_messages' must be true or false")
        config.echo_bot_messages = body["echo_bot_messages"]
    if "usergroups" in body:
        groups = body["usergroups"]
        if not isinstance(groups, dict) or not all(
            isinstance(k, str) and isinstance(v, list) and all(isinstance(u, str) for u in v)
            for k, v in groups.items()
        ):
            raise APIError(422, "validation_failed", "'usergroups' must map group ids to user ids")
        emulator.web_api.usergroups = {k: list(v) for k, v in groups.items()}
    if "retry_delays_s" in body:
        value = body["retry_delays_s"]
        text = ",".join(str(v) for v in value) if isinstance(value, list) else str(value)
        try:
            config.retry_delays_s = parse_delays(text)
        except ValueError as exc:
            raise APIError(422, "validation_failed", f"'retry_delays_s' {exc}") from None
    return jsonify(emulator.info())


@blueprint.post("/send/message")
async def send_message() -> Response:
    emulator = emulator_of()
    body = await _body()
    parsed = _parsed(
        lambda: parse_send_message(
            body,
            default_channel=emulator.default_channel(),
            default_user=emulator.default_user,
        )
    )
    return await _answer(_send(lambda: emulator.send_message(parsed)), parsed.wait)


@blueprint.post("/send/mention")
async def send_mention() -> Response:
    emulator = emulator_of()
    body = await _body()
    parsed = _parsed(
        lambda: parse_send_message(
            body,
            default_channel=emulator.default_channel(),
            default_user=emulator.default_user,
            event="app_mention",
        )
    )
    try:
        bot = emulator.team(parsed.team).bot_user_id
    except UnknownTeam:
        raise APIError(
            404, "team_not_found", f"no workspace {parsed.team} in the emulator"
        ) from None
    mention = f"<@{bot}>"
    if mention not in parsed.text:
        parsed = replace(parsed, text=f"{mention} {parsed.text}")
    return await _answer(_send(lambda: emulator.send_message(parsed)), parsed.wait)


@blueprint.post("/send/command")
async def send_command() -> Response:
    emulator = emulator_of()
    body = await _body()
    parsed = _parsed(
        lambda: parse_send_command(
            body, default_channel=emulator.default_channel(), default_user=emulator.default_user
        )
    )
    return await _answer(_send(lambda: emulator.send_command(parsed)), parsed.wait)


@blueprint.post("/send/click")
async def send_click() -> Response:
    emulator = emulator_of()
    body = await _body()
    parsed = _parsed(
        lambda: parse_send_click(
            body, default_channel=emulator.default_channel(), default_user=emulator.default_user
        )
    )
    return await _answer(_send(lambda: emulator.send_click(parsed)), parsed.wait)


@blueprint.post("/send/url_verification")
async def send_url_verification() -> Response:
    """Slack's handshake; answers whether the gateway echoed the challenge back."""
    emulator = emulator_of()
    body = await _body()
    challenge = body.get("challenge") if isinstance(body, dict) else None
    if challenge is None:
        challenge = secrets.token_urlsafe(24)
    if not isinstance(challenge, str) or not challenge:
        raise APIError(422, "validation_failed", "'challenge' must be a non-empty string")
    sent = _send(lambda: emulator.send_url_verification(challenge))
    await _wait(sent.delivery, _wait_budget(emulator))
    return jsonify(
        {
            "challenge": challenge,
            "verified": challenge_echoed(sent.delivery, challenge),
            "delivery": sent.delivery.to_json(),
        }
    )


@blueprint.post("/replay")
async def replay() -> Response:
    emulator = emulator_of()
    body = await _body()
    parsed = _parsed(lambda: parse_replay(body))
    return await _answer(_send(lambda: emulator.replay(parsed)), parsed.wait)


def _sources(value: str | None) -> tuple[Source, ...]:
    if not value:
        return ("api", "response_url")
    if value == "all":
        return SOURCES
    chosen = tuple(s for s in SOURCES if s in value.split(","))
    if not chosen:
        raise APIError(422, "validation_failed", "'source' must be api, user, response_url or all")
    return chosen


@blueprint.get("/messages")
async def messages() -> Response:
    emulator = emulator_of()
    since = _parsed(lambda: parse_since(request.args.get("since")))
    found = emulator.messages.select(
        channel=request.args.get("channel") or None,
        since=since,
        sources=_sources(request.args.get("source")),
        thread_ts=request.args.get("thread_ts") or None,
    )
    return jsonify({"messages": [m.to_json() for m in found]})


@blueprint.get("/calls")
async def calls() -> Response:
    found = emulator_of().calls.select(
        method=request.args.get("method") or None, channel=request.args.get("channel") or None
    )
    return jsonify({"calls": [c.to_json() for c in found]})


@blueprint.get("/deliveries")
async def deliveries() -> Response:
    found = emulator_of().deliveries.select(
        event_id=request.args.get("event_id") or None,
        kind=request.args.get("kind") or None,
        channel=request.args.get("channel") or None,
    )
    return jsonify({"deliveries": [d.to_json() for d in found]})


@blueprint.get("/deliveries/<delivery_id>")
async def delivery(delivery_id: str) -> Response:
    emulator = emulator_of()
    found = emulator.deliveries.get(delivery_id)
    if found is None:
        raise APIError(404, "not_found", f"no delivery {delivery_id}")
    wait = request.args.get("wait")
    if wait:
        try:
            seconds = min(MAX_WAIT_S, float(wait))
        except ValueError:
            raise APIError(422, "validation_failed", "'wait' must be seconds") from None
        await _wait(found, seconds)
    return jsonify(found.to_json())


@blueprint.post("/faults")
async def add_fault() -> Response:
    emulator = emulator_of()
    body = await _body()
    if not isinstance(body, dict):
        raise APIError(422, "validation_failed", "'body' must be a JSON object")
    fault = _parsed(lambda: emulator.faults.add(body))
    response = jsonify(next(f for f in emulator.faults.to_json() if f["id"] == fault.id))
    response.status_code = 201
    return response


@blueprint.get("/faults")
async def list_faults() -> Response:
    return jsonify({"faults": emulator_of().faults.to_json()})


@blueprint.delete("/faults")
async def clear_faults() -> Response:
    emulator_of().faults.clear()
    return jsonify({"faults": []})


@blueprint.delete("/faults/<fault_id>")
async def remove_fault(fault_id: str) -> Response:
    if not emulator_of().faults.remove(fault_id):
        raise APIError(404, "not_found", f"no fault {fault_id}")
    return jsonify({"removed": fault_id})


@blueprint.post("/reset")
async def reset() -> Response:
    emulator_of().reset()
    return jsonify({"reset": True})


@blueprint.post("/response_urls")
async def issue_response_url() -> Response:
    """`{"channel", "user"?, "message_ts"?}` → 201 `{"response_url"}`: a hook like the one a
    command (or a click on `message_ts`) carries, for tests that drive the app directly."""
    emulator = emulator_of()
    body = await _body()
    if not isinstance(body, dict):
        raise APIError(422, "validation_failed", "'body' must be a JSON object")
    fields = {name: body.get(name) for name in ("channel", "user", "message_ts")}
    for name, value in fields.items():
        if value is not None and (not isinstance(value, str) or not value):
            raise APIError(422, "validation_failed", f"'{name}' must be a non-empty string")
    if fields["channel"] is None:
        raise APIError(422, "validation_failed", "'channel' is required")
    try:
        url = emulator.issue_response_url(
            str(fields["channel"]),
            str(fields["user"] or emulator.default_user),
            fields["message_ts"],
        )
    except ParamError as exc:
        raise APIError(404, exc.error, "that channel is not one of the configured ones") from None
    response = jsonify({"response_url": url})
    response.status_code = 201
    return response


@blueprint.post("/hooks/<hook_id>")
async def hook(hook_id: str) -> Response:
    """A `response_url`: the app answers a command or a click here."""
    answer = emulator_of().respond(hook_id, await request.get_json(silent=True, force=True))
    if answer.delay_s:
        await asyncio.sleep(answer.delay_s)  # done already (a `slow` fault): only the answer waits
    response = jsonify(answer.body)
    response.status_code = answer.status
    response.headers.update(dict(answer.headers))
    return response
