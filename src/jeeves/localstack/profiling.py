"""Where a process's CPU goes, by layer: py-spy samples of a running process, summarized.

`record(pid, seconds)` runs `py-spy record --format raw` against a live process (no restart, no
code change in it) and `summarize` charges each sample to the innermost frame that belongs to a
known layer — the HTTP server, Quart, the event loop, JSON, the signature check, asyncpg, the
queue, outbound HTTP, tokens, metrics, logging, … — and turns each layer's share of samples into
µs per event with the CPU time measured for the process. Used by `bench/gateway/profile.py` and
`bench/pipeline/run.py --profile`. Benchmarks only; nothing here runs in a deployable.
"""

from __future__ import annotations

import collections
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PY_SPY = Path(sys.executable).parent / "py-spy"

# (layer, pattern on a frame's file): the first layer matching, innermost frame first, wins.
LAYERS: list[tuple[str, re.Pattern[str]]] = [
    (name, re.compile(pattern))
    for name, pattern in [
        ("signature check (HMAC)", r"slack_sdk/signature|(^|/)hmac\.py|gateway/domain\.py"),
        ("JSON encode/decode", r"(^|/)json/|orjson"),
        ("tokens (JWT, kit.auth)", r"(^|/)(jwt|cryptography)/|kit/auth/|(^|/)tokens/"),
        ("pydantic validation", r"(^|/)pydantic(_core)?/|kit/validation\.py"),
        ("event classify (kit.slack.events)", r"kit/slack/events\.py"),
        ("group-commit writer", r"kit/slack/inbound\.py"),
        ("job queue (pgqueuer, kit.queue)", r"(^|/)pgqueuer/|kit/queue\.py|kit/jobs\.py"),
        ("asyncpg (client side)", r"(^|/)asyncpg/"),
        ("outbound HTTP (aiohttp, kit.http)", r"(^|/)(aiohttp|yarl|multidict)/|kit/http\.py"),
        ("metrics (prometheus_client)", r"(^|/)prometheus_client/"),
        ("logging + request id", r"(^|/)structlog/|kit/logging\.py|kit/context\.py|(^|/)uuid\.py"),
        ("Slack routes (ASGI front)", r"gateway/routes\.py"),
        ("kit ASGI middleware", r"kit/asgi\.py|kit/app\.py|kit/metrics\.py"),
        ("Quart + Werkzeug", r"(^|/)(quart|werkzeug)/"),
        (
            "HTTP server (uvicorn+httptools, Hypercorn+h11)",
            r"(^|/)(uvicorn|httptools|hypercorn|h11)/|wsgiref/handlers",
        ),
        ("Jeeves service code", r"(^|/)jeeves/"),
        ("event loop + sockets", r"(^|/)(asyncio|uvloop)/|selectors\.py|(^|/)socket\.py|^<frozen"),
    ]
]
FRAME = re.compile(r"^(?P<func>.*) \((?P<file>[^()]*?)(?::\d+)?\)$")
Samples = list[tuple[list[str], int]]


def layer_of(stack: list[str]) -> str:
    """The layer a sample is charged to: its innermost frame that names a known layer."""
    for frame in reversed(stack):
        match = FRAME.match(frame)
        path = match.group("file") if match else frame
        for name, pattern in LAYERS:
            if pattern.search(path):
                return name
    return "other"


def read_raw(path: Path) -> Samples:
    """py-spy's raw (collapsed) output: `frame;frame;…;leaf count` per line."""
    samples = []
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            samples.append((stack.split(";"), int(count)))
    return samples


def summarize(samples: Samples, cpu_us_per_event: float, top: int = 0) -> list[str]:
    """A table of layers (share of samples, µs per event) and the `top` hottest leaf frames."""
    total = sum(count for _, count in samples) or 1
    layers: collections.Counter[str] = collections.Counter()
    leaves: collections.Counter[str] = collections.Counter()
    for stack, count in samples:
        layers[layer_of(stack)] += count
        leaves[stack[-1]] += count
    lines = [f"{'layer':<48} {'share':>6} {'µs/event':>9}"]
    for name, count in layers.most_common():
        share = count / total
        lines.append(f"{name:<48} {share:>6.1%} {share * cpu_us_per_event:>9.0f}")
    lines.append(f"{'total':<48} {1:>6.0%} {cpu_us_per_event:>9.0f}")
    if top:
        lines.append(f"\nhottest leaf frames ({total} samples):")
        for frame, count in leaves.most_common(top):
            lines.append(f"  {count / total:>6.1%}  {frame[:110]}")
    return lines


@contextmanager
def record(pid: int, seconds: float, out: Path, rate: int = 250) -> Iterator[None]:
    """Sample `pid` with py-spy while the block runs (at most `seconds` + 2); the raw profile
    is in `out` afterwards. SystemExit when py-spy fails (it needs ptrace rights)."""
    spy = subprocess.Popen(
        [str(PY_SPY), "record", "--pid", str(pid), "--format", "raw", "--rate", str(rate),
         "--duration", str(int(seconds) + 2), "--output", str(out), "--nonblocking"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        yield
    finally:
        _, err = spy.communicate(timeout=seconds + 30)
    if spy.returncode != 0 or not out.exists():
        raise SystemExit(f"py-spy failed on pid {pid}: {err.decode(errors='replace')[-1000:]}")
