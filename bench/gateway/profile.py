"""Where the CPU of one acknowledged event goes: py-spy on a running gateway under load.

Starts PostgreSQL and one `jeeves-gateway` process exactly as `run.py` does, drives it flat out
with `loadgen.py` and samples it with py-spy meanwhile (`jeeves.localstack.profiling`): each
sample is charged to the innermost frame that belongs to a known layer (the HTTP server, the
event loop, the signature check, JSON, the group-commit writer, asyncpg, metrics, logging, …),
and each layer's share of samples is turned into µs per event with the gateway's measured CPU.

Run as `make profile-gateway` (or `python bench/gateway/profile.py --seconds 10`); prints a
table and, with `--top`, the hottest leaf functions. Loopback only, bounded by `--seconds`.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from run import load, migrate, servers  # bench/gateway/run.py, the same harness

from jeeves.localstack.measuring import cpu_seconds, postgres_pids
from jeeves.localstack.postgres import PostgresServer
from jeeves.localstack.profiling import read_raw, record, summarize


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
            with record(pids[0], args.seconds, raw, args.rate):
                time.sleep(1.0)  # py-spy attached
                before, pg_before = cpu_seconds(*pids), cpu_seconds(*postgres_pids(server))
                result = load(url, 0, args.seconds, args.concurrency, "profile")
                ok = max(1, result["ok"])
                gateway_us = (cpu_seconds(*pids) - before) / ok * 1e6
                pg_us = (cpu_seconds(*postgres_pids(server)) - pg_before) / ok * 1e6
            samples = read_raw(raw)
    finally:
        server.close()
    print(
        f"gateway x1 flat out ({args.concurrency} senders, {args.seconds:.0f} s): "
        f"{result['events_per_s']:.0f} ev/s, p99 {result['p99_ms']} ms; CPU per event: "
        f"gateway {gateway_us:.0f} µs, PostgreSQL {pg_us:.0f} µs, load generator "
        f"{result['lg_cpu_us']} µs\n"
    )
    print("\n".join(summarize(samples, gateway_us, args.top)))


if __name__ == "__main__":
    main()
