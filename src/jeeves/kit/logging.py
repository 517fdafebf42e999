"""Structured JSON logging with request ids and secret redaction.

Log lines are JSON objects carrying `timestamp`, `level`, `service`, `event` and, inside a
request, `request_id`. The redaction processor removes configured secret values wherever they
appear and masks fields whose names look like credentials.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable, MutableMapping
from typing import Any

import structlog

from jeeves.kit.context import current_request_id

REDACTED = "[REDACTED]"
SENSITIVE_KEY = re.compile(r"(authorization|token|secret|password|cookie|signature)", re.I)
BEARER = re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]+")


class Redactor:
    """structlog processor removing secrets from every value of an event dict."""

    def __init__(self, secrets: Iterable[str]) -> None:
        self._secrets = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)

    def _clean(self, value: Any) -> Any:
        if isinstance(value, str):
            for secret in self._secrets:
                if secret in value:
                    value = value.replace(secret, REDACTED)
            return BEARER.sub(f"Bearer {REDACTED}", value)
        if isinstance(value, dict):
            return {
                k: REDACTED if SENSITIVE_KEY.search(str(k)) else self._clean(v)
                for k, v in value.items()
            }
        if isinstance(value, list | tuple):
            return [self._clean(v) for v in value]
        return value

    def __call__(
        self, _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        for key in list(event_dict):
            if SENSITIVE_KEY.search(key):
                event_dict[key] = REDACTED
            else:
                event_dict[key] = self._clean(event_dict[key])
        return event_dict


def configure_logging(service: str, level: str = "info", secrets: Iterable[str] = ()) -> None:
    """Send JSON lines to stdout for the whole process (structlog and stdlib alike)."""
    numeric = logging.getLevelName(level.upper())
    redactor = Redactor(secrets)
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        _add_request_id,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _add_service(service),
        structlog.processors.format_exc_info,
        redactor,
    ]
    structlog.configure(
        processors=[*shared, structlog.processors.JSONRenderer()],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(sys.stdout),
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.JSONRenderer(),
            ],
            foreign_pre_chain=[structlog.stdlib.add_logger_name, *shared],
        )
    )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(max(numeric, logging.INFO) if level == "debug" else numeric)
    for noisy in ("hypercorn.access", "uvicorn.error", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _add_request_id(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    request_id = current_request_id()
    if request_id is not None:
        event_dict.setdefault("request_id", request_id)
    return event_dict


def _add_service(service: str) -> Any:
    def processor(
        _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        event_dict.setdefault("service", service)
        return event_dict

    return processor


def error_text(exc: BaseException, limit: int = 500) -> str:
    """`Type: message` of an exception for a log field (secrets are redacted by the logger)."""
    message = str(exc)
    return f"{type(exc).__name__}: {message}"[:limit] if message else type(exc).__name__


def get_logger(name: str | None = None) -> Any:
    """A structlog logger; `name` is recorded as `logger`."""
    return structlog.get_logger(logger_name=name) if name else structlog.get_logger()
