"""The request id of the work in progress, carried in a context variable.

Set from `X-Request-ID` (or generated) for each inbound request and by queue workers for each
job, read by logging and by the outbound HTTP client.
"""

from __future__ import annotations

import re
import secrets
from contextvars import ContextVar

REQUEST_ID_HEADER = "X-Request-ID"
_VALID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_request_id: ContextVar[str | None] = ContextVar("jeeves_request_id", default=None)


def new_request_id() -> str:
    """128 random bits as 32 hex digits (a uuid4's entropy, without building a UUID)."""
    return secrets.token_hex(16)


def bind_request_id(candidate: str | None) -> str:
    """Adopt `candidate` when it is a sane id, else generate one; log lines carry it (the
    logging configuration reads it from here)."""
    request_id = candidate if candidate and _VALID.match(candidate) else new_request_id()
    _request_id.set(request_id)
    return request_id


def current_request_id() -> str | None:
    return _request_id.get()


def clear_request_id() -> None:
    _request_id.set(None)
