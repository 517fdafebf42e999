"""`response_url`s: where an app answers a slash command or a click, as Slack allows it.

Each URL is valid for 30 minutes and 5 uses. An answer is `{"text", "blocks", "response_type":
"ephemeral" (default) | "in_channel", "replace_original", "delete_original", "thread_ts"}`;
replacing or deleting applies to the clicked message. Pure: state in memory, clock injected.
"""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from jeeves.emulators.slack.domain.envelopes import Identity
from jeeves.emulators.slack.domain.messages import MessageLog
from jeeves.emulators.slack.domain.web_api import ApiAnswer, fail, ok

USES = 5
TTL_S = 30 * 60


@dataclass
class Hook:
    channel: str
    user: str
    message_ts: str | None  # the clicked message, for replace_original / delete_original
    thread_ts: str | None  # the thread the clicked message is in
    created: float
    uses: int = 0


class ResponseUrls:
    """Issued hooks (bounded: the oldest are forgotten first) and the answers posted to them."""

    def __init__(
        self,
        messages: MessageLog,
        identity: Identity,
        *,
        keep: int = 10_000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._messages = messages
        self._identity = identity
        self._keep = keep
        self._clock = clock
        self._hooks: OrderedDict[str, Hook] = OrderedDict()

    def issue(self, channel: str, user: str, message_ts: str | None = None) -> str:
        """A new hook id for an interaction by `user` in `channel` (on `message_ts`)."""
        hook_id = secrets.token_urlsafe(12)
        clicked = self._messages.find(channel, message_ts) if message_ts else None
        thread_ts = clicked.thread_ts if clicked else None
        self._hooks[hook_id] = Hook(channel, user, message_ts, thread_ts, self._clock())
        while len(self._hooks) > self._keep:
            self._hooks.popitem(last=False)
        return hook_id

    def channel_of(self, hook_id: str) -> str | None:
        """The channel a hook answers in (None for an unknown hook)."""
        hook = self._hooks.get(hook_id)
        return hook.channel if hook is not None else None

    def respond(self, hook_id: str, body: Any) -> ApiAnswer:
        """The app posts `body` to a hook."""
        hook = self._hooks.get(hook_id)
        if hook is None or self._clock() - hook.created > TTL_S:
            return fail("expired_url", 404)
        if hook.uses >= USES:
            return fail("used_url", 404)
        if not isinstance(body, Mapping):
            return fail("invalid_payload", 400)
        hook.uses += 1
        return self.show(hook.channel, hook.user, body, hook.message_ts, hook.thread_ts)

    def show(
        self,
        channel: str,
        user: str,
        body: Mapping[str, Any],
        message_ts: str | None = None,
        thread_ts: str | None = None,
    ) -> ApiAnswer:
        """Apply one answer: a new message, or a change to the clicked one."""
        original = self._messages.find(channel, message_ts) if message_ts else None
        if original is not None and body.get("delete_original") is True:
            original.text, original.blocks = "(deleted)", None
            return ok()
        text, blocks = body.get("text"), body.get("blocks")
        if not isinstance(text, str | None) or not isinstance(blocks, list | None):
            return fail("invalid_payload", 400)
        if original is not None and body.get("replace_original") is True:
            self._messages.update(original, text, blocks)
            return ok()
        in_channel = body.get("response_type") == "in_channel"
        self._messages.add(
            "response_url",
            channel,
            self._identity.bot_user_id,
            text or "",
            blocks=blocks,
            thread_ts=body.get("thread_ts") or thread_ts,
            bot_id=self._identity.bot_id,
            ephemeral_to=None if in_channel else user,
        )
        return ok()

    def clear(self) -> None:
        self._hooks.clear()
