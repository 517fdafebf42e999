"""What the memory action understands and how it answers: pure functions, no I/O.

Commands (case-insensitive, with or without the leading keyword):
"remember my location is Porto", "my timezone is Europe/Lisbon", "I live in São Paulo",
"forget my location", "what do you know about me", "forget everything" (answered with a
confirmation button), and the button clicks, which arrive as their `value`
("forget_all:confirm:<slack id>:<issued epoch>" or "forget_all:cancel").

Replies are Slack mrkdwn: every fact (key or value) the user gave is escaped with the SDK's
`escape_mrkdwn` where it is shown, so a remembered `<!channel>` pings no one.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from jeeves.kit.action_app import escape_mrkdwn

MAX_VALUE = 200
CONFIRM_PREFIX = "forget_all:confirm:"
CANCEL_VALUE = "forget_all:cancel"
CONFIRM_ACTION_ID = "memory:forget_all:confirm"
CANCEL_ACTION_ID = "memory:forget_all:cancel"
KEY_ALIASES = {
    "location": "location",
    "city": "location",
    "home": "location",
    "home town": "location",
    "timezone": "timezone",
    "time zone": "timezone",
    "tz": "timezone",
    "units": "units",
    "unit system": "units",
    "unit": "units",
}
UNIT_ALIASES = {
    "metric": "metric",
    "celsius": "metric",
    "si": "metric",
    "imperial": "imperial",
    "fahrenheit": "imperial",
    "us": "imperial",
}


@dataclass(frozen=True)
class Remember:
    key: str
    value: str


@dataclass(frozen=True)
class Forget:
    key: str


@dataclass(frozen=True)
class ForgetAll:
    """Ask for confirmation before deleting everything."""


@dataclass(frozen=True)
class ConfirmForgetAll:
    slack_id: str
    issued_at: int


@dataclass(frozen=True)
class Cancel:
    pass


@dataclass(frozen=True)
class ListFacts:
    pass


@dataclass(frozen=True)
class Help:
    pass


Command = Remember | Forget | ForgetAll | ConfirmForgetAll | Cancel | ListFacts | Help


class InvalidFact(ValueError):
    """A fact the user gave that cannot be kept; the message is shown to them."""


_LEAD = re.compile(r"^\s*(?:<@[^>]+>\s*)?(?:please\s+)?", re.IGNORECASE)
_REMEMBER = re.compile(
    r"^(?:remember\s+)?(?:that\s+)?my\s+(?P<key>[a-z][a-z ]{0,30}?)"
    r"\s+(?:is|are|=|:)\s+(?P<value>.+)$",
    re.IGNORECASE | re.DOTALL,
)
_LIVE = re.compile(
    r"^(?:remember\s+)?(?:that\s+)?i\s+(?:live|am|'m|\u2019m)\s+in\s+(?P<value>.+)$",
    re.IGNORECASE | re.DOTALL,
)
_USE_UNITS = re.compile(
    r"^(?:remember\s+)?(?:that\s+)?i\s+(?:use|prefer)\s+(?P<value>[a-z]+)(?:\s+units)?$",
    re.IGNORECASE,
)
_FORGET_ALL = re.compile(r"^forget\s+(?:everything|all|me|about\s+me)$", re.IGNORECASE)
_FORGET = re.compile(r"^forget\s+(?:my\s+)?(?P<key>[a-z][a-z ]{0,30})$", re.IGNORECASE)
_LIST = re.compile(
    r"^(?:what\s+do\s+you\s+(?:know|remember)(?:\s+about\s+me)?|my\s+facts|remember"
    r"|recall(?:\s+(?:me|everything|all))?)$",
    re.IGNORECASE,
)
_CONFIRM = re.compile(r"^forget_all:confirm:(?P<user>[A-Za-z0-9_.-]{1,64}):(?P<at>\d{1,12})$")


def _clean(text: str) -> str:
    return " ".join(_LEAD.sub("", text).split()).rstrip("?!. ")


def parse_command(text: str) -> Command:
    """The command in `text` (the full message, or a button value)."""
    raw = text.strip()
    if raw == CANCEL_VALUE:
        return Cancel()
    confirm = _CONFIRM.match(raw)
    if confirm:
        return ConfirmForgetAll(confirm["user"], int(confirm["at"]))
    clean = _clean(raw)
    if _LIST.match(clean):
        return ListFacts()
    if _FORGET_ALL.match(clean):
        return ForgetAll()
    if match := _FORGET.match(clean):
        return Forget(fact_key(match["key"]))
    if match := _LIVE.match(clean):
        return Remember("location", match["value"].strip())
    if match := _USE_UNITS.match(clean):
        return Remember("units", match["value"].strip())
    if match := _REMEMBER.match(clean):
        return Remember(fact_key(match["key"]), match["value"].strip())
    return Help()


def fact_key(words: str) -> str:
    """ "time zone" → "timezone"; unknown words become a snake_case key ("favourite colour")."""
    spoken = " ".join(words.lower().split())
    return KEY_ALIASES.get(spoken, spoken.replace(" ", "_")[:40])


@cache
def _zones_by_folded_name() -> dict[str, str]:
    return {name.lower(): name for name in zoneinfo.available_timezones()}


def normalise_fact(key: str, value: str) -> str:
    """The value to store for `key`, or InvalidFact with a message for the user."""
    value = value.strip().strip("\"'“”")
    if not value:
        raise InvalidFact(f"What should I remember as your {key}?")
    if len(value) > MAX_VALUE:
        raise InvalidFact(f"That's too long to remember (at most {MAX_VALUE} characters).")
    if key == "timezone":
        zone = _zones_by_folded_name().get(value.lower().replace(" ", "_"))
        if zone is None:
            raise InvalidFact(
                f"“{escape_mrkdwn(value)}” is not a time zone I know. "
                "Use an IANA name like `Europe/Lisbon`."
            )
        return zone
    if key == "units":
        units = UNIT_ALIASES.get(value.lower())
        if units is None:
            raise InvalidFact("Units can be `metric` or `imperial`.")
        return units
    return value


def confirm_value(slack_id: str, now: int) -> str:
    return f"{CONFIRM_PREFIX}{slack_id}:{now}"


def confirmation_state(command: ConfirmForgetAll, slack_id: str, now: int, ttl_s: int) -> str:
    """ "ok", "other_user" or "expired" for a click on the forget-everything button."""
    if command.slack_id != slack_id:
        return "other_user"
    if not 0 <= now - command.issued_at <= ttl_s:
        return "expired"
    return "ok"


# Replies ------------------------------------------------------------------------------------

USAGE = (
    "I can remember things about you:\n"
    "• `remember my location is Porto`\n"
    "• `my timezone is Europe/Lisbon` · `my units are imperial`\n"
    "• `what do you know about me`\n"
    "• `forget my location` · `forget everything`"
)


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def reply(text: str, blocks: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"text": text, "blocks": blocks if blocks is not None else [_section(text)]}


def _label(key: str) -> str:
    """A fact key as words, ready for mrkdwn ("home_town" → "home town")."""
    return escape_mrkdwn(key.replace("_", " "))


def remembered(key: str, value: str) -> dict[str, Any]:
    hint = " I'll use it for `weather`." if key in ("location", "units") else ""
    return reply(f"Got it: your {_label(key)} is {escape_mrkdwn(value)}.{hint}")


def forgot(key: str, existed: bool) -> dict[str, Any]:
    label = _label(key)
    if existed:
        return reply(f"OK, I forgot your {label}.")
    return reply(f"I didn't know your {label}, so there was nothing to forget.")


def known_facts(facts: Mapping[str, str]) -> dict[str, Any]:
    if not facts:
        return reply("I don't know anything about you yet. Try `remember my location is Porto`.")
    lines = "\n".join(f"• *{_label(k)}*: {escape_mrkdwn(v)}" for k, v in sorted(facts.items()))
    text = f"Here's what I know about you:\n{lines}"
    hint = "Say `forget my <fact>` or `forget everything`."
    blocks = [
        _section(text),
        {"type": "context", "elements": [{"type": "mrkdwn", "text": hint}]},
    ]
    return reply(text, blocks)


def ask_forget_all(slack_id: str, now: int) -> dict[str, Any]:
    """The confirmation message with "Forget everything" / "Cancel" buttons."""
    text = (
        "This deletes everything I hold about you: your facts, connected services and "
        "history. Are you sure?"
    )
    buttons = {
        "type": "actions",
        "block_id": "memory_forget_all",
        "elements": [
            {
                "type": "button",
                "action_id": CONFIRM_ACTION_ID,
                "text": {"type": "plain_text", "text": "Forget everything"},
                "style": "danger",
                "value": confirm_value(slack_id, now),
            },
            {
                "type": "button",
                "action_id": CANCEL_ACTION_ID,
                "text": {"type": "plain_text", "text": "Cancel"},
                "value": CANCEL_VALUE,
            },
        ],
    }
    return reply(text, [_section(text), buttons])


CONFIRM_ANSWERS = {
    "ok": "Done: I've forgotten everything about you.",
    "nothing": "Done: I didn't hold anything about you.",
    "other_user": "That button belongs to someone else; say `forget everything` yourself.",
    "expired": "That button has expired. Say `forget everything` again if you still want it.",
}
CANCELLED = "OK, I'll keep what I know."
DATA_DOWN = "My memory is unavailable right now. Please try again in a minute."
