"""The weather action's handler for `POST /v1/act` (served by the action SDK).

Its collaborators (the Open-Meteo service and the data client) live in the app's kit extras,
put there by `app.build_app`.
"""

from __future__ import annotations

from dataclasses import dataclass

from jeeves.actions.weather.alerts import (
    SUBSCRIBE,
    UNSUBSCRIBE,
    alert_reply,
    subscribed_text,
    unsubscribed_text,
)
from jeeves.actions.weather.domain import WeatherService
from jeeves.actions.weather.formatting import plain
from jeeves.actions.weather.parsing import parse_query
from jeeves.kit.action_app import ActionError, ActionRequest, Later, Reply
from jeeves.kit.app import kit
from jeeves.kit.data_client import DataClient, DataRejected, DataUnavailable
from jeeves.kit.logging import get_logger

log = get_logger(__name__)
DEPS_KEY = "weather"
NO_FACTS = (
    "I can't reach your saved location right now. Ask for a place instead: `weather in Lisbon`."
)


@dataclass(frozen=True)
class Deps:
    service: WeatherService
    data: DataClient


def deps() -> Deps:
    value = kit().extras[DEPS_KEY]
    assert isinstance(value, Deps)
    return value


async def act(request: ActionRequest) -> Reply | Later:
    command = request.args.get("command")
    if command in (SUBSCRIBE, UNSUBSCRIBE):
        return await alerts(request, str(command))
    reply = await weather(request)
    if request.args.get("alert") is True:  # the daily alert the user subscribed to
        shaped = alert_reply({"text": reply.text, "blocks": reply.blocks})
        return Reply(text=shaped["text"], blocks=shaped["blocks"])
    return reply


async def alerts(request: ActionRequest, command: str) -> Reply:
    """`weather every day at 7:30` / `stop weather alerts` (typed by the dispatcher)."""
    data, user = deps().data, request.user
    try:
        if command == UNSUBSCRIBE:
            return Reply(
                text=unsubscribed_text(
                    await data.unsubscribe(user.team_id, user.slack_id, "weather")
                )
            )
        time = str((request.args.get("params") or {}).get("time", ""))
        created = await data.subscribe(user.team_id, user.slack_id, "weather", time)
        facts = await data.facts(user.team_id, user.slack_id)
    except DataRejected as exc:
        raise ActionError(400, exc.message) from None
    except DataUnavailable:
        raise ActionError(
            503, "I can't save that right now; please try again in a minute."
        ) from None
    return Reply(text=subscribed_text(time, facts, moved=not created))


async def weather(request: ActionRequest) -> Reply:
    service, data = deps().service, deps().data
    message = request.args.get("message")  # the whole message; `text` lacks the keyword
    query = parse_query(message if isinstance(message, str) and message else request.text)
    try:
        facts = await data.facts(request.user.team_id, request.user.slack_id)
    except (DataUnavailable, DataRejected) as exc:
        log.warning("weather_facts_unavailable", error=type(exc).__name__)
        if query.place is None:
            return Reply(text=NO_FACTS, blocks=plain(NO_FACTS)["blocks"])
        facts = {}
    answer = await service.answer(query, facts)
    return Reply(text=answer["text"], blocks=answer["blocks"])
