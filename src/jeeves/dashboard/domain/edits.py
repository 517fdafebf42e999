"""Admin edits checked before they are written: feature flag bodies and names.

A flag written from the dashboard has exactly the shape every service parses
(`jeeves.kit.flags.FlagSpec`): `{"enabled": bool, "percent": 0-100, "allow": [Slack ids]}`.
"""

from __future__ import annotations

import re
from typing import Any

from jeeves.kit.flags import FlagSpec

FLAG_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
SLACK_USER = re.compile(r"^[UW][A-Z0-9]{2,30}$")


class EditRefused(ValueError):
    """The edit is malformed; the message names the field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


def check_flag_name(name: str) -> str:
    if not FLAG_NAME.match(name):
        raise EditRefused("name", "use lower-case letters, digits, '-', '_' or '.' (max 64)")
    return name


def flag_from_body(name: str, body: Any) -> FlagSpec:
    """The flag an admin asked for; EditRefused naming the first wrong field."""
    check_flag_name(name)
    if not isinstance(body, dict):
        raise EditRefused("body", "must be a JSON object")
    unknown = set(body) - {"enabled", "percent", "allow"}
    if unknown:
        raise EditRefused(sorted(unknown)[0], "is not a flag field")
    allow = body.get("allow", [])
    if isinstance(allow, list):
        bad = [u for u in allow if not isinstance(u, str) or not SLACK_USER.match(u)]
        if bad:
            raise EditRefused("allow", f"{str(bad[0])[:40]!r} is not a Slack user id")
    try:
        return FlagSpec.from_json(name, body)
    except ValueError as exc:
        field = next((f for f in ("enabled", "percent", "allow") if f"'{f}'" in str(exc)), "body")
        raise EditRefused(field, str(exc).split(": ", 1)[-1]) from None
