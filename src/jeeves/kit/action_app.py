"""The action SDK: everything an action service needs except its own domain code.

    async def act(request: ActionRequest) -> Reply | Later:
        if not request.text:
            raise ActionError(400, "Say something after `echo`.")
        return Reply(text=escape_mrkdwn(request.text))

    app = create_action_app("echo", settings, act)

`create_action_app` builds the kit app (`/healthz`, `/readyz`, `/metrics`, JSON errors, request
ids) and serves the action protocol (DESIGN.md "Action protocol") at `POST /v1/act`:

- the envelope `{"id", "action", "text", "args", "user": {"slack_id", "team_id"}, "channel",
  "thread_ts", "sent_at"}` is validated by `parse_envelope` (the pydantic models of
  `jeeves.kit.protocol`, published as docs/action-protocol.schema.json; 422 naming the field)
  and handed to the handler as a typed `ActionRequest`;
- the handler returns `Reply(text, blocks, ephemeral)` → `200 {"reply": {...}}` (with
  `"ephemeral": true` the user who asked alone sees it), or `LATER` → `202` (the
  action posts itself later through poster's `/v1/messages`), or raises
  `ActionError(status, message)`: a 4xx is permanent and `message` is what the user sees; a 5xx
  asks the dispatcher to retry. Anything else raised is a 500 (retried, then dead-lettered);
- `id` is the idempotency key: the answer to an `id` (200, 202 or 4xx) is kept and replayed for
  a repeated request without calling the handler again. A call first *reserves* its id in the
  store (atomically: one reservation per id until its answer or its expiry); a concurrent
  duplicate in the same process waits for the first, one in another replica sharing the store
  is answered `503 in_progress` (the dispatcher retries, and then gets the kept answer) — so
  the handler runs once per id even across replicas. A call whose caller gives up (timeout,
  disconnect) still runs to the end and its answer is kept for the retry. 5xx answers are not
  kept (the reservation is released), so retries run again. The default `MemoryReplyStore` is a
  bounded in-process LRU with a TTL: enough for stateless actions (a restart forgets, and the
  handler may then run twice for one id); pass a shared `ReplyStore` for stronger guarantees;
- shutdown is bounded: `drain` waits up to the graceful timeout for running calls, then
  cancels them (their callers get `503 shutting_down`, their reservations are released);
- authentication is a hook: `verifier(headers)` (header names lower-cased) runs before anything
  else and returns the caller's claims (kept on `ActionRequest.claims`) or raises
  `ActionError(401/403, …)`. With `AuthSettings` and `JEEVES_TOKENS_URL` set, it defaults to
  the token dealer's JWTs: audience = the action's name, scope `act` (`jeeves.kit.auth`);
- `escape_mrkdwn(text)` escapes `&`, `<`, `>` in text the user (or any third party) supplied
  before it goes into a reply's mrkdwn (`Reply.text`, a mrkdwn text object in `blocks`): Slack
  reads `<!channel>`, `<@U123>` and `<http://…|label>` as pings and links, so echoing a user's
  `<!channel>` raw would make the bot ping the whole channel. Escape the user's part only, never
  the action's own markup (`*bold*`, `` `code` ``, links it builds on purpose);
- `jeeves_action_requests_total{action,outcome}` counts outcomes (`replied`, `deferred`,
  `rejected`, `failed`, `invalid`, `unauthorized`, `duplicate`) and
  `jeeves_action_duration_seconds{action}` times the handler.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol

from prometheus_client import Counter, Histogram
from quart import Quart, Response, jsonify, request

from jeeves.kit.app import create_app, kit
from jeeves.kit.auth import Auth, AuthRefused, AuthSettings, install_auth, verify_headers
from jeeves.kit.errors import APIError
from jeeves.kit.logging import get_logger
from jeeves.kit.metrics import LATENCY_BUCKETS
from jeeves.kit.protocol import (
    ActionAccepted,
    ActionEnvelope,
    ActionReply,
    ErrorBody,
    ErrorDetail,
    ReplyContent,
)
from jeeves.kit.settings import ServiceSettings
from jeeves.kit.validation import Invalid, check_model

log = get_logger(__name__)
ACT_PATH = "/v1/act"
ACT_SCOPE = "act"  # the scope a caller's token needs for POST /v1/act
RESERVE_S = 300.0  # a reservation outlives any call; one whose replica died expires after it


@dataclass(frozen=True)
class ActionUser:
    slack_id: str
    team_id: str


@dataclass(frozen=True)
class ActionRequest:
    """One call of the action, as the dispatcher sent it."""

    id: str  # idempotency key: the same id always gets the same answer
    action: str  # the registered action name the dispatcher routed to
    text: str  # what the user wrote after the keyword
    args: Mapping[str, Any]
    user: ActionUser
    channel: str
    thread_ts: str | None
    sent_at: datetime | None
    claims: Mapping[str, Any] = field(default_factory=dict)  # from the verifier, when one is set


@dataclass(frozen=True)
class Reply:
    """A reply the dispatcher hands to the poster (`ephemeral`: only the asker sees it)."""

    text: str
    blocks: list[dict[str, Any]] | None = None
    ephemeral: bool = False

    def to_json(self) -> dict[str, Any]:
        """The `reply` of a 200 answer (`jeeves.kit.protocol.ReplyContent`; defaults left out)."""
        return ReplyContent(
            text=self.text, blocks=self.blocks, ephemeral=self.ephemeral
        ).model_dump(exclude_defaults=True)


@dataclass(frozen=True)
class Later:
    """The action will post itself later (answered 202)."""


LATER = Later()


class ActionError(Exception):
    """An answer other than a reply: 4xx permanent (message shown to the user), 5xx retried."""

    def __init__(self, status: int, message: str, code: str | None = None) -> None:
        if not 400 <= status <= 599:
            raise ValueError("ActionError status must be 4xx or 5xx")
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code or ("action_rejected" if status < 500 else "action_unavailable")


class EnvelopeError(Invalid):
    """The request body is not a valid action envelope; `field` names the culprit."""


Handler = Callable[[ActionRequest], Awaitable["Reply | Later"]]
Verifier = Callable[[Mapping[str, str]], Awaitable[Mapping[str, Any]]]


# Replies (pure) -----------------------------------------------------------------------------

_MRKDWN_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


def escape_mrkdwn(text: str) -> str:
    """`text` shown as-is in Slack mrkdwn: `&`, `<`, `>` become `&amp;`, `&lt;`, `&gt;` (the
    three characters Slack asks to escape), so `<!channel>` cannot ping anyone and `<url|x>`
    is no link. Apply it once, to user-supplied (or third-party) parts of a reply."""
    return text.translate(_MRKDWN_ESCAPES)


# Parsing the envelope (pure) ----------------------------------------------------------------


def parse_envelope(data: Any) -> ActionRequest:
    """Validate the action envelope (`jeeves.kit.protocol.ActionEnvelope`); raises
    EnvelopeError naming the first bad field."""
    try:
        envelope = check_model(ActionEnvelope, data)
    except Invalid as exc:
        raise EnvelopeError(exc.field, exc.message) from None
    return ActionRequest(
        id=envelope.id,
        action=envelope.action,
        text=envelope.text,
        args=dict(envelope.args),
        user=ActionUser(slack_id=envelope.user.slack_id, team_id=envelope.user.team_id),
        channel=envelope.channel,
        thread_ts=envelope.thread_ts or None,
        sent_at=envelope.sent_time(),
    )


# Idempotency --------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredAnswer:
    """An answer kept for replay: HTTP status and JSON body."""

    status: int
    body: dict[str, Any]


class ReplyStore(Protocol):
    """Where answers are kept by idempotency key; shared by replicas for cross-replica
    guarantees. `reserve` must be atomic (e.g. an INSERT … ON CONFLICT DO NOTHING, a SET NX)."""

    async def get(self, key: str) -> StoredAnswer | None: ...

    async def put(self, key: str, answer: StoredAnswer) -> None:
        """Keep `answer` (it replaces the key's reservation)."""

    async def reserve(self, key: str, ttl_s: float) -> bool:
        """True when this caller may run the handler for `key`: no answer is kept and no
        unexpired reservation exists. The reservation lasts `ttl_s` unless put or released."""

    async def release(self, key: str) -> None:
        """Drop the key's reservation without an answer (a 5xx, a cancelled call)."""


class MemoryReplyStore:
    """Bounded in-process LRU with a TTL (forgets on restart; per process unless the same object
    is handed to several apps)."""

    def __init__(
        self,
        max_entries: int = 4096,
        ttl_s: float = 3600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._entries: OrderedDict[str, tuple[float, StoredAnswer]] = OrderedDict()
        self._reserved: dict[str, float] = {}  # key → expiry
        self._max = max_entries
        self._ttl = ttl_s
        self._clock = clock

    def __len__(self) -> int:
        return len(self._entries)

    async def get(self, key: str) -> StoredAnswer | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        stored_at, answer = entry
        if self._clock() - stored_at > self._ttl:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return answer

    async def put(self, key: str, answer: StoredAnswer) -> None:
        self._reserved.pop(key, None)
        self._entries[key] = (self._clock(), answer)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)

    async def reserve(self, key: str, ttl_s: float) -> bool:
        now = self._clock()
        if await self.get(key) is not None or self._reserved.get(key, now) > now:
            return False
        self._reserved[key] = now + ttl_s
        return True

    async def release(self, key: str) -> None:
        self._reserved.pop(key, None)


def keeps(status: int) -> bool:
    """Answers replayed for a repeated id: final ones (2xx, 4xx), never 5xx."""
    return status < 500


# Serving ------------------------------------------------------------------------------------


class ActionMetrics:
    def __init__(self, app: Quart) -> None:
        registry = kit(app).registry
        self.requests = Counter(
            "jeeves_action_requests_total",
            "Action protocol requests by outcome",
            ["action", "outcome"],
            registry=registry,
        )
        self.duration = Histogram(
            "jeeves_action_duration_seconds",
            "Time the action's handler took",
            ["action"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )


def _error_body(code: str, message: str, field: str | None = None) -> dict[str, Any]:
    detail = ErrorDetail(code=code, message=message, field=field)
    return ErrorBody(error=detail).model_dump(exclude_none=True)


class ActionEndpoint:
    """`POST /v1/act` for one action service."""

    def __init__(
        self,
        name: str,
        handler: Handler,
        metrics: ActionMetrics,
        *,
        verifier: Verifier | None,
        store: ReplyStore,
        reserve_s: float = RESERVE_S,
    ) -> None:
        self.name = name
        self.handler = handler
        self.metrics = metrics
        self.verifier = verifier
        self.store = store
        self.reserve_s = reserve_s
        self._in_flight: dict[str, asyncio.Task[StoredAnswer]] = {}

    async def serve(self, headers: Mapping[str, str], body: Any) -> StoredAnswer:
        claims: Mapping[str, Any] = {}
        if self.verifier is not None:
            try:
                claims = await self.verifier(headers)
            except ActionError as exc:
                return self._count(StoredAnswer(exc.status, _error_body(exc.code, exc.message)))
        try:
            parsed = parse_envelope(body)
        except EnvelopeError as exc:
            answer = _error_body("validation_failed", str(exc), field=exc.field)
            return self._count(StoredAnswer(422, answer), "invalid")
        if claims:
            parsed = replace(parsed, claims=claims)
        return await self._once(parsed)

    async def _once(self, parsed: ActionRequest) -> StoredAnswer:
        key = f"{parsed.action}:{parsed.id}"
        stored = await self.store.get(key)
        if stored is not None:
            return self._count(stored, "duplicate", parsed.id)
        running = self._in_flight.get(key)
        if running is not None:
            return self._count(await self._outcome(running), "duplicate", parsed.id)
        if not await self.store.reserve(key, self.reserve_s):
            stored = await self.store.get(key)  # finished meanwhile, or running elsewhere
            if stored is not None:
                return self._count(stored, "duplicate", parsed.id)
            busy = _error_body("in_progress", "this id is being handled by another replica")
            return self._count(StoredAnswer(503, busy), "duplicate", parsed.id)
        # The work runs in its own task: a caller that gives up (its timeout, a disconnect)
        # does not abort it half-way; it finishes, and its answer waits for the retry.
        task = asyncio.create_task(self._complete(key, parsed))
        self._in_flight[key] = task
        task.add_done_callback(lambda _done: self._in_flight.pop(key, None))
        return await self._outcome(task)

    @staticmethod
    async def _outcome(task: asyncio.Task[StoredAnswer]) -> StoredAnswer:
        """The task's answer (shielded from the caller's cancellation); 503 when it was
        cancelled by `drain`."""
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            if not task.cancelled():
                raise  # the caller itself was cancelled
            return StoredAnswer(503, _error_body("shutting_down", "the action is stopping"))

    async def drain(self, timeout_s: float) -> None:
        """Wait up to `timeout_s` for calls still running, then cancel those left."""
        running = list(self._in_flight.values())
        if not running:
            return
        _, left = await asyncio.wait(running, timeout=timeout_s)
        for task in left:
            task.cancel()
        if left:
            log.warning("action_calls_cancelled", action=self.name, calls=len(left))
            await asyncio.wait(left)

    async def _complete(self, key: str, parsed: ActionRequest) -> StoredAnswer:
        try:
            answer = await self._run(parsed)
        except asyncio.CancelledError:
            await self.store.release(key)
            raise
        if keeps(answer.status):
            await self.store.put(key, answer)
        else:
            await self.store.release(key)
        return self._count(answer, None, parsed.id)

    async def _run(self, parsed: ActionRequest) -> StoredAnswer:
        started = time.perf_counter()
        try:
            result = await self.handler(parsed)
        except ActionError as exc:
            return StoredAnswer(exc.status, _error_body(exc.code, exc.message))
        except Exception as exc:
            log.error(
                "action_failed",
                action=self.name,
                id=parsed.id,
                error_type=type(exc).__name__,
                exc_info=exc,
            )
            return StoredAnswer(500, _error_body("internal_error", "the action failed"))
        finally:
            self.metrics.duration.labels(self.name).observe(time.perf_counter() - started)
        if isinstance(result, Later):
            return StoredAnswer(202, ActionAccepted().model_dump())
        if not isinstance(result, Reply):
            log.error("action_bad_result", action=self.name, result_type=type(result).__name__)
            return StoredAnswer(500, _error_body("internal_error", "the action gave no reply"))
        return StoredAnswer(
            200,
            ActionReply(reply=ReplyContent(**result.to_json())).model_dump(exclude_defaults=True),
        )

    def _count(
        self, answer: StoredAnswer, outcome: str | None = None, action_id: str | None = None
    ) -> StoredAnswer:
        outcome = outcome or outcome_of(answer.status)
        self.metrics.requests.labels(self.name, outcome).inc()
        log.info("action", action=self.name, id=action_id, outcome=outcome, status=answer.status)
        return answer


def outcome_of(status: int) -> str:
    if status == 200:
        return "replied"
    if status == 202:
        return "deferred"
    if status in (401, 403):
        return "unauthorized"
    return "rejected" if status < 500 else "failed"


def token_verifier(auth: Auth, scope: str = ACT_SCOPE) -> Verifier:
    """The `verifier` hook checking the dealer's JWT (audience and `scope`)."""

    async def verify(headers: Mapping[str, str]) -> Mapping[str, Any]:
        try:
            claims = await verify_headers(auth, headers, [scope])
        except AuthRefused as exc:
            raise ActionError(exc.status, exc.message, code=exc.code) from None
        if claims is None:
            return {}
        return {"sub": claims.subject, "scopes": sorted(claims.scopes), "jti": claims.token_id}

    return verify


def create_action_app(
    name: str,
    settings: ServiceSettings,
    handler: Handler,
    *,
    verifier: Verifier | None = None,
    store: ReplyStore | None = None,
    configure_logs: bool = True,
) -> Quart:
    """A kit app serving the action protocol for `name` with `handler`."""
    app = create_app(name, settings, configure_logs=configure_logs)
    if verifier is None and isinstance(settings, AuthSettings):
        auth = install_auth(app, settings, audience=name)
        verifier = token_verifier(auth) if auth.enabled else None
    endpoint = ActionEndpoint(
        name,
        handler,
        ActionMetrics(app),
        verifier=verifier,
        store=store if store is not None else MemoryReplyStore(),  # an empty store is falsy
    )
    kit(app).extras["action_endpoint"] = endpoint

    @app.after_serving
    async def _drain() -> None:
        """Let calls whose callers went away finish (bounded by the graceful timeout)."""
        await endpoint.drain(settings.graceful_timeout_s)

    @app.post(ACT_PATH)
    async def _act() -> Response:
        body = await request.get_json(force=True, silent=True)
        if body is None:
            raise APIError(400, "bad_request", "the body must be a JSON action envelope")
        headers = {key.lower(): value for key, value in request.headers.items()}
        answer = await endpoint.serve(headers, body)
        response = jsonify(answer.body)
        response.status_code = answer.status
        return response

    return app
