"""Handling one `reply` job: claim its key, wait for the governor, post with slack_sdk, record.

Per job:
1. claim the reply key in the outbound log (see `jeeves.poster.outbound` for the guarantees);
   an already-posted key is acknowledged without posting;
2. ask the governor for a slot in the channel: a short wait happens in-process, a long one
   sends the job back to the queue with that delay (so it neither blocks a worker slot nor
   burns an attempt);
3. post with `AsyncWebClient.chat_postMessage` (in the thread when the reply has thread_ts;
   `chat_postEphemeral` when only `ephemeral_to` may see it);
4. Slack's answer: ok → `posted`; 429 → block that channel for `Retry-After` and try again
   (other channels keep flowing); permanent errors → dead letter with Slack's reason;
   5xx/timeouts/connection errors → retried by the queue with backoff.

A key an earlier run left unconfirmed (`maybe_posted`) is first read back from Slack
(`jeeves.poster.domain.read_back`): found → recorded as posted, nothing sent; absent → posted;
Slack busy → the job tries again later; unverifiable → posted anyway and counted. Only such
keys pay for a read-back: one conversations.replies/.history call, a few when the window holds
more than a page.

A reply with a `version` (an alert group's message, `jeeves.poster.editing`) posts the newest
content known for its key; once its key is posted, a newer version edits the message in place
with chat.update (under the key's edit lock, paced by the same governor), an older or equal
one does nothing.

Each reply is posted with its workspace's bot token (`jeeves.poster.tokens`): the configured
one, or for a distributed app the installation of the reply's `team_id` — fetched before the
key is claimed, so a workspace without an installation dead-letters the reply without a call
to Slack, and a token that cannot be had now sends the job back to the queue. Slack refusing
a token (`invalid_auth`, `token_revoked`, `token_expired`, …) drops it from the cache; an
expired one is retried (the next attempt refreshes it). A reply with `ephemeral_to` goes to
that one person (chat.postEphemeral, or an ephemeral response_url answer); such a message
cannot be read back, so a crash mid-post may show it twice (never lose it).

Replies to slash commands and clicks carry the `response_url` Slack handed out with them; when
its host is trusted (`jeeves.poster.domain.response_url`), step 3 POSTs there through the kit's
HttpClient instead (it works in channels the bot is not a member of). Expired or used URLs fall
back to chat.postMessage in the same job; a response_url call left unanswered is never repeated
(see `jeeves.poster.outbound`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import asyncpg
from prometheus_client import CollectorRegistry, Counter, Histogram
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from jeeves.kit.data_client import DataUnavailable
from jeeves.kit.http import HttpClient
from jeeves.kit.jobs import REPLY, ReplyJob, parse_reply_job
from jeeves.kit.logging import get_logger
from jeeves.kit.queue import PermanentJobError, QueueJob, RetryJob, enqueue
from jeeves.kit.refreshing import CredentialUnavailable
from jeeves.poster import editing, outbound
from jeeves.poster.domain.governor import Governor
from jeeves.poster.domain.read_back import (
    PAGE_LIMIT,
    Step,
    Verdict,
    judge_page,
    read_back_delay,
    transport_failure,
    window_oldest,
)
from jeeves.poster.domain.response_url import (
    Answer,
    Doubt,
    ResponseResult,
    Route,
    after_doubt,
    choose_route,
    classify_response,
    response_body,
)
from jeeves.poster.domain.slack import (
    TOKEN_ERRORS,
    Kind,
    SlackResult,
    classify,
    error_label,
    reply_metadata,
    token_refused,
)
from jeeves.poster.tokens import BotTokens, NotInstalled

log = get_logger(__name__)
MAX_RATE_LIMITED_ROUNDS = 5
EDIT_RETRY_S = 1.0  # look again this soon when another worker holds a key's edit lock
POST_OUTCOMES = ("posted", "edited", "rate_limited", "permanent", "transient", "duplicate")
SLACK_METHODS = ("chat.postMessage", "chat.update")
AUTH_ERRORS = ("invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive")
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)


class PostMetrics:
    """Posting outcomes, governor waits and the end-to-end reply latency."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.posts = Counter(
            "jeeves_poster_posts_total",
            "Post outcomes (posted, rate_limited, permanent, transient), skips (duplicate, "
            "deferred), re-sends a read-back could not rule out (resent_unverified), "
            "response_url calls never answered, not repeated (unconfirmed) and messages "
            "changed in place (edited)",
            ["outcome"],
            registry=registry,
        )
        self.slack_errors = Counter(
            "jeeves_poster_slack_errors_total",
            "Failed Slack Web API calls by method and error (Slack's code when known, "
            "http_5xx-style for bare statuses, other)",
            ["method", "error"],
            registry=registry,
        )
        # Series that alerts and dashboards rate() exist from the start at 0, so the very
        # first 429 or refused token is an increase Prometheus can see.
        for outcome in POST_OUTCOMES:
            self.posts.labels(outcome)
        for method in SLACK_METHODS:
            for error in AUTH_ERRORS:
                self.slack_errors.labels(method, error)
        self.response_urls = Counter(
            "jeeves_poster_response_url_total",
            "Replies with a response_url by result: posted, gone (fell back to chat.postMessage), "
            "rate_limited, permanent, transient, unconfirmed, refused_host, expired_by_age",
            ["result"],
            registry=registry,
        )
        self.read_backs = Counter(
            "jeeves_poster_read_backs_total",
            "Read-backs of unconfirmed posts by result (found, absent, retry, unverifiable)",
            ["result"],
            registry=registry,
        )
        self.read_back_calls = Counter(
            "jeeves_poster_read_back_calls_total",
            "conversations.history/.replies calls made by read-backs (pages included)",
            registry=registry,
        )
        self.wait = Histogram(
            "jeeves_poster_governor_wait_seconds",
            "Time a reply waited for its channel's slot",
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.latency = Histogram(
            "jeeves_reply_latency_seconds",
            "From the gateway receiving an event to its reply being posted",
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )


def _slack_error(exc: BaseException) -> str:
    if isinstance(exc, SlackApiError) and isinstance(exc.response.data, dict):
        return str(exc.response.data.get("error") or exc.response.status_code)
    return type(exc).__name__


class LeaseLost(RetryJob):
    """Another worker claimed the reply key after this one's lease ran out (this one stalled).

    Raised instead of touching Slack or the log: the job runs again later and reads the log,
    where the new owner's outcome is (posted → done; still sending → wait for its lease)."""

    def __init__(self) -> None:
        super().__init__("reply key taken over by another worker (this one outlived its lease)")


def held(still_ours: bool) -> None:
    """Continue only while this worker's lease on the key is in force (outbound.Lease)."""
    if not still_ours:
        raise LeaseLost()


class Poster:
    """The `reply` entrypoint's handler."""

    def __init__(
        self,
        *,
        client: Callable[[], AsyncWebClient],
        tokens: BotTokens,
        pool: Callable[[], asyncpg.Pool],
        http: Callable[[], HttpClient],
        slack_api_url: str,
        slack_timeout_s: float,
        governor: Governor,
        metrics: PostMetrics,
        lease_s: float,
        max_wait_s: float,
        max_attempts: int = 5,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._client = client
        self._tokens = tokens
        self._pool = pool
        self._http = http
        self._slack_api_url = slack_api_url
        self._slack_timeout_s = slack_timeout_s
        self._governor = governor
        self._metrics = metrics
        self._lease_s = lease_s
        self._max_wait_s = max_wait_s
        self._max_attempts = max_attempts
        self._clock = clock
        self._sleep = sleep

    async def handle(self, job: QueueJob) -> None:
        try:
            reply = parse_reply_job(job.payload)
        except ValueError as exc:
            raise PermanentJobError(f"bad reply payload: {exc}") from None
        token = await self._token(reply)
        if reply.get("version"):
            reply = editing.newest(reply, await editing.offer(self._pool(), reply))
        ready = self._governor.delay(reply["channel"], self._clock()) == 0
        guess, why = self._route(reply, None)
        async with self._pool().acquire() as conn:
            claimed = await outbound.claim(
                conn,
                reply_key=reply["reply_key"],
                channel=reply["channel"],
                thread_ts=reply["thread_ts"],
                event_id=reply.get("event_id"),
                lease_s=self._lease_s,
                posting_now=ready,
                via=guess.value,
            )
        if claimed.claim is outbound.Claim.DONE and reply.get("version"):
            await self._edit(reply, token)
            return
        if claimed.claim is outbound.Claim.DONE:
            self._metrics.posts.labels("duplicate").inc()
            log.info("reply_already_posted", reply_key=reply["reply_key"], job_id=job.id)
            return
        if claimed.claim is outbound.Claim.BUSY:
            raise RetryJob("reply key is being posted by another worker", claimed.lease_left_s)
        lease = outbound.lease_of(reply["reply_key"], claimed)
        stored = claimed.via or (Route.CHAT.value if claimed.uncertain else None)  # old rows
        route, _ = self._route(reply, stored)
        if why in ("refused_host", "expired_by_age"):
            self._metrics.response_urls.labels(why).inc()
            log.warning("reply_response_url_skipped", reply_key=reply["reply_key"], reason=why)
        if claimed.uncertain and after_doubt(claimed.via) is Doubt.RECORD_UNCONFIRMED:
            await self._unconfirmed(reply, lease, "a crash during the response_url call")
            return
        if claimed.uncertain and not await self._absent_after_read_back(
            reply, job, claimed, lease, token
        ):
            return
        await self._deliver(reply, job, lease, token, marked=claimed.marked, route=route)

    async def _token(self, reply: ReplyJob) -> str:
        """The bot token of the reply's workspace (before anything is claimed)."""
        try:
            return await self._tokens.token_for(reply.get("team_id"))
        except NotInstalled as exc:
            self._metrics.posts.labels("permanent").inc()
            log.warning("reply_not_installed", reply_key=reply["reply_key"], reason=str(exc))
            raise PermanentJobError(str(exc)) from None
        except (CredentialUnavailable, DataUnavailable) as exc:
            raise RetryJob(f"no bot token now: {exc}") from None

    def _route(self, reply: ReplyJob, stored: str | None) -> tuple[Route, str]:
        return choose_route(
            reply, stored=stored, slack_api_url=self._slack_api_url, now=time.time()
        )

    async def _deliver(
        self,
        reply: ReplyJob,
        job: QueueJob,
        lease: outbound.Lease,
        token: str,
        *,
        marked: bool,
        route: Route = Route.CHAT,
    ) -> None:
        channel = reply["channel"]
        note = ""
        for _ in range(MAX_RATE_LIMITED_ROUNDS):
            if self._governor.delay(channel, self._clock()) > self._max_wait_s:
                await self._defer(reply, lease, self._governor.delay(channel, self._clock()))
                return
            wait = self._governor.reserve(channel, self._clock())
            self._metrics.wait.observe(wait)
            if wait > 0:
                await self._sleep(wait)
            if self._governor.blocked_for(channel, self._clock()) > 0:
                continue  # a 429 for this channel arrived while we waited
            if not marked:
                held(await outbound.mark_posting(self._pool(), lease, route.value))
                marked = True
            if route is Route.RESPONSE_URL:
                answer = await self._respond(reply, lease)
                if answer is None:
                    return
                if answer.kind is Answer.GONE:
                    note = f" (response_url: {answer.reason})"
                    await self._response_url_gone(reply, lease, answer)
                    route, marked = Route.CHAT, False
                    continue
                result = SlackResult(
                    Kind(answer.kind.value), answer.reason, retry_after_s=answer.retry_after_s
                )
            else:
                result = self._after_token_error(reply, await self._post(reply, token))
            if result.kind is Kind.RATE_LIMITED:
                self._metrics.posts.labels("rate_limited").inc()
                self._governor.block(channel, self._clock() + result.retry_after_s)
                log.warning("slack_rate_limited", channel=channel, retry_after=result.retry_after_s)
                continue
            await self._settle(reply, job, lease, result, route=route, note=note)
            return
        unsent = await outbound.mark_unsent(
            self._pool(),
            lease,
            "ratelimited",
            permanent=False,
            certain=route is Route.RESPONSE_URL,
        )
        held(unsent)
        raise RetryJob(
            "slack kept answering 429", self._governor.blocked_for(channel, self._clock())
        )

    def _after_token_error(self, reply: ReplyJob, result: SlackResult) -> SlackResult:
        """Slack refused the token: forget it; an expired one is retried (then refreshed)."""
        if result.reason in TOKEN_ERRORS:
            self._tokens.forget(reply.get("team_id"))
            log.warning("slack_token_refused", reason=result.reason, team_id=reply.get("team_id"))
            return token_refused(result, rotating=self._tokens.distributed)
        return result

    async def _post(self, reply: ReplyJob, token: str) -> SlackResult:
        private_to = reply.get("ephemeral_to")
        if private_to:
            return await self._call(
                "chat.postEphemeral",
                self._client().chat_postEphemeral(
                    token=token,
                    channel=reply["channel"],
                    user=private_to,
                    text=reply["text"],
                    blocks=reply.get("blocks") or None,
                    thread_ts=reply["thread_ts"] or None,
                ),
            )
        return await self._call(
            "chat.postMessage",
            self._client().chat_postMessage(
                token=token,
                channel=reply["channel"],
                text=reply["text"],
                blocks=reply.get("blocks") or None,
                thread_ts=reply["thread_ts"] or None,
                metadata=reply_metadata(reply["reply_key"]),
            ),
        )

    async def _call(self, method: str, call: Awaitable[AsyncSlackResponse]) -> SlackResult:
        """Slack's answer to one Web API call, classified; failures counted by method and a
        bounded error label."""
        response: AsyncSlackResponse | SlackResponse | None = None
        try:
            response = await call
        except SlackApiError as exc:
            response = exc.response
        except (aiohttp.ClientError, TimeoutError) as exc:
            result = SlackResult(Kind.TRANSIENT, type(exc).__name__)
        if response is not None:
            data = response.data if isinstance(response.data, dict) else None
            result = classify(response.status_code, data, response.headers)
        if result.kind is not Kind.POSTED:
            self._metrics.slack_errors.labels(method, error_label(result.reason)).inc()
        return result

    async def _respond(self, reply: ReplyJob, lease: outbound.Lease) -> ResponseResult | None:
        """POST the reply to its response_url; None when the call was left unanswered (then
        recorded as unconfirmed here: it is never repeated)."""
        url = reply.get("response_url") or ""
        try:
            response = await self._http().request(
                "POST",
                url,
                json=response_body(reply),
                idempotent=False,
                timeout_s=self._slack_timeout_s,
            )
            body = (await response.read()).decode("utf-8", "replace")
        except aiohttp.ClientConnectorError as exc:  # never connected: nothing was sent
            result = ResponseResult(Answer.TRANSIENT, type(exc).__name__)
        except (aiohttp.ClientError, TimeoutError) as exc:
            reason = f"response_url call failed: {type(exc).__name__}"
            await self._unconfirmed(reply, lease, reason)
            return None
        else:
            result = classify_response(response.status, body, response.headers)
        self._metrics.response_urls.labels(result.kind.value).inc()
        return result

    async def _response_url_gone(
        self, reply: ReplyJob, lease: outbound.Lease, answer: ResponseResult
    ) -> None:
        held(await outbound.mark_response_url_gone(self._pool(), lease, answer.reason))
        log.info(
            "reply_response_url_gone",
            reply_key=reply["reply_key"],
            reason=answer.reason,
            fallback="chat.postMessage",
        )

    async def _unconfirmed(self, reply: ReplyJob, lease: outbound.Lease, reason: str) -> None:
        """A response_url call that may or may not have landed: recorded, never repeated."""
        held(await outbound.mark_unconfirmed(self._pool(), lease, reason))
        self._metrics.posts.labels("unconfirmed").inc()
        self._metrics.response_urls.labels("unconfirmed").inc()
        log.warning("reply_unconfirmed", reply_key=reply["reply_key"], reason=reason)

    async def _absent_after_read_back(
        self,
        reply: ReplyJob,
        job: QueueJob,
        claimed: outbound.Claimed,
        lease: outbound.Lease,
        token: str,
    ) -> bool:
        """True when the reply may be posted: provably absent, or unverifiable (counted).

        False when this job is done: the reply was found (recorded as posted) or the read-back
        was deferred. Raises RetryJob when Slack could not answer (the key is released)."""
        key = reply["reply_key"]
        delay = read_back_delay(claimed.posting_age_s, self._lease_s)
        if delay > 0:  # the unconfirmed call may still be landing in Slack
            await self._defer(reply, lease, delay)
            return False
        started = time.perf_counter()
        step, pages = await self._read_back(reply, claimed.posting_at, token)
        self._metrics.read_backs.labels(step.verdict.value).inc()
        elapsed_ms = round((time.perf_counter() - started) * 1000, 1)
        fields = {"reply_key": key, "pages": pages, "elapsed_ms": elapsed_ms}
        if step.verdict is Verdict.FOUND:
            held(await outbound.mark_posted(self._pool(), lease, step.ts))
            self._metrics.posts.labels("duplicate").inc()
            log.info("reply_read_back_found", ts=step.ts, **fields)
            if reply.get("version"):  # the message found may hold older content
                await self._edit(reply, token)
            return False
        if step.verdict is Verdict.RETRY and job.attempt < self._max_attempts:
            held(await outbound.release(self._pool(), lease))
            log.warning("reply_read_back_retry", reason=step.reason, **fields)
            raise RetryJob(f"read-back failed: {step.reason}", step.retry_after_s)
        if step.verdict is Verdict.ABSENT:
            log.info("reply_read_back_absent", **fields)
            return True
        self._metrics.posts.labels("resent_unverified").inc()
        log.warning("reply_read_back_failed", error=step.reason, **fields)
        return True

    async def _read_back(
        self, reply: ReplyJob, posting_at: float | None, token: str
    ) -> tuple[Step, int]:
        """Read the window page by page until a verdict (see domain.read_back)."""
        query: dict[str, Any] = {
            "channel": reply["channel"],
            "oldest": window_oldest(posting_at, time.time()),
            "limit": PAGE_LIMIT,
            "include_all_metadata": True,
            "token": token,
        }
        pages = 0
        while True:
            pages += 1
            self._metrics.read_back_calls.inc()
            step = await self._read_page(reply, query, pages)
            if step.verdict is not Verdict.MORE:
                return step, pages
            query["cursor"] = step.cursor

    async def _read_page(self, reply: ReplyJob, query: dict[str, Any], page: int) -> Step:
        client = self._client()
        try:
            if reply["thread_ts"]:
                answer = await client.conversations_replies(ts=reply["thread_ts"], **query)
            else:
                answer = await client.conversations_history(**query)
        except SlackApiError as exc:
            answer = exc.response
        except (aiohttp.ClientError, TimeoutError) as exc:
            return transport_failure(type(exc).__name__)
        data = answer.data if isinstance(answer.data, dict) else None
        return judge_page(answer.status_code, data, answer.headers, reply["reply_key"], page=page)

    async def _settle(
        self,
        reply: ReplyJob,
        job: QueueJob,
        lease: outbound.Lease,
        result: SlackResult,
        *,
        route: Route = Route.CHAT,
        note: str = "",
    ) -> None:
        key = reply["reply_key"]
        self._metrics.posts.labels(result.kind.value).inc()
        if result.kind is Kind.POSTED:
            held(await outbound.mark_posted(self._pool(), lease, result.ts))
            version = reply.get("version")
            if version:
                await editing.mark_applied(self._pool(), key, version)
            sent_at = reply.get("sent_at")
            if isinstance(sent_at, int | float):
                self._metrics.latency.observe(max(0.0, time.time() - sent_at))
            log.info(
                "reply_posted",
                reply_key=key,
                channel=reply["channel"],
                attempt=job.attempt,
                via=route.value,
            )
            return
        permanent = result.kind is Kind.PERMANENT
        reason = result.reason + note
        unsent = await outbound.mark_unsent(
            self._pool(), lease, reason, permanent=permanent, certain=route is Route.RESPONSE_URL
        )
        held(unsent)
        log.warning("reply_not_posted", reply_key=key, reason=reason, permanent=permanent)
        if permanent:
            raise PermanentJobError(f"slack refused the reply: {reason}")
        raise RetryJob(f"slack failed: {reason}")

    async def _edit(self, reply: ReplyJob, token: str) -> None:
        """The key is posted: bring its message to the newest content (chat.update) unless
        Slack already shows it. Runs under the key's edit lock (see `editing`)."""
        key = reply["reply_key"]
        async with self._pool().acquire() as conn, conn.transaction():
            target = await editing.lock(conn, key)
            if target is None:  # another worker is editing this key right now
                await self._requeue(conn, reply, EDIT_RETRY_S)
                return
            content = target.content
            if not content.behind or target.ts is None:
                self._metrics.posts.labels("duplicate").inc()
                log.info(
                    "reply_edit_skipped",
                    reply_key=key,
                    version=content.version,
                    applied=content.applied,
                    has_ts=target.ts is not None,
                )
                return
            delay = self._governor.delay(target.channel, self._clock())
            if delay > self._max_wait_s:
                await self._requeue(conn, reply, delay)
                return
            wait = self._governor.reserve(target.channel, self._clock())
            self._metrics.wait.observe(wait)
            if wait > 0:
                await self._sleep(wait)
            result = self._after_token_error(
                reply, await self._update(target, editing.newest(reply, content), token)
            )
            if result.kind is Kind.POSTED:
                await editing.mark_applied(conn, key, content.version)
        self._after_edit(reply, target, result)

    def _after_edit(self, reply: ReplyJob, target: editing.Target, result: SlackResult) -> None:
        key, version = reply["reply_key"], target.content.version
        if result.kind is Kind.POSTED:
            self._metrics.posts.labels("edited").inc()
            log.info("reply_edited", reply_key=key, channel=target.channel, version=version)
            return
        self._metrics.posts.labels(result.kind.value).inc()
        log.warning("reply_not_edited", reply_key=key, reason=result.reason, version=version)
        if result.kind is Kind.RATE_LIMITED:
            self._governor.block(target.channel, self._clock() + result.retry_after_s)
            raise RetryJob("slack answered 429 to chat.update", result.retry_after_s)
        if result.kind is Kind.PERMANENT:
            raise PermanentJobError(f"slack refused the edit: {result.reason}")
        raise RetryJob(f"slack failed the edit: {result.reason}")

    async def _update(self, target: editing.Target, reply: ReplyJob, token: str) -> SlackResult:
        return await self._call(
            "chat.update",
            self._client().chat_update(
                token=token,
                channel=target.channel,
                ts=target.ts or "",
                text=reply["text"],
                blocks=reply.get("blocks") or None,
                metadata=reply_metadata(reply["reply_key"]),
            ),
        )

    async def _requeue(self, conn: asyncpg.Connection, reply: ReplyJob, delay_s: float) -> None:
        """Queue the same edit again later (in the caller's transaction); this job ends
        without an attempt spent."""
        await enqueue(conn, REPLY, reply, delay_s=delay_s)
        self._metrics.posts.labels("deferred").inc()
        log.info("reply_edit_requeued", reply_key=reply["reply_key"], delay_s=round(delay_s, 3))

    async def _defer(self, reply: ReplyJob, lease: outbound.Lease, delay_s: float) -> None:
        """Hand the reply back to the queue for later; this job ends without an attempt spent."""
        async with self._pool().acquire() as conn, conn.transaction():
            held(await outbound.release(conn, lease))  # lost: rolled back, nothing queued
            await enqueue(conn, REPLY, reply, delay_s=delay_s)
        self._metrics.posts.labels("deferred").inc()
        log.info("reply_deferred", reply_key=reply["reply_key"], delay_s=round(delay_s, 3))
