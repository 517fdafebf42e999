"""Assembles the token dealer: kit app, routes, and the loop that re-reads keys and clients.

Keys and clients are re-read every `tokens_reload_s`, so a rotated key or a new client takes
effect without a restart; the rotation plan is recomputed on the same tick. A reload that finds
a broken file keeps the last good state and says so in the logs and metrics.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

from quart import Quart

from jeeves.kit.app import create_app, kit
from jeeves.kit.health import CheckFailed
from jeeves.kit.logging import get_logger
from jeeves.tokens.domain.clients import Client, parse_clients
from jeeves.tokens.domain.grant import Dealer
from jeeves.tokens.domain.keys import KeyPlan, SigningKey, plan_keys
from jeeves.tokens.domain.throttle import FailureThrottle
from jeeves.tokens.keystore import load_keys
from jeeves.tokens.metrics import TokensMetrics
from jeeves.tokens.routes import DEALER_KEY, METRICS_KEY, REALM, blueprint
from jeeves.tokens.settings import TokensSettings

log = get_logger(__name__)
RELOAD_TASK = "tokens_reload_task"


def read_clients(settings: TokensSettings) -> dict[str, Client]:
    """The client registry from the file or the inline setting; ValueError names the problem."""
    if settings.tokens_clients_file is not None:
        try:
            raw = settings.tokens_clients_file.read_text()
        except OSError as exc:
            raise ValueError(
                f"clients file {settings.tokens_clients_file}: {exc.strerror}"
            ) from None
        return parse_clients(raw)
    return parse_clients(settings.tokens_clients)


def current_plan(
    settings: TokensSettings, now: float, last_good: tuple[SigningKey, ...] = ()
) -> tuple[tuple[SigningKey, ...], KeyPlan, list[str]]:
    """Keys on disk and the plan at `now`; an unreadable directory keeps `last_good`."""
    loaded, problems = load_keys(settings.tokens_keys_dir)
    keys = tuple(loaded) if loaded or not problems else last_good
    plan = plan_keys(
        keys, now=now, ttl_s=settings.tokens_ttl_s, grace_s=settings.tokens_retire_grace_s
    )
    return keys, plan, problems


def build_app(settings: TokensSettings) -> Quart:
    """The app; raises ValueError at once when the client registry is unreadable."""
    app = create_app("tokens", settings)
    keys, plan, problems = current_plan(settings, time.time())
    dealer = Dealer(
        keys=keys,
        issuer=settings.auth_issuer,
        ttl_s=settings.tokens_ttl_s,
        realm=REALM,
        clients=read_clients(settings),
        plan=plan,
        throttle=FailureThrottle(
            free_failures=settings.tokens_lockout_free_failures,
            base_s=settings.tokens_lockout_base_s,
            max_s=settings.tokens_lockout_max_s,
        ),
    )
    metrics = TokensMetrics(kit(app).registry)
    kit(app).extras[DEALER_KEY] = dealer
    kit(app).extras[METRICS_KEY] = metrics
    app.register_blueprint(blueprint)
    _observe(dealer, metrics, problems, time.time())

    async def _signing_key() -> str | None:
        if dealer.plan.signing is None:
            raise CheckFailed("no active signing key in JEEVES_TOKENS_KEYS_DIR")
        return f"kid {dealer.plan.signing.kid[:12]}…"

    kit(app).readiness.add("signing_key", _signing_key)

    @app.before_serving
    async def _start_reload() -> None:
        kit(app).extras[RELOAD_TASK] = asyncio.create_task(
            _reload_forever(dealer, settings, metrics)
        )

    @app.after_serving
    async def _stop_reload() -> None:
        task = kit(app).extras.pop(RELOAD_TASK, None)
        if isinstance(task, asyncio.Task):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    return app


async def _reload_forever(dealer: Dealer, settings: TokensSettings, metrics: TokensMetrics) -> None:
    while True:
        await asyncio.sleep(settings.tokens_reload_s)
        try:
            reload_once(dealer, settings, metrics, time.time())
        except Exception as exc:  # keep serving the last good state
            log.error("reload_failed", error=f"{type(exc).__name__}: {exc}"[:300])


def reload_once(
    dealer: Dealer, settings: TokensSettings, metrics: TokensMetrics, now: float
) -> None:
    """Re-read keys and clients and swap them in; a broken clients file keeps the old one."""
    keys, plan, problems = current_plan(settings, now, dealer.keys)
    dealer.keys = keys
    try:
        dealer.clients = read_clients(settings)
    except ValueError as exc:
        problems.append(str(exc))
    previous = dealer.plan.signing.kid if dealer.plan.signing else None
    dealer.plan = plan
    if plan.signing is not None and plan.signing.kid != previous:
        log.info("signing_key_changed", kid=plan.signing.kid, previous=previous)
    _observe(dealer, metrics, problems, now)


def _observe(dealer: Dealer, metrics: TokensMetrics, problems: list[str], now: float) -> None:
    for problem in problems:
        log.error("reload_problem", problem=problem[:300])
    metrics.reload_problems.set(len(problems))
    metrics.published_keys.set(len(dealer.plan.published))
    signing = dealer.plan.signing
    metrics.signing_key_age.set(now - signing.sign_from if signing else 0)
