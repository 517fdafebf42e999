"""Parameter types and the conversion of what a user typed into a typed value (pure).

| type | typed as | value the action gets | JSON Schema |
|---|---|---|---|
| string | a word or a "quoted phrase"; when it ends the format: the rest | str | string |
| int | `42`, `-3` (with optional minimum/maximum) | int | integer |
| enum | one of `choices`, any case | the choice as declared | string + enum |
| user | a mention (`@alice`, which Slack sends as `<@U123>`) or a user id | `"U123"` | string |
| channel | a channel link (`#general`, sent as `<#C123>`) or a channel id | `"C123"` | string |
| duration | `30s`, `5m`, `1h30m`, `2d`, `1w` (one word) | seconds, int | integer |
| time | a time of day: `7:30`, `07:30`, `19:05`, `7am`, `7:30pm` | `"HH:MM"` | string |

A value that does not convert raises `BadValue` with the sentence the user reads, naming the
parameter: "`env` must be one of staging, prod".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

Value = str | int
MAX_STRING = 500
_TRAILING = "?!.,;"
_INT = re.compile(r"^[+-]?\d{1,18}$")
_USER = re.compile(r"^(?:<@([UW][A-Z0-9]{2,30})(?:\|[^<>]*)?>|([UW][A-Z0-9]{2,30}))$")
_CHANNEL = re.compile(r"^(?:<#([CGD][A-Z0-9]{2,30})(?:\|[^<>]*)?>|([CGD][A-Z0-9]{2,30}))$")
_DURATION_PART = re.compile(
    r"(\d{1,6})(s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?|d|days?|w|weeks?)",
    re.IGNORECASE,
)
_DURATION = re.compile(rf"^(?:{_DURATION_PART.pattern})+$", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_TIME = re.compile(r"^(\d{1,2})(?:[:.h](\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)?$", re.IGNORECASE)


class ParamType(StrEnum):
    STRING = "string"
    INT = "int"
    ENUM = "enum"
    USER = "user"
    CHANNEL = "channel"
    DURATION = "duration"
    TIME = "time"


@dataclass(frozen=True)
class Param:
    """One typed parameter of a command."""

    name: str
    type: ParamType = ParamType.STRING
    description: str = ""
    choices: tuple[str, ...] = ()  # enum only
    minimum: int | None = None  # int, and duration in seconds
    maximum: int | None = None
    secret: bool = False  # masked in the audit log
    optional: bool = False
    default: Value | None = None  # the value when optional and not given


class BadValue(ValueError):
    """What the user typed is not a value of the parameter's type (the message says why)."""


def _strip(token: str) -> str:
    return token.rstrip(_TRAILING) or token


def _bounded(param: Param, number: int, shown: str) -> int:
    if param.minimum is not None and number < param.minimum:
        low = param.minimum if param.type is ParamType.INT else describe_seconds(param.minimum)
        raise BadValue(f"`{param.name}` must be at least {low}, not `{shown}`")
    if param.maximum is not None and number > param.maximum:
        high = param.maximum if param.type is ParamType.INT else describe_seconds(param.maximum)
        raise BadValue(f"`{param.name}` must be at most {high}, not `{shown}`")
    return number


def parse_duration(text: str) -> int | None:
    """Seconds in `1h30m`, `90s`, `2d` (None when it is not a duration)."""
    compact = text.replace(" ", "")
    if not _DURATION.match(compact):
        return None
    return sum(
        int(amount) * _UNIT_SECONDS[unit[0].lower()]
        for amount, unit in _DURATION_PART.findall(compact)
    )


def describe_seconds(seconds: int) -> str:
    """90 → `1m30s`, 3600 → `1h` (the inverse of parse_duration, shortest form)."""
    if seconds == 0:
        return "0s"
    parts = []
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        amount, seconds = divmod(seconds, size)
        if amount:
            parts.append(f"{amount}{unit}")
    return "".join(parts)


def parse_time(text: str) -> str | None:
    """`7:30`, `19.05`, `7am`, `7:30 pm` → `"HH:MM"` (None when it is not a time of day)."""
    match = _TIME.match(text.strip())
    if match is None:
        return None
    hour, minute = int(match[1]), int(match[2] or 0)
    meridiem = (match[3] or "").lower().replace(".", "")
    if meridiem:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if meridiem == "pm" else 0)
    elif match[2] is None:
        return None  # a bare number is not a time
    if hour > 23 or minute > 59:
        return None
    return f"{hour:02d}:{minute:02d}"


def convert(param: Param, token: str) -> Value:
    """The typed value of `token` for `param`; BadValue naming the parameter otherwise."""
    name = param.name
    if param.type is ParamType.STRING:
        value = token.strip()
        if not value:
            raise BadValue(f"`{name}` must not be empty")
        if len(value) > MAX_STRING:
            raise BadValue(f"`{name}` must be at most {MAX_STRING} characters")
        return value
    word = _strip(token.strip())
    if param.type is ParamType.INT:
        if not _INT.match(word):
            raise BadValue(f"`{name}` must be a whole number, not `{word}`")
        return _bounded(param, int(word), word)
    if param.type is ParamType.ENUM:
        for choice in param.choices:
            if word.lower() == choice.lower():
                return choice
        raise BadValue(f"`{name}` must be one of {', '.join(param.choices)}")
    if param.type is ParamType.USER:
        found = _USER.match(word)
        if found is None:
            raise BadValue(f"`{name}` must be a Slack user: mention them, like @alice")
        return found[1] or found[2]
    if param.type is ParamType.CHANNEL:
        found = _CHANNEL.match(word)
        if found is None:
            raise BadValue(f"`{name}` must be a channel: link it, like #general")
        return found[1] or found[2]
    if param.type is ParamType.DURATION:
        seconds = parse_duration(word)
        if seconds is None:
            raise BadValue(f"`{name}` must be a duration like 30s, 5m, 1h30m or 2d")
        return _bounded(param, seconds, word)
    time_of_day = parse_time(word)
    if time_of_day is None:
        raise BadValue(f"`{name}` must be a time of day like 7:30, 19:05 or 7:30pm")
    return time_of_day


def json_schema(param: Param) -> dict[str, Any]:
    """The JSON Schema of the value an action receives for `param`."""
    schema: dict[str, Any]
    if param.type is ParamType.INT:
        schema = {"type": "integer"}
        if param.minimum is not None:
            schema["minimum"] = param.minimum
        if param.maximum is not None:
            schema["maximum"] = param.maximum
    elif param.type is ParamType.DURATION:
        schema = {"type": "integer", "minimum": max(0, param.minimum or 0)}
        if param.maximum is not None:
            schema["maximum"] = param.maximum
        schema["x-jeeves-unit"] = "seconds"
    elif param.type is ParamType.ENUM:
        schema = {"type": "string", "enum": list(param.choices)}
    elif param.type is ParamType.USER:
        schema = {"type": "string", "pattern": "^[UW][A-Z0-9]{2,30}$"}
    elif param.type is ParamType.CHANNEL:
        schema = {"type": "string", "pattern": "^[CGD][A-Z0-9]{2,30}$"}
    elif param.type is ParamType.TIME:
        schema = {"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$"}
    else:
        schema = {"type": "string", "minLength": 1, "maxLength": MAX_STRING}
    schema["x-jeeves-type"] = param.type.value
    if param.description:
        schema["description"] = param.description
    if param.optional and param.default is not None:
        schema["default"] = param.default
    if param.secret:
        schema["writeOnly"] = True
    return schema
