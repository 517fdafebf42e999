"""Liveness and readiness: `/healthz` says the process runs, `/readyz` checks dependencies.

A service registers named async checks (database, etcd, …). `/readyz` runs them concurrently
with a timeout each and answers 200 when all pass, 503 otherwise, with every check's state.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from quart import Quart, Response, jsonify

from jeeves.kit.logging import get_logger

log = get_logger(__name__)

# A check returns None (ok) or a short detail string; raising means failing.
Check = Callable[[], Awaitable[str | None]]
CHECK_TIMEOUT_S = 2.0


@dataclass
class Readiness:
    """The named dependency checks of one service."""

    checks: dict[str, Check] = field(default_factory=dict)

    def add(self, name: str, check: Check) -> None:
        self.checks[name] = check

    async def _run_one(self, name: str, check: Check) -> dict[str, Any]:
        try:
            detail = await asyncio.wait_for(check(), CHECK_TIMEOUT_S)
        except TimeoutError:
            return {"name": name, "ok": False, "detail": f"no answer within {CHECK_TIMEOUT_S}s"}
        except Exception as exc:
            return {"name": name, "ok": False, "detail": f"{type(exc).__name__}: {exc}"[:200]}
        return {"name": name, "ok": True, "detail": detail or "ok"}

    async def evaluate(self) -> tuple[bool, list[dict[str, Any]]]:
        results = await asyncio.gather(*(self._run_one(n, c) for n, c in self.checks.items()))
        return all(r["ok"] for r in results), list(results)


def install_health(app: Quart, readiness: Readiness) -> None:
    @app.get("/healthz")
    async def _healthz() -> Response:
        return jsonify({"status": "ok"})

    @app.get("/readyz")
    async def _readyz() -> Response:
        ready, results = await readiness.evaluate()
        if not ready:
            failing = [r["name"] for r in results if not r["ok"]]
            log.warning("not_ready", failing=failing)
        response = jsonify({"status": "ready" if ready else "not_ready", "checks": results})
        response.status_code = 200 if ready else 503
        return response
