"""The action SDK: everything an action service needs except its own domain code.

    async def act(request: ActionRequest) -> Reply | Later:
        if not request.text:
            raise ActionError(400, "Say something after `echo`.")
        return Reply(text=escape_mrkdwn(request.text))

    app = create_action_app("echo", settings, act)

`create_action_app` builds the kit app (`/healthz`, `/readyz`, `/metrics`, JSON errors, request
ids) and serves the action protocol (DESIGN.md "Action protocol") at `POST /v1/act`:

- the envelope `{"id", "action", "text", "args", "user": {"slack_id", "team_id"}, "channel",
  "thread_ts", "sent_at"}` is validated by `parse_envelope` (422 naming the field) and handed to
  the handler as a typed `ActionRequest`;
- the handler returns `Reply(text, blocks, ephemeral)` → `200 {"reply": {...}}` (with
  `"ephemeral": true` the user who asked alone sees it), or `LATER` → `202` (the
  action posts itself later through poster's `/v1/messages`), or raises
  `ActionError(status, message)`: a 4xx is permanent and `message` is what the user sees; a 5xx
  asks the dispatcher to retry. Anything else raised is a 500 (retried, then dead-lettered);
- `id` is the idempotency key: the answer to an `id` (200, 202 or 4xx) is kept and replayed for
  a repeated request without calling the handler again, and concurrent duplicates wait for the
  first. A call whose caller gives up (timeout, disconnect) still runs to the end and its answer
  is kept for the retry. 5xx answers are not kept, so retries run again. The default
  `MemoryReplyStore` is a bounded in-process LRU with a TTL: enough for stateless actions (a
  restart forgets, and the handler may then run twice for one id); pass a shared `ReplyStore`
  for stronger guarantees;
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
from datetime import UTC, datetime
from typing import Any, Protocol

from prometheus_client import Counter, Histogram
from quart import Quart, Response, jsonify, request

from jeeves.kit.app import create_app, kit
from jeeves.kit.auth import Auth, AuthRefused, AuthSettings, install_auth, verify_headers
from jeeves.kit.errors import APIError
from jeeves.kit.logging import get_logger
from jeeves.kit.metrics import LATENCY_BUCKETS
from jeeves.kit.settings import ServiceSettings

log = get_logger(__name__)
ACT_PATH = "/v1/act"
ACT_SCOPE = "act"  # the scope a caller's token needs for POST /v1/act
MAX_ID_LENGTH = 200


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
        data: dict[str, Any] = {"text": self.text}
        if self.blocks is not None:
            data["blocks"] = self.blocks
        if self.ephemeral:
            data["ephemeral"] = True
        return data


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


class EnvelopeError(ValueError):
    """The request body is not a valid action envelope; `field` names the culprit."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"'{field_name}' {message}")
        self.field = field_name


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


def _required_str(data: Mapping[str, Any], key: str, prefix: str = "", empty: bool = False) -> str:
    name = prefix + key
    if key not in data:
        raise EnvelopeError(name, "is required")
    value = data[key]
    if not isinstance(value, str):
        raise EnvelopeError(name, "must be a string")
    if not empty and not value.strip():
        raise EnvelopeError(name, "must not be empty")
    return value


def _sent_at(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            pass
        else:
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    raise EnvelopeError("sent_at", "must be epoch seconds or an ISO-8601 time")


def parse_envelope(data: Any) -> ActionRequest:
    """Validate the action envelope; raises EnvelopeError naming the first bad field."""
    if not isinstance(data, Mapping):
        raise EnvelopeError("body", "must be a JSON object")
    action_id = _required_str(data, "id")
    if len(action_id) > MAX_ID_LENGTH:
        raise EnvelopeError("id", f"must be at most {MAX_ID_LENGTH} characters")
    user = data.get("user")
    if not isinstance(user, Mapping):
        raise EnvelopeError("user", "must be an object with slack_id and team_id")
    args = data.get("args", {})
    if args is None:
        args = {}
    if not isinstance(args, Mapping):
        raise EnvelopeError("args", "must be an object")
    thread_ts = data.get("thread_ts")
    if thread_ts is not None and not isinstance(thread_ts, str):
        raise EnvelopeError("thread_ts", "must be a string or null")
    return ActionRequest(
        id=action_id,
        action=_required_str(data, "action"),
        text=_required_str(data, "text", empty=True),
        args=dict(args),
        user=ActionUser(
            slack_id=_required_str(user, "slack_id", "user."),
            team_id=_required_str(user, "team_id", "user."),
        ),
        channel=_required_str(data, "channel"),
        thread_ts=thread_ts or None,
        sent_at=_sent_at(data.get("sent_at")),
    )


# Idempotency --------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredAnswer:
    """An answer kept for replay: HTTP status and JSON body."""

    status: int
    body: dict[str, Any]


class ReplyStore(Protocol):
    """Where answers are kept by idempotency key."""

    async def get(self, key: str) -> StoredAnswer | None: ...

    async def put(self, key: str, answer: StoredAnswer) -> None: ...


class MemoryReplyStore:
    """Bounded in-process LRU with a TTL (forgets on restart; per process, not per cluster)."""

    def __init__(
        self,
        max_entries: int = 4096,
        ttl_s: float = 3600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._entries: OrderedDict[str, tuple[float, StoredAnswer]] = OrderedDict()
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
        self._entries[key] = (self._clock(), answer)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)


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


def _error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, **extra}}


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
    ) -> None:
        self.name = name
        self.handler = handler
        self.metrics = metrics
        self.verifier = verifier
        self.store = store
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
            return self._count(await asyncio.shield(running), "duplicate", parsed.id)
        # The work runs in its own task: a caller that gives up (its timeout, a disconnect)
        # does not abort it half-way; it finishes, and its answer waits for the retry.
        task = asyncio.create_task(self._complete(key, parsed))
        self._in_flight[key] = task
        task.add_done_callback(lambda _done: self._in_flight.pop(key, None))
        return await asyncio.shield(task)

    async def drain(self, timeout_s: float) -> None:
        """Wait up to `timeout_s` for calls still running."""
        running = list(self._in_flight.values())
        if running:
            await asyncio.wait(running, timeout=timeout_s)

    async def _complete(self, key: str, parsed: ActionRequest) -> StoredAnswer:
        answer = await self._run(parsed)
        if keeps(answer.status):
            await self.store.put(key, answer)
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
            return StoredAnswer(202, {"status": "accepted"})
        if not isinstance(result, Reply):
            log.error("action_bad_result", action=self.name, result_type=type(result).__name__)
            return StoredAnswer(500, _error_body("internal_error", "the action gave no reply"))
        return StoredAnswer(200, {"reply": result.to_json()})

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
        name, handler, ActionMetrics(app), verifier=verifier, store=store or MemoryReplyStore()
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
