"""The client registry: who may ask for tokens, for which audiences and scopes.

Read from a JSON document (a mounted file or a setting):

    {"clients": {"dispatcher": {"secret_hash": "scrypt$...", "audiences": ["*"],
                                "scopes": ["act"]}}}

`audiences` are shell-style patterns (`*`, `action-*`); `scopes` is the exact set a client may
request. Parsing is strict and names the client and field that are wrong.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jeeves.tokens.domain.secrets import SecretHash

CLIENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
SCOPE = re.compile(r"^[\x21\x23-\x5b\x5d-\x7e]{1,64}$")  # RFC 6749 §3.3 scope-token
AUDIENCE = re.compile(r"^[A-Za-z0-9*?._:/-]{1,128}$")


@dataclass(frozen=True)
class Client:
    """One registered client."""

    client_id: str
    secret_hash: SecretHash
    audiences: tuple[str, ...]
    scopes: frozenset[str]

    def allows_audience(self, audience: str) -> bool:
        return any(fnmatch.fnmatchcase(audience, pattern) for pattern in self.audiences)


def parse_clients(raw: str | bytes | Mapping[str, Any]) -> dict[str, Client]:
    """Parse the registry document; raises ValueError naming the offending client/field."""
    try:
        data = json.loads(raw) if isinstance(raw, str | bytes) else dict(raw)
    except json.JSONDecodeError as exc:
        raise ValueError(f"clients: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(data, dict) or not isinstance(data.get("clients"), dict):
        raise ValueError('clients: expected an object {"clients": {"<id>": {...}}}')
    return {cid: _parse_client(cid, entry) for cid, entry in data["clients"].items()}


def _parse_client(client_id: str, entry: Any) -> Client:
    where = f"client {client_id!r}"
    if not CLIENT_ID.match(client_id):
        raise ValueError(f"{where}: id must match {CLIENT_ID.pattern}")
    if not isinstance(entry, dict):
        raise ValueError(f"{where}: must be an object")
    try:
        secret_hash = SecretHash.parse(str(entry.get("secret_hash", "")))
    except ValueError as exc:
        raise ValueError(f"{where}: secret_hash: {exc}") from None
    audiences = _string_list(entry.get("audiences"), f"{where}: audiences", AUDIENCE)
    scopes = _string_list(entry.get("scopes", []), f"{where}: scopes", SCOPE, allow_empty=True)
    return Client(client_id, secret_hash, tuple(audiences), frozenset(scopes))


def _string_list(
    value: Any, where: str, pattern: re.Pattern[str], *, allow_empty: bool = False
) -> list[str]:
    if not isinstance(value, list) or (not value and not allow_empty):
        raise ValueError(f"{where}: must be a {'' if allow_empty else 'non-empty '}list")
    for item in value:
        if not isinstance(item, str) or not pattern.match(item):
            raise ValueError(f"{where}: {item!r} is not allowed (must match {pattern.pattern})")
    return list(value)
