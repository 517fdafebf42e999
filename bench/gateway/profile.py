"""Where the CPU of one acknowledged event goes: py-spy on a running gateway under load.

Starts PostgreSQL and one `jeeves-gateway` process exactly as `run.py` does, drives it flat out
with `loadgen.py` and samples it with py-spy (`record --format raw`) meanwhile. Each sample is
charged to the innermost frame that belongs to a known layer (Hypercorn + h11, Quart, the event
loop, the signature check, JSON, the group-commit writer, asyncpg, metrics, logging, …), and the
layer's share of samples is turned into µs per event with the gateway's measured CPU time.

Run as `make profile-gateway` (or `python bench/gateway/profile.py --seconds 10`); prints a
table and, with `--top`, the hottest leaf functions. Loopback only, bounded by `--seconds`.
"""

from __future__ import annotations

import argparse
import collections
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from run import SECRET, load, migrate, servers  # bench/gateway/run.py, the same harness

from jeeves.localstack.measuring import cpu_seconds, postgres_pids
from jeeves.localstack.postgres import PostgresServer

BIN = Path(sys.executable).parent

# (layer, pattern on a frame's file): the first layer matching, innermost frame first, wins.
LAYERS: list[tuple[str, re.Pattern[str]]] = [
    (name, re.compile(pattern))
    for name, pattern in [
        ("signature check (HMAC)", r"slack_sdk/signature|(^|/)hmac\.py|gateway/domain\.py"),
        ("JSON encode/decode", r"(^|/)json/|orjson"),
        ("event classify (kit.slack.events)", r"kit/slack/events\.py"),
        ("group-commit writer", r"kit/slack/inbound\.py|kit/queue\.py|kit/jobs\.py"),
        ("asyncpg (client side)", r"(^|/)asyncpg/"),
        ("metrics (prometheus_client)", r"(^|/)prometheus_client/"),
        ("logging + request id", r"(^|/)structlog/|kit/logging\.py|kit/context\.py|(^|/)uuid\.py"),
        ("Slack routes (ASGI front)", r"gateway/routes\.py"),
        ("kit ASGI middleware", r"kit/asgi\.py|kit/app\.py|kit/metrics\.py"),
        ("Quart + Werkzeug", r"(^|/)(quart|werkzeug)/"),
        (
            "HTTP server (uvicorn+httptools, Hypercorn+h11)",
            r"(^|/)(uvicorn|httptools|hypercorn|h11)/|wsgiref/handlers",
        ),
        ("event loop + sockets", r"(^|/)(asyncio|uvloop)/|selectors\.py|(^|/)socket\.py|^<frozen"),
    ]
]
FRAME = re.compile(r"^(?P<func>.*) \((?P<file>[^()]*?)(?::\d+)?\)$")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="sampling time")
    parser.add_argument("--concurrency", type=int, default=32, help="loadgen senders")
    parser.add_argument("--rate", type=int, default=250, help="py-spy samples per second")
    parser.add_argument("--top", type=int, default=15, help="hottest leaf functions to list")
    parser.add_argument(
        "--gateway-env", action="append", default=[], metavar="JEEVES_X=value",
        help="extra gateway setting (repeatable)",
    )  # fmt: skip
    return parser.parse_args()


def layer_of(stack: list[str]) -> str:
    """The layer a sample is charged to: its innermost frame that names a known layer."""
    for frame in reversed(stack):
        match = FRAME.match(frame)
        path = match.group("file") if match else frame
        for name, pattern in LAYERS:
            if pattern.search(path):
                return name
    return "other"


def read_raw(path: Path) -> list[tuple[list[str], int]]:
    """py-spy's raw (collapsed) output: `frame;frame;…;leaf count` per line."""
    samples = []
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            samples.append((stack.split(";"), int(count)))
    return samples


def summarize(samples: list[tuple[list[str], int]], cpu_us_per_event: float, top: int) -> list[str]:
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


def main() -> None:
    args = parse_args()
    extra = dict(item.split("=", 1) for item in args.gateway_env)
    server = PostgresServer()
    server.start()
    try:
        database_url = server.create_database("profile_gateway")
        migrate(database_url)
        with (
            servers("gateway", 1, database_url, "warning", extra) as (url, pids),
            tempfile.TemporaryDirectory() as tmp,
        ):
            load(url, 0, 1.0, 8, "warmup")
            raw = Path(tmp) / "profile.txt"
            spy = subprocess.Popen(
                [str(BIN / "py-spy"), "record", "--pid", str(pids[0]), "--format", "raw",
                 "--rate", str(args.rate), "--duration", str(int(args.seconds) + 2),
                 "--output", str(raw), "--nonblocking"],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            )  # fmt: skip
            time.sleep(1.0)  # py-spy attached
            before, pg_before = cpu_seconds(*pids), cpu_seconds(*postgres_pids(server))
            result = load(url, 0, args.seconds, args.concurrency, "profile")
            gateway_us = (cpu_seconds(*pids) - before) / max(1, result["ok"]) * 1e6
            pg_us = (cpu_seconds(*postgres_pids(server)) - pg_before) / max(1, result["ok"]) * 1e6
            _, err = spy.communicate(timeout=args.seconds + 30)
            if spy.returncode != 0 or not raw.exists():
                raise SystemExit(f"py-spy failed: {err.decode(errors='replace')[-1000:]}")
            samples = read_raw(raw)
    finally:
        server.close()
    print(
        f"gateway x1 flat out ({args.concurrency} senders, {args.seconds:.0f} s, secret "
        f"{SECRET[:5]}…): {result['events_per_s']:.0f} ev/s, p99 {result['p99_ms']} ms; CPU per "
        f"event: gateway {gateway_us:.0f} µs, PostgreSQL {pg_us:.0f} µs\n"
    )
    print("\n".join(summarize(samples, gateway_us, args.top)))


if __name__ == "__main__":
    main()
