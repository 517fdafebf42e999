"""Sessions and CSRF, as pure rules: secrets, their stored hashes, expiry, the CSRF check.

A session id is 32 random bytes (base64url) held only by the browser, in an HttpOnly cookie;
the server stores its SHA-256, so a leaked sessions table opens no session. A session ends
when idle longer than the idle timeout or older than the absolute timeout, whichever is first.
Every state-changing request carries the session's CSRF token in `X-CSRF-Token` (the frontend
reads it from `GET /api/session`); a cross-site page can neither read it nor set that header.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

SESSION_COOKIE = "__Host-jeeves_session"
LOGIN_COOKIE = "__Host-jeeves_login"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
TOUCH_EVERY = timedelta(seconds=30)  # last_seen is written at most this often per session


def new_secret() -> str:
    """32 random bytes, base64url: a session id, a CSRF token, a state, a nonce."""
    return secrets.token_urlsafe(32)


def digest(secret: str) -> bytes:
    """What the server stores instead of a secret the browser holds."""
    return hashlib.sha256(secret.encode()).digest()


def same_secret(given: str | None, expected: str) -> bool:
    """Constant-time comparison; a missing value never matches."""
    return bool(given) and hmac.compare_digest(str(given).encode(), expected.encode())


@dataclass(frozen=True)
class Person:
    """Who signed in, from Slack's verified id_token."""

    user_id: str
    team_id: str
    name: str
    is_admin: bool

    def to_json(self) -> dict[str, object]:
        return {
            "user_id": self.user_id,
            "team_id": self.team_id,
            "name": self.name,
            "is_admin": self.is_admin,
        }


@dataclass(frozen=True)
class Session:
    """A stored session (without its id, which only the browser has)."""

    person: Person
    csrf_token: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime  # the absolute end


@dataclass(frozen=True)
class Timeouts:
    idle: timedelta
    absolute: timedelta


def expired(session: Session, now: datetime, timeouts: Timeouts) -> str | None:
    """Why the session is over (`idle`, `absolute`), or None while it is valid."""
    if now >= session.expires_at or now - session.created_at >= timeouts.absolute:
        return "absolute"
    if now - session.last_seen_at >= timeouts.idle:
        return "idle"
    return None


def needs_touch(session: Session, now: datetime) -> bool:
    """Whether to write `last_seen_at` now (not on every request)."""
    return now - session.last_seen_at >= TOUCH_EVERY


def csrf_problem(
    method: str, header: str | None, origin: str | None, session: Session, public_origin: str
) -> str | None:
    """Why a request must be refused as possible CSRF, or None when it may proceed.

    Safe methods pass. Others need the session's token in the header; an `Origin` header, when
    the browser sends one, must be the dashboard's own.
    """
    if method.upper() in SAFE_METHODS:
        return None
    if origin is not None and origin != "null" and origin.rstrip("/") != public_origin:
        return "cross-origin request refused"
    if origin == "null":
        return "cross-origin request refused"
    if not same_secret(header, session.csrf_token):
        return f"missing or wrong {CSRF_HEADER} header"
    return None
