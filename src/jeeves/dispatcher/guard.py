"""Policy at run time: who may run an action, and the confirm / approve clicks in between.

`Guard.check` decides for a caller (resolving user groups only when the policy names some);
`Guard.hold` keeps a run that must be confirmed or approved and words the prompt;
`Guard.click` answers a click on one of the prompts' buttons — with a reply (not yours,
expired, cancelled, rejected, or the approval request once confirmed) or with `RunNow` when the
action may now be called. The states and their rules are in `domain/guarding.py`; the table in
`pending.py`. Who did what goes into the run's audit record (`clicks`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import asyncpg

from jeeves.dispatcher import pending
from jeeves.dispatcher.domain import guarding
from jeeves.dispatcher.domain.calls import Call, audit_params, summary
from jeeves.dispatcher.domain.guarding import Click, State
from jeeves.dispatcher.groups import GroupDirectory, GroupsUnavailable
from jeeves.dispatcher.pending import PendingRun
from jeeves.kit.actions import ActionSpec
from jeeves.kit.jobs import DispatchJob
from jeeves.kit.logging import get_logger
from jeeves_actionspec.policy import Allowed, Denied, decide, may_approve

log = get_logger(__name__)


@dataclass(frozen=True)
class Prompt:
    """A question posted for a held run: privately to `ephemeral_to`, or in the thread."""

    text: str
    blocks: list[dict[str, object]]
    channel: str
    thread_ts: str | None
    ephemeral_to: str | None


@dataclass(frozen=True)
class Answer:
    """A click that changes nothing more than a message (to the clicker, or the thread)."""

    text: str
    declined: str | None = None  # cancelled / rejected / expired: the run ends here
    to_thread: bool = False  # said in the run's thread (else privately to the clicker)
    prompt: Prompt | None = None  # the approval request, once the caller confirmed
    run: PendingRun | None = None
    clicks: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RunNow:
    """The run is confirmed/approved: call the action now."""

    run: PendingRun
    spec: ActionSpec
    clicks: Mapping[str, str]


def origin_job(run: PendingRun, received_at: float) -> DispatchJob:
    """The request as the action sees it when it finally runs (its own event id, caller,
    channel and thread), whatever click released it."""
    kind = run.trigger if run.trigger in ("message", "command") else "message"
    return {
        "event_id": run.event_id,
        "kind": kind,  # type: ignore[typeddict-item]
        "team_id": run.team_id,
        "user_id": run.requester,
        "channel": run.channel,
        "ts": None,
        "thread_ts": run.thread_ts,
        "text": "",
        "received_at": received_at,
    }


class Guard:
    def __init__(
        self,
        pool: Callable[[], asyncpg.Pool],
        groups: GroupDirectory,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._pool = pool
        self._groups = groups
        self._clock = clock

    async def check(self, spec: ActionSpec, job: DispatchJob) -> Allowed | Denied:
        policy = spec.declaration.policy
        allow = policy.allow
        groups: frozenset[str] = frozenset()
        if allow is not None and allow.user_groups and job["user_id"] not in allow.users:
            try:
                groups = await self._groups.member_of(job["user_id"], allow.user_groups)
            except GroupsUnavailable as exc:
                log.warning("policy_groups_unavailable", action=spec.name, error=str(exc))
                return Denied(
                    "groups_unavailable",
                    f"I could not check your user groups just now, so I cannot let you run "
                    f"`{spec.label}`. Please try again in a minute.",
                )
        return decide(policy, spec.label, job["user_id"], job["channel"], groups)

    async def hold(
        self, spec: ActionSpec, call: Call, job: DispatchJob, verdict: Allowed
    ) -> Prompt:
        """Keep the run and word the first question (confirm, else approval)."""
        policy = spec.declaration.policy
        now = self._clock()
        thread = job["thread_ts"] or job["ts"]
        state = State.CONFIRM if verdict.confirm else State.APPROVAL
        run = await pending.create(
            self._pool(),
            PendingRun(
                id=pending.new_id(),
                event_id=job["event_id"],
                action=spec.name,
                call=call,
                requester=job["user_id"],
                team_id=job["team_id"],
                channel=job["channel"],
                thread_ts=thread,
                trigger=job["kind"],
                state=state,
                needs_approval=verdict.approval,
                confirm_by=now + timedelta(seconds=policy.confirm_timeout_s)
                if verdict.confirm
                else None,
                approve_by=None
                if verdict.confirm
                else now + timedelta(seconds=policy.approval_timeout_s),
                approval_s=policy.approval_timeout_s,
            ),
        )
        what = guarding.shown(summary(spec, call))
        if run.state is State.CONFIRM:
            text, blocks = guarding.confirm_prompt(run.id, what, policy.confirm_timeout_s)
            return Prompt(text, blocks, run.channel, job["thread_ts"], run.requester)
        return self._approval_prompt(spec, run, what)

    def _approval_prompt(self, spec: ActionSpec, run: PendingRun, what: str) -> Prompt:
        policy = spec.declaration.policy
        approvers = policy.approvers.people_text() if policy.approvers else "nobody"
        text, blocks = guarding.approval_prompt(
            run.id, what, run.requester, approvers, policy.approval_timeout_s
        )
        return Prompt(text, blocks, run.channel, run.thread_ts, None)

    async def click(
        self, click: Click, job: DispatchJob, actions: Mapping[str, ActionSpec]
    ) -> Answer | RunNow:
        """What a click on a `jeeves:` button does."""
        run = await pending.load(self._pool(), click.run_id)
        spec = actions.get(run.action) if run is not None else None
        if run is None or spec is None or not spec.enabled:
            return Answer(guarding.GONE)
        if click.button in ("confirm", "cancel"):
            return await self._caller_click(click, job, run, spec)
        return await self._approver_click(click, job, run, spec)

    async def _expire(
        self, run: PendingRun, job: DispatchJob, waiting: State, clicks: Mapping[str, str]
    ) -> Answer:
        expired = await pending.advance(
            self._pool(),
            run.id,
            from_state=waiting,
            to_state=State.EXPIRED,
            event_id=job["event_id"],
        )
        if expired is None:
            return Answer(guarding.ALREADY.format(state=run.state.value))
        return Answer(guarding.TOO_LATE, declined="expired", run=expired, clicks=clicks)

    async def _caller_click(
        self, click: Click, job: DispatchJob, run: PendingRun, spec: ActionSpec
    ) -> Answer | RunNow:
        clicker = job["user_id"]
        if clicker != run.requester:
            return Answer(guarding.NOT_YOURS.format(requester=run.requester))
        if run.state is not State.CONFIRM and run.decided_event != job["event_id"]:
            return Answer(guarding.ALREADY.format(state=run.state.value))
        if run.state is State.CONFIRM and guarding.expired(run.confirm_by, self._clock()):
            return await self._expire(run, job, State.CONFIRM, {})
        what = guarding.shown(summary(spec, run.call)) if run.call else f"`{spec.label}`"
        if click.button == "cancel":
            done = await pending.advance(
                self._pool(),
                run.id,
                from_state=State.CONFIRM,
                to_state=State.CANCELLED,
                event_id=job["event_id"],
                decided_by=clicker,
            )
            if done is None:
                return Answer(guarding.ALREADY.format(state=run.state.value))
            return Answer(
                guarding.CANCELLED_TEXT.format(what=what),
                declined="cancelled",
                run=done,
                clicks={"cancelled_by": clicker},
            )
        if run.needs_approval:
            deadline = self._clock() + timedelta(seconds=run.approval_s)
            moved = await pending.advance(
                self._pool(),
                run.id,
                from_state=State.CONFIRM,
                to_state=State.APPROVAL,
                event_id=job["event_id"],
                confirmed_by=clicker,
                approve_by=deadline,
            )
            if moved is None:
                return Answer(guarding.ALREADY.format(state=run.state.value))
            prompt = self._approval_prompt(spec, moved, what)
            return Answer("Thanks — I asked for approval in the thread.", prompt=prompt, run=moved)
        started = await pending.advance(
            self._pool(),
            run.id,
            from_state=State.CONFIRM,
            to_state=State.RUNNING,
            event_id=job["event_id"],
            confirmed_by=clicker,
        )
        if started is None or started.call is None:
            return Answer(guarding.ALREADY.format(state=run.state.value))
        return RunNow(started, spec, {"confirmed_by": clicker})

    async def _approver_click(
        self, click: Click, job: DispatchJob, run: PendingRun, spec: ActionSpec
    ) -> Answer | RunNow:
        clicker = job["user_id"]
        policy = spec.declaration.policy
        groups: frozenset[str] = frozenset()
        approvers = policy.approvers
        if approvers is not None and approvers.user_groups and clicker not in approvers.users:
            try:
                groups = await self._groups.member_of(clicker, approvers.user_groups)
            except GroupsUnavailable:
                return Answer("I could not check your user groups just now; please try again.")
        refusal = may_approve(policy, spec.label, clicker, run.requester, groups)
        if refusal is not None:
            return Answer(refusal)
        if run.state is not State.APPROVAL and run.decided_event != job["event_id"]:
            return Answer(guarding.ALREADY.format(state=run.state.value))
        clicks = {"confirmed_by": run.confirmed_by} if run.confirmed_by else {}
        if run.state is State.APPROVAL and guarding.expired(run.approve_by, self._clock()):
            return await self._expire(run, job, State.APPROVAL, clicks)
        what = guarding.shown(summary(spec, run.call)) if run.call else f"`{spec.label}`"
        to_state = State.RUNNING if click.button == "approve" else State.REJECTED
        moved = await pending.advance(
            self._pool(),
            run.id,
            from_state=State.APPROVAL,
            to_state=to_state,
            event_id=job["event_id"],
            decided_by=clicker,
        )
        if moved is None or (moved.call is None and to_state is State.RUNNING):
            return Answer(guarding.ALREADY.format(state=run.state.value))
        if to_state is State.REJECTED:
            text = guarding.REJECTED_TEXT.format(
                approver=clicker, what=what, requester=run.requester
            )
            clicks = {**clicks, "rejected_by": clicker}
            return Answer(text, declined="rejected", to_thread=True, run=moved, clicks=clicks)
        return RunNow(moved, spec, {**clicks, "approved_by": clicker})

    async def expire_overdue(self) -> list[PendingRun]:
        """Held runs past their deadline, now expired (each returned to one sweeper only)."""
        return await pending.expire_overdue(self._pool(), self._clock())


def masked_params(spec: ActionSpec | None, call: Call | None) -> dict[str, object] | None:
    if spec is None or call is None:
        return None
    return audit_params(spec, call)
