"""Handling one `dispatch` job: clean the text, route it, type it, guard it, call the action,
record, audit and reply.

The handler is idempotent by event id, because the queue delivers at least once:
- the action receives the same `id` on every retry of one event (it deduplicates its writes);
- the final outcome and the jobs following from it (the reply; the audit record of a run) are
  written in ONE statement, guarded by a unique "final" row per event, so a job run again
  after a crash enqueues nothing twice;
- the reply carries `reply:<event_id>` as its key, so even a duplicate reply job posts once.

Transient failures (5xx, timeout, connection refused) are recorded as non-final attempts and
raised, so the queue retries them with backoff and dead-letters the job after the last attempt
(whose audit record says `error` or `timeout`).

What happens to a message routed to an action (`_invoke`):
1. typed by the action's commands (`domain/calls.py`): a message that breaks a command is
   answered with the problem and the usage; the action is not called;
2. checked against its policy (`guard.py`): a denial is answered privately (ephemeral) and
   audited; the action is not called;
3. held when the policy wants a confirmation or an approval: the question is posted, and the
   run continues when the right person clicks (`_click`), in another job;
4. called; the outcome is recorded, replied and audited.

Scheduled runs (kind `schedule`, queued by `scheduler.py`) skip 2 and 3 — whoever applied the
JeevesAction decided that they run — and reply in the schedule's channel.

Every action call also becomes one activity record for usage statistics once its outcome is
final (`domain/activity.py`), handed to the activity sink after the jobs are committed, or when
the last attempt fails. The sink never blocks (`activity.py`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import aiohttp
import asyncpg
from prometheus_client import CollectorRegistry, Counter, Histogram

from jeeves.dispatcher import pending, store
from jeeves.dispatcher.activity import ActivitySink
from jeeves.dispatcher.domain import guarding
from jeeves.dispatcher.domain.activity import activity_outcome, activity_record
from jeeves.dispatcher.domain.auditing import RunFacts, audit_record
from jeeves.dispatcher.domain.calls import BadCall, Call, audit_params, plan_call
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
    bad_call_text,
    disabled_text,
    help_text,
    login_text,
    unknown_text,
)
from jeeves.dispatcher.domain.routing import Builtin, Disabled, Empty, Invoke, Unknown, route
from jeeves.dispatcher.domain.text import extract_text
from jeeves.dispatcher.guard import Answer, Guard, Prompt, RunNow, origin_job
from jeeves.kit.actions import ActionRegistry, ActionSpec
from jeeves.kit.auth import TokenUnavailable
from jeeves.kit.context import current_request_id
from jeeves.kit.flags import FeatureFlags
from jeeves.kit.http import HttpClient
from jeeves.kit.jobs import AUDIT, REPLY, DispatchJob, ReplyJob, parse_dispatch_job
from jeeves.kit.logging import get_logger
from jeeves.kit.queue import PermanentJobError, QueueJob, enqueue
from jeeves_actionspec.policy import Denied

log = get_logger(__name__)
NO_ACTION = "-"
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
SCHEDULE_ACTOR = "schedule"


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
class Target:
    """Where a reply goes when not simply back where the job came from."""

    channel: str
    thread_ts: str | None
    response_url: str | None = None
    ephemeral_to: str | None = None


@dataclass(frozen=True)
class Decision:
    """How one event was handled."""

    action: str
    outcome: Outcome
    reply: Reply | None
    status: int | None = None
    latency_ms: float = 0.0
    detail: str = ""
    target: Target | None = None
    audit: Mapping[str, Any] | None = None
    settle: str | None = None  # the pending run this call released (forget its call after)
    origin: DispatchJob | None = None  # whose call it was (usage statistics), if not the job's


@dataclass(frozen=True)
class Run:
    """An action call about to be made, with what its audit record needs."""

    spec: ActionSpec
    call: Call
    origin: DispatchJob  # the request as the action sees it (caller, channel, event id)
    trigger: str
    actor: str
    target: Target | None = None
    clicks: Mapping[str, str] = field(default_factory=dict)
    schedule: Mapping[str, Any] = field(default_factory=dict)
    settle: str | None = None


REPLIES_VIA_RESPONSE_URL = frozenset({"command", "interaction"})


def reply_job(
    job: DispatchJob, reply: Reply, target: Target | None = None, asker: str | None = None
) -> ReplyJob:
    """The poster's job for `reply` to `job`: in the same thread and workspace, keyed by the
    event; to the asker alone (`asker`, else the job's user) when the reply is ephemeral.

    Commands and clicks carry Slack's `response_url`, which works even where the bot is not a
    channel member; the poster answers there first (chat.postMessage is its fallback).
    `target` sends it elsewhere (a held run's thread) or privately (`ephemeral_to`)."""
    out: ReplyJob = {
        "reply_key": reply_key(job["event_id"]),
        "channel": target.channel if target else job["channel"],
        "thread_ts": target.thread_ts if target else job["thread_ts"],
        "text": reply.text,
        "blocks": reply.blocks,
        "event_id": job["event_id"],
        "sent_at": job["received_at"],
        "team_id": job["team_id"],
    }
    private_to = target.ephemeral_to if target else None
    if reply.ephemeral and not private_to:
        private_to = asker or job["user_id"]
    if private_to:
        out["ephemeral_to"] = private_to
    response_url = target.response_url if target else job.get("response_url")
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


def run_audit(run: Run, outcome: str, decision: str = "allowed", **extra: Any) -> dict[str, Any]:
    """The audit record of `run` ending with `outcome`."""
    origin = run.origin
    return audit_record(
        RunFacts(
            event_id=origin["event_id"],
            action=run.spec.name,
            actor=run.actor,
            team_id=origin["team_id"],
            channel=origin["channel"],
            trigger=run.trigger,
            outcome=outcome,
            decision=decision,
            command=run.call.command,
            params=audit_params(run.spec, run.call),
            clicks=run.clicks,
            schedule=run.schedule,
            **extra,
        )
    )


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
        guard: Guard,
        audit: bool = True,
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
        self._guard = guard
        self._audit = audit  # False: no data service, so no audit log to write to
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
        if payload["kind"] == "schedule":
            return await self._scheduled(job, payload, actions)
        bot = payload.get("bot_user_id") or self._bot  # the bot of the job's own workspace
        text = extract_text(payload["text"], payload.get("blocks"), bot)
        match route(text, actions):
            case Invoke(spec=spec, keyword=keyword, args=rest):
                typed = extract_text(payload["text"], payload.get("blocks"), bot, ids=True)
                return await self._invoke(
                    job, payload, spec, plan_call(spec, keyword, rest, text, typed)
                )
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

    # --- a message for an action ------------------------------------------------------------

    async def _invoke(
        self, job: QueueJob, payload: DispatchJob, spec: ActionSpec, plan: Call | BadCall
    ) -> Decision:
        if isinstance(plan, BadCall):
            reply = Reply(bad_call_text(spec, plan.command, plan.problem))
            return Decision(spec.name, Outcome.BAD_ARGS, reply, detail=plan.command.name)
        run = Run(spec, plan, payload, payload["kind"], payload["user_id"])
        verdict = await self._guard.check(spec, payload)
        if isinstance(verdict, Denied):
            log.info("policy_denied", action=spec.name, user=payload["user_id"], why=verdict.code)
            private = Target(
                payload["channel"],
                payload["thread_ts"],
                payload.get("response_url"),
                payload["user_id"],
            )
            audit = run_audit(run, "denied", f"denied:{verdict.code}")
            return Decision(
                spec.name,
                Outcome.DENIED,
                Reply(verdict.text),
                detail=verdict.code,
                target=private,
                audit=audit,
            )
        if verdict.confirm or verdict.approval:
            prompt = await self._guard.hold(spec, plan, payload, verdict)
            return Decision(
                spec.name,
                Outcome.ASKED,
                _prompt_reply(prompt),
                target=_prompt_target(prompt, payload),
            )
        return await self._call(job, run)

    # --- clicks ------------------------------------------------------------------------------

    async def _interaction(
        self, job: QueueJob, payload: DispatchJob, actions: Mapping[str, ActionSpec]
    ) -> Decision:
        """A click: on the dispatcher's own confirm/approve buttons, or on an action's button
        (routed by its `<action>:…` action_id)."""
        if guarding.is_own(payload):
            return await self._click(job, payload, actions)
        target = interaction_target(payload)
        spec = actions.get(target[0]) if target else None
        if target is None or spec is None or not spec.enabled:
            return Decision(NO_ACTION, Outcome.UNKNOWN, None, detail="interaction not routable")
        call = Call(
            spec.name, spec.label, target[1], extra={"interaction": payload.get("interaction")}
        )
        return await self._call(job, Run(spec, call, payload, "interaction", payload["user_id"]))

    async def _click(
        self, job: QueueJob, payload: DispatchJob, actions: Mapping[str, ActionSpec]
    ) -> Decision:
        click = guarding.click_of(payload)
        privately = Target(
            payload["channel"],
            payload["thread_ts"],
            payload.get("response_url"),
            payload["user_id"],
        )
        if click is None:
            return Decision(NO_ACTION, Outcome.UNKNOWN, Reply(guarding.GONE), target=privately)
        result = await self._guard.click(click, payload, actions)
        if isinstance(result, RunNow):
            return await self._call(job, self._released(result, payload))
        return self._answered(result, payload, actions, privately)

    def _released(self, now: RunNow, payload: DispatchJob) -> Run:
        held = now.run
        assert held.call is not None
        origin = origin_job(held, payload["received_at"])
        target = Target(held.channel, held.thread_ts, payload.get("response_url"))
        return Run(
            now.spec,
            held.call,
            origin,
            held.trigger,
            held.requester,
            target,
            now.clicks,
            settle=held.id,
        )

    def _answered(
        self,
        answer: Answer,
        payload: DispatchJob,
        actions: Mapping[str, ActionSpec],
        privately: Target,
    ) -> Decision:
        held = answer.run
        action = held.action if held is not None else NO_ACTION
        if answer.prompt is not None:  # confirmed: the approval request goes to the thread
            thread = Target(
                answer.prompt.channel, answer.prompt.thread_ts, payload.get("response_url")
            )
            return Decision(action, Outcome.ASKED, _prompt_reply(answer.prompt), target=thread)
        if answer.declined is None or held is None:
            return Decision(action, Outcome.BUILTIN, Reply(answer.text), target=privately)
        spec = actions.get(held.action)
        audit = None
        if spec is not None and held.call is not None:
            run = Run(
                spec,
                held.call,
                origin_job(held, payload["received_at"]),
                held.trigger,
                held.requester,
                clicks=answer.clicks,
            )
            audit = run_audit(run, answer.declined)
        where = (
            Target(held.channel, held.thread_ts, payload.get("response_url"))
            if answer.to_thread
            else replace(privately, ephemeral_to=payload["user_id"])
        )
        return Decision(
            action,
            Outcome.DECLINED,
            Reply(answer.text),
            detail=answer.declined,
            target=where,
            audit=audit,
        )

    async def expire_held(self) -> int:
        """Audit held runs nobody answered in time (called from the scheduler's loop)."""
        expired = await self._guard.expire_overdue()
        actions = self._registry.actions()
        for held in expired:
            spec = actions.get(held.action)
            log.info("held_run_expired", action=held.action, run=held.id, state=held.state.value)
            if spec is None or held.call is None or not self._audit:
                continue
            run = Run(spec, held.call, origin_job(held, time.time()), held.trigger, held.requester)
            async with self._pool().acquire() as conn:
                await enqueue(conn, AUDIT, run_audit(run, "expired"))
        return len(expired)

    # --- scheduled runs ----------------------------------------------------------------------

    async def _scheduled(
        self, job: QueueJob, payload: DispatchJob, actions: Mapping[str, ActionSpec]
    ) -> Decision:
        scheduled = payload.get("schedule")
        assert scheduled is not None  # parse_dispatch_job checked it
        spec = actions.get(scheduled["action"])
        if spec is None or not spec.enabled:
            log.warning("schedule_skipped", action=scheduled["action"], reason="gone or off")
            return Decision(scheduled["action"], Outcome.SKIPPED, None, detail="gone or off")
        text = payload["text"] or spec.label
        routed = route(text, {spec.name: spec})
        keyword, rest = (
            (routed.keyword, routed.args) if isinstance(routed, Invoke) else (spec.label, text)
        )
        plan = plan_call(spec, keyword, rest, text, text)
        alert = scheduled["trigger"] == "alert"
        facts = {"tick": scheduled["tick"], "missed": scheduled["missed"]}
        if isinstance(plan, BadCall):  # the operator checks it; a hand-written entry may not
            log.error("schedule_text_invalid", action=spec.name, problem=plan.problem)
            return Decision(spec.name, Outcome.SKIPPED, None, detail=plan.problem[:200])
        context = {"schedule": {**facts, "catch_up": scheduled["missed"] > 0}}
        call = replace(plan, extra={"alert": True, **context} if alert else context)
        actor = payload["user_id"] if alert else SCHEDULE_ACTOR
        target = Target(payload["channel"], None)
        return await self._call(
            job,
            Run(spec, call, payload, scheduled["trigger"], actor, target, schedule=facts),
        )

    # --- calling the action ------------------------------------------------------------------

    async def _call(self, job: QueueJob, run: Run) -> Decision:
        spec, origin = run.spec, run.origin
        body = act_request(origin, spec, run.call.text, run.call.args())
        headers = {"Idempotency-Key": body["id"]}
        url = action_url(spec, origin["user_id"]) + "/v1/act"
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
        last = job.attempt >= self._max_attempts
        audited = activity_outcome(outcome, status, last_attempt=last or not outcome.retried)
        audit = (
            run_audit(run, audited, status=status, duration_ms=latency * 1000)
            if audited is not None and self._audit
            else None
        )
        decision = Decision(
            spec.name,
            outcome,
            reply,
            status,
            latency * 1000,
            detail,
            run.target,
            audit,
            run.settle,
            origin,
        )
        if outcome.retried:
            await self._record_failure(job, origin, decision, last_attempt=last)
            self._note_activity(origin, decision, last_attempt=last)
            raise ActionUnavailable(f"action {spec.name}: {outcome.value} ({detail})")
        return decision

    async def _record_failure(
        self, job: QueueJob, payload: DispatchJob, decision: Decision, *, last_attempt: bool
    ) -> None:
        """A transient failure: a non-final attempt row; the queue will retry the job (after
        the last attempt it becomes a dead letter, and the run's audit record says so)."""
        self._metrics.total.labels(decision.action, decision.outcome.value).inc()
        attempt = attempt_row(job, payload, decision, final=False)
        audit = decision.audit if last_attempt else None
        await store.record_last_failure(self._pool(), attempt, audit)
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
        """The final outcome and the jobs that follow, atomically (see the module docstring)."""
        attempt = attempt_row(job, payload, decision, final=True)
        asker = (decision.origin or payload)["user_id"]  # a held run's requester, not the clicker
        reply = (
            reply_job(payload, decision.reply, decision.target, asker)
            if decision.reply is not None
            else None
        )
        audit = decision.audit if self._audit else None
        fresh = await store.finish(self._pool(), attempt, reply, current_request_id(), audit)
        if decision.settle is not None:
            await pending.settle(self._pool(), decision.settle)
        self._metrics.total.labels(decision.action, decision.outcome.value).inc()
        if fresh:
            self._note_activity(decision.origin or payload, decision, last_attempt=True)
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


def _prompt_reply(prompt: Prompt) -> Reply:
    return Reply(prompt.text, [dict(block) for block in prompt.blocks])


def _prompt_target(prompt: Prompt, payload: DispatchJob) -> Target:
    return Target(
        prompt.channel,
        prompt.thread_ts,
        payload.get("response_url"),
        prompt.ephemeral_to,
    )
