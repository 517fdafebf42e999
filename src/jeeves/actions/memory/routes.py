"""The memory action's handler for `POST /v1/act`: runs a parsed command against the data
service. Data service outages answer 503, so the dispatcher retries the (idempotent) call.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from jeeves.actions.memory.domain import (
    CANCELLED,
    CONFIRM_ANSWERS,
    DATA_DOWN,
    USAGE,
    Cancel,
    Command,
    ConfirmForgetAll,
    Forget,
    ForgetAll,
    Help,
    InvalidFact,
    ListFacts,
    Remember,
    ask_forget_all,
    confirmation_state,
    forgot,
    known_facts,
    normalise_fact,
    parse_command,
    remembered,
    reply,
)
from jeeves.kit.action_app import (
    ActionError,
    ActionRequest,
    ActionUser,
    Later,
    Reply,
    escape_mrkdwn,
)
from jeeves.kit.app import kit
from jeeves.kit.data_client import DataClient, DataRejected, DataUnavailable
from jeeves.kit.logging import get_logger

log = get_logger(__name__)
DEPS_KEY = "memory"


@dataclass(frozen=True)
class Deps:
    data: DataClient
    confirm_ttl_s: int


def deps() -> Deps:
    value = kit().extras[DEPS_KEY]
    assert isinstance(value, Deps)
    return value


def command_of(request: ActionRequest) -> Command:
    """The dispatcher sends the words after the keyword as `text` and the whole message as
    `args.message`; a button click comes as its `value` with `args.interaction`. Only a click
    can confirm "forget everything"."""
    clicked = isinstance(request.args.get("interaction"), dict)
    message = request.args.get("message")
    spoken = message if isinstance(message, str) and message.strip() else request.text
    command = parse_command(request.text if clicked else spoken)
    if isinstance(command, ConfirmForgetAll | Cancel) and not clicked:
        return Help()
    return command


async def act(request: ActionRequest) -> Reply | Later:
    command = command_of(request)
    log.debug("memory_command", command=type(command).__name__)
    try:
        answer = await run(command, request.user, deps(), int(time.time()))
    except DataUnavailable as exc:
        log.warning("memory_data_unavailable", error=str(exc))
        raise ActionError(503, DATA_DOWN) from None
    return Reply(text=answer["text"], blocks=answer["blocks"])


async def run(command: Command, user: ActionUser, deps: Deps, now: int) -> dict[str, Any]:
    data, team, slack = deps.data, user.team_id, user.slack_id
    match command:
        case Remember(key=key, value=value):
            return await _remember(data, team, slack, key, value)
        case Forget(key=key):
            return forgot(key, await data.delete_fact(team, slack, key))
        case ListFacts():
            return known_facts(await data.facts(team, slack))
        case ForgetAll():
            return ask_forget_all(slack, now)
        case ConfirmForgetAll():
            state = confirmation_state(command, slack, now, deps.confirm_ttl_s)
            if state == "ok" and not await data.delete_user(team, slack):
                state = "nothing"
            return reply(CONFIRM_ANSWERS[state])
        case Cancel():
            return reply(CANCELLED)
        case Help():
            return reply(USAGE)
    raise AssertionError("unreachable")  # pragma: no cover


async def _remember(
    data: DataClient, team: str, slack: str, key: str, value: str
) -> dict[str, Any]:
    try:
        stored = await data.set_fact(team, slack, key, normalise_fact(key, value))
    except InvalidFact as exc:
        return reply(str(exc))
    except DataRejected as exc:
        if exc.field == "key":
            return reply("I can only remember simple fact names, like `location` or `timezone`.")
        return reply(f"I couldn't remember that: {escape_mrkdwn(exc.message)}")
    return remembered(key, stored)
