"""What every route shares: the app's parts (settings, pool, services, etcd), the signed-in
person, the CSRF check, and audit records of admin changes.

`require_user` / `require_admin` are the blueprints' `before_request` hooks: no valid session
→ 401; a state-changing request without the session's CSRF token (or from another origin) →
403 `csrf_failed`; a user on an admin route → 403 `forbidden`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import asyncpg
from quart import current_app, g, request

from jeeves.dashboard import store
from jeeves.dashboard.backends import Etcd, Services
from jeeves.dashboard.domain.sessions import (
    CSRF_HEADER,
    SESSION_COOKIE,
    Person,
    Session,
    Timeouts,
    csrf_problem,
    expired,
    needs_touch,
)
from jeeves.dashboard.settings import DashboardSettings
from jeeves.kit.app import kit
from jeeves.kit.db import pool_of
from jeeves.kit.errors import APIError
from jeeves.kit.logging import get_logger

log = get_logger(__name__)
PARTS_KEY = "dashboard"


@dataclass(frozen=True)
class Parts:
    settings: DashboardSettings
    services: Services
    etcd: Etcd

    @property
    def timeouts(self) -> Timeouts:
        return Timeouts(
            idle=timedelta(seconds=self.settings.dashboard_idle_timeout_s),
            absolute=timedelta(seconds=self.settings.dashboard_absolute_timeout_s),
        )

    @property
    def public_origin(self) -> str:
        parts = urlsplit(self.settings.public_url)
        return f"{parts.scheme}://{parts.netloc}"


def parts() -> Parts:
    value = kit().extras[PARTS_KEY]
    assert isinstance(value, Parts)
    return value


def pool() -> asyncpg.Pool:
    return pool_of(current_app)


async def current_session() -> Session | None:
    """The valid session of this request (ended and forgotten when it has expired)."""
    if "dashboard_session" in g:
        cached = g.dashboard_session
        return cached if isinstance(cached, Session) else None
    g.dashboard_session = None
    session_id = request.cookies.get(SESSION_COOKIE)
    if not session_id:
        return None
    found = await store.load_session(pool(), session_id)
    if found is None:
        return None
    session, now = found
    reason = expired(session, now, parts().timeouts)
    if reason is not None:
        await store.end_session(pool(), session_id)
        log.info("session_expired", reason=reason)
        return None
    if needs_touch(session, now):
        await store.touch_session(pool(), session_id)
    g.dashboard_session = session
    return session


async def require_session() -> Session:
    """The session, 401 without one, and the CSRF check for state-changing requests."""
    session = await current_session()
    if session is None:
        raise APIError(401, "unauthorized", "sign in with Slack first")
    problem = csrf_problem(
        request.method,
        request.headers.get(CSRF_HEADER),
        request.headers.get("Origin"),
        session,
        parts().public_origin,
    )
    if problem is not None:
        log.warning("csrf_refused", method=request.method, route=request.path, problem=problem)
        raise APIError(403, "csrf_failed", problem)
    return session


async def require_user() -> None:
    await require_session()


async def require_admin() -> None:
    session = await require_session()
    if not session.person.is_admin:
        raise APIError(403, "forbidden", "this page is for Jeeves admins")


def person() -> Person:
    session = g.get("dashboard_session")
    assert isinstance(session, Session), "require_user/require_admin runs first"
    return session.person


async def record_audit(
    kind: str, target: str, before: Any = None, after: Any = None, detail: Any = None
) -> bool:
    """Store an audit record of an admin change in the data service; False when it failed
    (the change stands; the failure is logged and shown)."""
    body = {
        "actor": person().user_id,
        "kind": kind,
        "target": target,
        "before": before,
        "after": after,
        "detail": detail,
    }
    try:
        await parts().services.call("data", "POST", "/v1/audit", body)
    except APIError as exc:
        log.error("audit_not_recorded", kind=kind, target=target, error=exc.code)
        return False
    return True
