"""Handling one `dispatch` job: clean the text, route it, call the action, record and reply.

The handler is idempotent by event id, because the queue delivers at least once:
- the action receives the same `id` on every retry of one event (it deduplicates its writes);
- the final outcome and the reply job are written in ONE statement, guarded by a unique
  "final" row per event, so a job run again after a crash enqueues no second reply;
- the reply carries `reply:<event_id>` as its key, so even a duplicate reply job posts once.

Transient failures (5xx, timeout, connection refused) are recorded as non-final attempts and
raised, so the queue retries them with backoff and dead-letters the job after the last attempt.

Every action call also becomes one activity record for usage statistics once its outcome is
final (`domain/activity.py`): handed to the activity sink after the reply job is committed, or
when the last attempt fails. The sink never blocks (`activity.py`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
import asyncpg
from prometheus_client import CollectorRegistry, Counter, Histogram

from jeeves.dispatcher import store
from jeeves.dispatcher.activity import ActivitySink
from jeeves.dispatcher.domain.activity import activity_record
from jeeves.dispatcher.domain.jobs import interaction_target
from jeeves.dispatcher.domain.protocol import (
    Outcome,
    Reply,
    act_request,
    action_url,
    dead_letter_key,
    interpret,
    reply_key,
)
from jeeves.dispatcher.domain.replies import (
    DASHBOARD_FLAG,
    DEAD_LETTER_NOTICE,
    GREETING,
    disabled_text,
    help_text,
    login_text,
    unknown_text,
)
from jeeves.dispatcher.domain.routing import Builtin, Disabled, Empty, Invoke, Unknown, route
from jeeves.dispatcher.domain.text import extract_text
from jeeves.kit.actions import ActionRegistry, ActionSpec
from jeeves.kit.auth import TokenUnavailable
from jeeves.kit.context import current_request_id
from jeeves.kit.flags import FeatureFlags
from jeeves.kit.http import HttpClient
from jeeves.kit.jobs import REPLY, DispatchJob, ReplyJob, parse_dispatch_job
from jeeves.kit.logging import get_logger
from jeeves.kit.queue import PermanentJobError, QueueJob, enqueue

log = get_logger(__name__)
NO_ACTION = "-"
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class ActionUnavailable(Exception):
    """The action failed transiently (5xx, timeout, unreachable): the queue retries the job."""


class DispatchMetrics:
    """`jeeves_dispatch_total{action,outcome}`, the action call latency and the replies handed
    to the poster (the denominator of the reply SLO: each should be posted within its target)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.total = Counter(
            "jeeves_dispatch_total",
            "Dispatch attempts by action and outcome",
            ["action", "outcome"],
            registry=registry,
        )
        self.latency = Histogram(
            "jeeves_dispatch_action_latency_seconds",
            "Time an action took to answer POST /v1/act",
            ["action"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.replies = Counter(
            "jeeves_dispatch_replies_total",
            "Replies queued for the poster (once per event, retries and duplicates excluded)",
            registry=registry,
        )


@dataclass(frozen=True)
class Decision:
    """How one event was handled."""

    action: str
    outcome: Outcome
    reply: Reply | None
    status: int | None = None
    latency_ms: float = 0.0
    detail: str = ""


REPLIES_VIA_RESPONSE_URL = frozenset({"command", "interaction"})


def reply_job(job: DispatchJob, reply: Reply) -> ReplyJob:
    """The poster's job for `reply` to `job`: in the same thread and workspace, keyed by the
    event; to the asker alone when the reply is ephemeral.

    Commands and clicks carry Slack's `response_url`, which works even where the bot is not a
    channel member; the poster answers there first (chat.postMessage is its fallback)."""
    out: ReplyJob = {
        "reply_key": reply_key(job["event_id"]),
        "channel": job["channel"],
        "thread_ts": job["thread_ts"],
        "text": reply.text,
        "blocks": reply.blocks,
        "event_id": job["event_id"],
        "sent_at": job["received_at"],
        "team_id": job["team_id"],
    }
    if reply.ephemeral:
        out["ephemeral_to"] = job["user_id"]
    response_url = job.get("response_url")
    if job["kind"] in REPLIES_VIA_RESPONSE_URL and response_url:
        out["response_url"] = response_url
    return out


def attempt_row(
    job: QueueJob, payload: DispatchJob, decision: Decision, *, final: bool
) -> store.Attempt:
    """The `dispatch_attempts` row recording `decision`."""
    return store.Attempt(
        event_id=payload["event_id"],
        job_id=job.id,
        attempt=job.attempt,
        action=decision.action,
        outcome=decision.outcome.value,
        final=final,
        status=decision.status,
        latency_ms=decision.latency_ms,
        detail=decision.detail,
    )


def _json_or_none(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None


class Dispatcher:
    """The `dispatch` entrypoint's handler."""

    def __init__(
        self,
        *,
        registry: ActionRegistry,
        http: HttpClient,
        pool: Callable[[], asyncpg.Pool],
        bot_user_id: str,
        metrics: DispatchMetrics,
        activity: ActivitySink,
        max_attempts: int,
        flags: FeatureFlags | None = None,
        dashboard_url: str = "",
    ) -> None:
        self._registry = registry
        self._http = http
        self._pool = pool
        self._bot = bot_user_id
        self._metrics = metrics
        self._activity = activity
        self._max_attempts = max_attempts  # the queue's: the last attempt's failure is final
        self._flags = flags
        self._dashboard_url = dashboard_url

    async def handle(self, job: QueueJob) -> None:
        try:
            payload = parse_dispatch_job(job.payload)
        except ValueError as exc:
            raise PermanentJobError(f"bad dispatch payload: {exc}") from None
        if await store.is_finished(self._pool(), payload["event_id"]):
            log.info("dispatch_already_done", event_id=payload["event_id"], job_id=job.id)
            return
        decision = await self._decide(job, payload)
        await self._finish(job, payload, decision)

    async def _decide(self, job: QueueJob, payload: DispatchJob) -> Decision:
        actions = self._registry.actions()
        if payload["kind"] == "interaction":
            return await self._interaction(job, payload, actions)
        bot = payload.get("bot_user_id") or self._bot  # the bot of the job's own workspace
        text = extract_text(payload["text"], payload.get("blocks"), bot)
        match route(text, actions):
            case Invoke(spec=spec, keyword=keyword, args=rest):
                args = {"keyword": keyword, "message": text}
                return await self._call(job, payload, spec, rest, args)
            case Builtin(name="help", args=topic):
                dashboard = self._dashboard_link(payload["user_id"])
                return Decision(
                    "help", Outcome.BUILTIN, Reply(help_text(actions, topic, dashboard))
                )
            case Builtin(name=name, args=asked):
                return Decision(name, Outcome.BUILTIN, Reply(login_text(actions, asked)))
            case Disabled(spec=spec, keyword=keyword):
                return Decision(spec.name, Outcome.DISABLED, Reply(disabled_text(keyword)))
            case Unknown(word=word, suggestion=suggestion):
                return Decision(NO_ACTION, Outcome.UNKNOWN, Reply(unknown_text(word, suggestion)))
            case Empty():
                return Decision(NO_ACTION, Outcome.BUILTIN, Reply(GREETING))
        raise AssertionError("unreachable")  # pragma: no cover

    def _dashboard_link(self, user_id: str) -> str | None:
        """The dashboard URL for help when the flag is on for this user, else None."""
        if self._flags is None or not self._flags.is_enabled(DASHBOARD_FLAG, user_id):
            return None
        return self._dashboard_url

    async def _interaction(
        self, job: QueueJob, payload: DispatchJob, actions: Mapping[str, ActionSpec]
    ) -> Decision:
        """A click on a button an action posted: routed by its `<action>:…` action_id."""
        target = interaction_target(payload)
        spec = actions.get(target[0]) if target else None
        if target is None or spec is None or not spec.enabled:
            return Decision(NO_ACTION, Outcome.UNKNOWN, None, detail="interaction not routable")
        args = {"interaction": payload.get("interaction")}
        return await self._call(job, payload, spec, target[1], args)

    async def _call(
        self,
        job: QueueJob,
        payload: DispatchJob,
        spec: ActionSpec,
        text: str,
        args: Mapping[str, Any],
    ) -> Decision:
        body = act_request(payload, spec, text, args)
        headers = {"Idempotency-Key": body["id"]}
        url = action_url(spec, payload["user_id"]) + "/v1/act"
        started = time.perf_counter()
        status: int | None = None
        reply: Reply | None = None
        try:
            response = await self._http.request(
                "POST",
                url,
                json=body,
                headers=headers,
                idempotent=False,
                timeout_s=spec.timeout_s,
                audience=spec.name,  # a token from the dealer when auth is on
            )
        except TokenUnavailable as exc:
            outcome, detail, decoded = Outcome.UNREACHABLE, f"no token: {exc}"[:200], None
        except TimeoutError:
            outcome, detail, decoded = Outcome.TIMEOUT, f"no answer within {spec.timeout_s}s", None
        except aiohttp.ClientError as exc:
            outcome, detail, decoded = Outcome.UNREACHABLE, type(exc).__name__, None
        else:
            status = response.status
            decoded = _json_or_none(await response.read())
            answer = interpret(spec, status, decoded)
            outcome, detail, reply = answer.outcome, answer.detail, answer.reply
        latency = time.perf_counter() - started
        self._metrics.latency.labels(spec.name).observe(latency)
        decision = Decision(spec.name, outcome, reply, status, latency * 1000, detail)
        if outcome.retried:
            await self._record_failure(job, payload, decision)
            self._note_activity(payload, decision, last_attempt=job.attempt >= self._max_attempts)
            raise ActionUnavailable(f"action {spec.name}: {outcome.value} ({detail})")
        return decision

    async def _record_failure(
        self, job: QueueJob, payload: DispatchJob, decision: Decision
    ) -> None:
        """A transient failure: a non-final attempt row; the queue will retry the job."""
        self._metrics.total.labels(decision.action, decision.outcome.value).inc()
        await store.record(self._pool(), attempt_row(job, payload, decision, final=False))
        log.warning(
            "dispatch_failed",
            event_id=payload["event_id"],
            action=decision.action,
            outcome=decision.outcome.value,
            status=decision.status,
            attempt=job.attempt,
            detail=decision.detail,
        )

    async def _finish(self, job: QueueJob, payload: DispatchJob, decision: Decision) -> None:
        """The final outcome and the reply job, atomically (see the module docstring)."""
        attempt = attempt_row(job, payload, decision, final=True)
        reply = reply_job(payload, decision.reply) if decision.reply is not None else None
        fresh = await store.finish(self._pool(), attempt, reply, current_request_id())
        self._metrics.total.labels(decision.action, decision.outcome.value).inc()
        if fresh:
            self._note_activity(payload, decision, last_attempt=True)
            if reply is not None:
                self._metrics.replies.inc()
        log.info(
            "dispatched" if fresh else "dispatch_duplicate",
            event_id=payload["event_id"],
            action=decision.action,
            outcome=decision.outcome.value,
            status=decision.status,
            latency_ms=round(decision.latency_ms, 2),
            attempt=job.attempt,
        )

    async def dead_lettered(self, job: QueueJob, reason: str) -> None:
        """Tell the user, once, that their message failed and an admin can replay it.

        Keyed `dead:<event_id>` (not the reply's key): the poster posts it once however often
        the job is dead-lettered (a replay that fails again), and a successful replay still
        posts the real reply under `reply:<event_id>`."""
        try:
            payload = parse_dispatch_job(job.payload)
        except ValueError:
            return  # a malformed job names no channel to answer in
        notice = reply_job(payload, Reply(DEAD_LETTER_NOTICE))
        notice["reply_key"] = dead_letter_key(payload["event_id"])
        async with self._pool().acquire() as conn:
            await enqueue(conn, REPLY, notice)
        self._metrics.total.labels(NO_ACTION, "dead_letter_notice").inc()
        log.warning(
            "dispatch_dead_lettered",
            event_id=payload["event_id"],
            job_id=job.id,
            reason=reason,
            notice=notice["reply_key"],
        )

    def _note_activity(
        self, payload: DispatchJob, decision: Decision, *, last_attempt: bool
    ) -> None:
        """Hand a finished action call to the activity sink (never waits; see activity.py)."""
        record = activity_record(
            payload,
            decision.action,
            decision.outcome,
            decision.status,
            decision.latency_ms,
            last_attempt=last_attempt,
        )
        if record is not None:
            self._activity.submit(record)
