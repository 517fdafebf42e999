"""The weather action's handler for `POST /v1/act` (served by the action SDK).

Its collaborators (the Open-Meteo service and the data client) live in the app's kit extras,
put there by `app.build_app`.
"""

from __future__ import annotations

from dataclasses import dataclass

from jeeves.actions.weather.domain import WeatherService
from jeeves.actions.weather.formatting import plain
from jeeves.actions.weather.parsing import parse_query
from jeeves.kit.action_app import ActionRequest, Later, Reply
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
