"""Errors as data: `APIError` and the handlers that answer every error as JSON.

Every 4xx/5xx leaves a service as `{"error": {"code", "message"}}` — never HTML or a traceback.
"""

from __future__ import annotations

from typing import Any

from quart import Quart, Response, jsonify
from werkzeug.exceptions import HTTPException

from jeeves.kit.logging import get_logger

log = get_logger(__name__)

HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    412: "precondition_failed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "too_many_requests",
    503: "unavailable",
}


class APIError(Exception):
    """An error answered to the client as-is: status, machine code, human message."""

    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    """The JSON body of every error answer."""
    return {"error": {"code": code, "message": message, **extra}}


def error_response(status: int, code: str, message: str, **extra: Any) -> Response:
    response = jsonify(error_body(code, message, **extra))
    response.status_code = status
    return response


def install_error_handlers(app: Quart) -> None:
    """Register JSON handlers for APIError, HTTP errors and anything unexpected."""

    @app.errorhandler(APIError)
    async def _api_error(exc: APIError) -> Response:
        return error_response(exc.status, exc.code, exc.message, **exc.extra)

    @app.errorhandler(HTTPException)
    async def _http_error(exc: HTTPException) -> Response:
        status = exc.code or 500
        code = HTTP_CODES.get(status, "http_error")
        message = exc.description or exc.name
        response = error_response(status, code, message)
        if status == 405 and exc.get_response().headers.get("Allow"):
            response.headers["Allow"] = exc.get_response().headers["Allow"]
        return response

    @app.errorhandler(Exception)
    async def _unexpected(exc: Exception) -> Response:
        log.error("unhandled_error", error_type=type(exc).__name__, exc_info=exc)
        return error_response(500, "internal_error", "internal error; see the service logs")
