"""Liveness and readiness: `/healthz` says the process runs, `/readyz` says it can do its job.

A service registers named async checks (database, queue, config, …). `/readyz` runs them
concurrently with a timeout each and answers 503 only when a check the service cannot work
without fails; every check's state is in the body and in `jeeves_readiness_check_up{check}`.

A check returns a short detail (or None) when healthy. It raises `Degraded(detail)` when a
dependency is down but the service still does its job (e.g. etcd down while the last-known
configuration serves): the state is `degraded`, the answer stays 200 — an outage of a shared
dependency must not take every replica out of its Service at once. Any other exception fails
the check (`failing`; 503). The body only ever shows text the service composed itself: a
`Degraded`/`CheckFailed` message, or the exception's type name. Raw exception text can carry
DSNs and host names, so it goes to the log at info level (secrets redacted there), never to
the caller. Which checks each deployable has, and why, is in docs/operations.md.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import CollectorRegistry, Gauge
from quart import Quart, Response, jsonify

from jeeves.kit.logging import get_logger

log = get_logger(__name__)

# A check returns None (ok) or a short detail string; raising means degraded or failing.
Check = Callable[[], Awaitable[str | None]]
CHECK_TIMEOUT_S = 2.0
OK, DEGRADED, FAILING = "ok", "degraded", "failing"


class CheckFailed(Exception):
    """A failing check whose message the service composed itself (safe to answer)."""


class Degraded(Exception):
    """A dependency is down but the service still works; the message is safe to answer."""


@dataclass(frozen=True)
class CheckResult:
    name: str
    state: str
    detail: str
    critical: bool

    @property
    def ok(self) -> bool:
        return self.state == OK

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "ok": self.ok,
            "state": self.state,
            "critical": self.critical,
            "detail": self.detail,
        }


@dataclass
class Readiness:
    """The named dependency checks of one service."""

    checks: dict[str, Check] = field(default_factory=dict)
    critical: dict[str, bool] = field(default_factory=dict)
    gauge: Gauge | None = None

    def add(self, name: str, check: Check, *, critical: bool = True) -> None:
        """Register `check`; a non-critical one never answers 503 (its failure is degraded)."""
        self.checks[name] = check
        self.critical[name] = critical

    def install_metrics(self, registry: CollectorRegistry) -> None:
        self.gauge = Gauge(
            "jeeves_readiness_check_up",
            "1 when a readiness check passed at the last /readyz, 0 when degraded or failing",
            ["check"],
            registry=registry,
        )

    async def _run_one(self, name: str, check: Check) -> CheckResult:
        critical = self.critical.get(name, True)
        state, detail = FAILING, ""
        try:
            answer = await asyncio.wait_for(check(), CHECK_TIMEOUT_S)
            state, detail = OK, answer or "ok"
        except TimeoutError:
            detail = f"no answer within {CHECK_TIMEOUT_S}s"
        except Degraded as exc:
            state, detail = DEGRADED, str(exc)[:300]
        except CheckFailed as exc:
            detail = str(exc)[:300]
        except Exception as exc:
            detail = f"failing ({type(exc).__name__})"
            log.info("readiness_check_failed", check=name, error=f"{type(exc).__name__}: {exc}")
        if state == FAILING and not critical:
            state = DEGRADED
        if self.gauge is not None:
            self.gauge.labels(name).set(1 if state == OK else 0)
        return CheckResult(name, state, detail, critical)

    async def evaluate(self) -> tuple[bool, list[CheckResult]]:
        """(ready, every check's result): ready unless a check is failing."""
        results = await asyncio.gather(*(self._run_one(n, c) for n, c in self.checks.items()))
        return all(r.state != FAILING for r in results), list(results)


def overall(ready: bool, results: list[CheckResult]) -> str:
    if not ready:
        return "not_ready"
    return "degraded" if any(r.state == DEGRADED for r in results) else "ready"


def install_health(app: Quart, readiness: Readiness) -> None:
    @app.get("/healthz")
    async def _healthz() -> Response:
        return jsonify({"status": "ok"})

    @app.get("/readyz")
    async def _readyz() -> Response:
        ready, results = await readiness.evaluate()
        if not ready:
            log.warning("not_ready", failing=[r.name for r in results if r.state == FAILING])
        body = {"status": overall(ready, results), "checks": [r.to_json() for r in results]}
        response = jsonify(body)
        response.status_code = 200 if ready else 503
        return response
