"""`/_test/…`: fault controls for pipeline tests (served only with `JEEVES_ECHO_FAULTS=1`).

POST   /_test/fail    {"status": 500, "count": 3, "delay_s": 0}
                      the next `count` calls wait `delay_s`, then answer `status`
                      (500-599: retried by the dispatcher; 400-499: permanent, the
                      message reaches the user; 202: "will post later"; 200: a slow echo)
DELETE /_test/fail    forget planned faults
GET    /_test/calls   {"calls": [{"id", "action", "channel", "user", "command", "params",
                      "fault_status", "at"}]}
POST   /_test/reset   forget faults and calls

A delayed call that outlives its caller's timeout still finishes, and its answer is kept by the
SDK's idempotency store: the caller's retry with the same id then gets that answer at once (or
waits for it, when it arrives while the first call is still running).
"""

from __future__ import annotations

from quart import Blueprint, Response, jsonify, request

from jeeves.actions.echo.domain import EchoState, FaultRequestError, parse_fault_request
from jeeves.kit.errors import APIError


def test_blueprint(state: EchoState) -> Blueprint:
    blueprint = Blueprint("echo_test", __name__, url_prefix="/_test")

    @blueprint.post("/fail")
    async def plan_failures() -> Response:
        body = await request.get_json(force=True, silent=True)
        try:
            fault, count = parse_fault_request(body)
        except FaultRequestError as exc:
            raise APIError(422, "validation_failed", str(exc)) from None
        state.faults.add(fault, count)
        return jsonify({"planned": len(state.faults.queue)})

    @blueprint.delete("/fail")
    async def clear_failures() -> Response:
        state.faults.clear()
        return jsonify({"planned": 0})

    @blueprint.get("/calls")
    async def calls() -> Response:
        return jsonify({"calls": list(state.calls.calls)})

    @blueprint.post("/reset")
    async def reset() -> Response:
        state.faults.clear()
        state.calls.calls.clear()
        return jsonify({"reset": True})

    return blueprint
