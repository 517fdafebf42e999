"""Charging py-spy samples to layers (jeeves.localstack.profiling): pure parsing and counting."""

from __future__ import annotations

from pathlib import Path

import pytest

from jeeves.localstack.profiling import layer_of, read_raw, summarize

pytestmark = pytest.mark.unit

LOOP = "_run_once (asyncio/base_events.py:1922)"
SERVER = "data_received (uvicorn/protocols/http/httptools_impl.py:173)"
ROUTES = "__call__ (jeeves/gateway/routes.py:238)"
JSON = "decode (json/decoder.py:337)"
HMAC = "new (hmac.py:184)"


def test_the_innermost_known_frame_names_the_layer() -> None:
    assert layer_of([LOOP, SERVER, ROUTES, JSON]) == "JSON encode/decode"
    assert layer_of([LOOP, SERVER, ROUTES, HMAC]) == "signature check (HMAC)"
    assert layer_of([LOOP, SERVER, ROUTES]) == "Slack routes (ASGI front)"
    assert layer_of([LOOP, SERVER]) == "HTTP server (uvicorn+httptools, Hypercorn+h11)"
    # A frame of no known layer is skipped for the next one out.
    assert layer_of([LOOP, "helper (somewhere/else.py:3)"]) == "event loop + sockets"
    assert layer_of(["helper (somewhere/else.py:3)"]) == "other"


def test_raw_profiles_are_parsed_line_by_line(tmp_path: Path) -> None:
    raw = tmp_path / "profile.txt"
    raw.write_text(f"{LOOP};{SERVER} 30\n{LOOP};{SERVER};{ROUTES};{JSON} 10\n\nbroken line\n")
    assert read_raw(raw) == [([LOOP, SERVER], 30), ([LOOP, SERVER, ROUTES, JSON], 10)]


def test_shares_become_microseconds_per_event() -> None:
    lines = summarize([([LOOP, SERVER], 30), ([ROUTES, JSON], 10)], cpu_us_per_event=400.0)
    table = {line[:48].strip(): line[48:].split() for line in lines[1:]}
    assert table["HTTP server (uvicorn+httptools, Hypercorn+h11)"] == ["75.0%", "300"]
    assert table["JSON encode/decode"] == ["25.0%", "100"]
    assert table["total"] == ["100%", "400"]
