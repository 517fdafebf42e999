"""HTTP surface of the emulator: Open-Meteo's `/v1/search` and `/v1/forecast`, and controls.

Controls (tests only): `POST /_control/faults` adds a fault, `DELETE /_control/faults` clears
them, `GET /_control/calls` counts calls per API, `POST /_control/reset` clears everything.
"""

from __future__ import annotations

import asyncio
from typing import Any

from quart import Blueprint, Response, jsonify, request

from jeeves.emulators.weather.domain import BadRequest, forecast, search, utc_now
from jeeves.emulators.weather.faults import Api, FaultBook, FaultSpecError, parse_fault
from jeeves.kit.app import kit
from jeeves.kit.errors import APIError

blueprint = Blueprint("open_meteo", __name__)
BOOK_KEY = "weather_faults"
DOWN_PAGE = "<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>"


def book() -> FaultBook:
    value = kit().extras.setdefault(BOOK_KEY, FaultBook())
    assert isinstance(value, FaultBook)
    return value


def _json(body: Any, status: int = 200) -> Response:
    response = jsonify(body)
    response.status_code = status
    return response


async def _faulty(api: Api) -> Response | None:
    """The answer a configured fault gives instead of the real one (None: answer normally)."""
    fault = book().take(api)
    if fault is None:
        return None
    if fault.mode == "slow":
        await asyncio.sleep(fault.delay_s)
        return None
    if fault.mode == "down":
        return Response(DOWN_PAGE, status=503, content_type="text/html")
    if fault.mode == "error":
        return _json({"error": True, "reason": "Internal server error"}, fault.status)
    if fault.mode == "garbage":
        return Response("\x00garbage{{", status=200, content_type="application/json")
    return _json({"unexpected": "shape", "generationtime_ms": 0.1})


def _bad_request(exc: BadRequest) -> Response:
    return _json({"error": True, "reason": str(exc)}, 400)


@blueprint.get("/v1/search")
async def geocoding_search() -> Response:
    faulty = await _faulty("geocoding")
    if faulty is not None:
        return faulty
    raw_count = request.args.get("count", "10")
    try:
        count = int(raw_count)
        return _json(search(request.args.get("name", ""), count))
    except BadRequest as exc:
        return _bad_request(exc)
    except ValueError:
        return _bad_request(BadRequest(f"Invalid count {raw_count}"))


@blueprint.get("/v1/forecast")
async def weather_forecast() -> Response:
    faulty = await _faulty("forecast")
    if faulty is not None:
        return faulty
    try:
        return _json(forecast(request.args, utc_now()))
    except BadRequest as exc:
        return _bad_request(exc)


@blueprint.post("/_control/faults")
async def add_fault() -> Response:
    try:
        fault = parse_fault(await request.get_json(force=True, silent=True))
    except FaultSpecError as exc:
        raise APIError(422, "validation_failed", str(exc)) from None
    book().add(fault)
    return _json(fault.to_json(), 201)


@blueprint.get("/_control/faults")
async def list_faults() -> Response:
    return _json({"faults": [f.to_json() for f in book().faults]})


@blueprint.delete("/_control/faults")
async def clear_faults() -> Response:
    book().clear()
    return Response("", status=204)


@blueprint.get("/_control/calls")
async def calls() -> Response:
    return _json(book().calls)


@blueprint.post("/_control/reset")
async def reset() -> Response:
    book().reset()
    return Response("", status=204)
