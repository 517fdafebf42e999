"""Gateway ack throughput and latency, side by side with Slack Bolt's verify-and-ack AsyncApp.

Starts PostgreSQL (jeeves.localstack), runs `jeeves-gateway migrate`, then for each server under
test — the Bolt baseline (`bolt_app.py` under Hypercorn, verify + ack only, nothing stored) and
the real `jeeves-gateway` (verify, dedupe, store + enqueue in one transaction, ack; it serves
with uvicorn, see jeeves.kit.serving) — starts N processes sharing one loopback port with
SO_REUSEPORT and drives them with `loadgen.py` (its own process) at rising rates and then flat
out. Prints, per rate, sustained events/s and p50/p99 ack latency for both, and the gateway/Bolt
ratio; the flat-out step runs `--max-rounds` times, alternating, and each round's ratio is
printed. For reference, the same Bolt app on the gateway's own server (uvicorn) runs the
flat-out rounds too (`--no-bolt-uvicorn` skips it). Afterwards it checks that every event the
gateway acknowledged as accepted is in the inbound event log with one queued dispatch job.

CPU: per acknowledged event, of the server processes, of the gateway's PostgreSQL and of the load
generator, and the share of the machine's cores each used in the flat-out step.
Targets (reported, not asserted): ack p99 < 50 ms at 300 ev/s; gateway ÷ Bolt ≥ 1.0 in at
least 3 of the 5 flat-out rounds for 1 and 2 processes.
Bounded: each step lasts `--duration` seconds; traffic goes only to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import asyncpg

from jeeves.localstack.measuring import cpu_seconds, postgres_pids
from jeeves.localstack.ports import free_port, port_open, wait_until
from jeeves.localstack.postgres import PostgresServer

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
SECRET = "bench-signing-secret-0123456789"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", default="100,300,600,1000", help="open-loop rates, ev/s")
    parser.add_argument("--duration", type=float, default=4.0, help="seconds per step")
    parser.add_argument("--concurrency", type=int, default=32, help="senders in the max step")
    parser.add_argument("--procs", default="1,2", help="server process counts to compare")
    parser.add_argument("--max-rounds", type=int, default=5, help="rounds of the flat-out step")
    parser.add_argument(
        "--no-bolt-uvicorn",
        dest="bolt_uvicorn",
        action="store_false",
        help="skip the reference rounds of Bolt on uvicorn",
    )
    parser.add_argument("--gateway-log-level", default="warning", help="JEEVES_LOG_LEVEL")
    parser.add_argument(
        "--gateway-env",
        action="append",
        default=[],
        metavar="JEEVES_X=value",
        help="extra gateway setting, e.g. JEEVES_INGEST_LINGER_MS=1 (repeatable)",
    )
    return parser.parse_args()


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 - loopback http
            return int(response.status) == 200
    except (OSError, urllib.error.URLError):
        return False


@contextmanager
def servers(
    kind: str, procs: int, database_url: str, log_level: str, extra_env: dict[str, str]
) -> Iterator[tuple[str, list[int]]]:
    """Run `procs` processes of `kind` on one port; yield the events URL and their pids."""
    port = free_port()
    bind = f"127.0.0.1:{port}"
    if kind == "gateway":
        argv = [str(BIN / "jeeves-gateway")]
        env = {
            "JEEVES_BIND": bind,
            "JEEVES_REUSE_PORT": "true",
            "JEEVES_DATABASE_URL": database_url,
            "JEEVES_SLACK_SIGNING_SECRET": SECRET,
            "JEEVES_LOG_LEVEL": log_level,
            **extra_env,
        }
    else:
        argv = [sys.executable, str(HERE / "bolt_app.py")]
        server = "uvicorn" if kind == "bolt-uvicorn" else "hypercorn"
        env = {"BENCH_BIND": bind, "BENCH_SIGNING_SECRET": SECRET, "BENCH_SERVER": server}
    children = [
        subprocess.Popen(
            argv, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        for _ in range(procs)
    ]
    try:
        probe = f"http://{bind}/readyz" if kind == "gateway" else f"http://{bind}/slack/events"
        wait_until(
            lambda: (
                _alive(children) and (http_ok(probe) or (kind != "gateway" and port_open(port)))
            ),
            timeout=30,
            what=f"{kind} to serve",
        )
        time.sleep(0.5)  # let every sibling finish binding before traffic starts
        yield f"http://{bind}/slack/events", [child.pid for child in children]
    finally:
        for child in children:
            child.terminate()
        for child in children:
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()


def _alive(children: list[subprocess.Popen[bytes]]) -> bool:
    for child in children:
        if child.poll() is not None:
            err = child.stderr.read().decode(errors="replace") if child.stderr else ""
            raise RuntimeError(f"server exited with {child.returncode}: {err[-2000:]}")
    return True


def load(url: str, rate: float, duration: float, concurrency: int, prefix: str) -> dict[str, Any]:
    spec = {
        "url": url,
        "secret": SECRET,
        "rate": rate,
        "duration_s": duration,
        "concurrency": concurrency,
        "prefix": prefix,
    }
    before = _children_cpu()
    out = subprocess.run(
        [sys.executable, str(HERE / "loadgen.py"), json.dumps(spec)],
        capture_output=True,
        text=True,
        timeout=duration + 60,
        check=True,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    result["lg_cpu_us"] = round((_children_cpu() - before) / max(1, result["ok"]) * 1e6)
    return result


def _children_cpu() -> float:
    """CPU seconds of this process's finished children (the load generators)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def migrate(database_url: str) -> None:
    subprocess.run(
        [str(BIN / "jeeves-gateway"), "migrate"],
        env={**os.environ, "JEEVES_DATABASE_URL": database_url},
        check=True,
        capture_output=True,
        timeout=60,
    )


async def stored(database_url: str, prefix: str) -> tuple[int, int]:
    """(inbound events, queued dispatch jobs) whose event_id starts with `prefix`."""
    conn = await asyncpg.connect(database_url)
    try:
        events = await conn.fetchval(
            "SELECT count(*) FROM gateway_inbound_events WHERE event_id LIKE $1", prefix + "%"
        )
        jobs = await conn.fetchval(
            "SELECT count(*) FROM pgqueuer WHERE entrypoint = 'dispatch' "
            "AND convert_from(payload, 'UTF8')::jsonb->>'event_id' LIKE $1",
            prefix + "%",
        )
    finally:
        await conn.close()
    return int(events), int(jobs)


def step(
    target: tuple[str, list[int]],
    rate: float,
    args: argparse.Namespace,
    prefix: str,
    postgres: PostgresServer | None,
) -> dict[str, Any]:
    """One load step on one server, with the CPU it (and PostgreSQL, for the gateway) used."""
    url, pids = target
    pg = postgres_pids(postgres) if postgres else []
    before, pg_before = cpu_seconds(*pids), cpu_seconds(*pg)
    result = load(url, rate, args.duration, args.concurrency, prefix)
    ok = max(1, result["ok"])
    result["cpu_us"] = round((cpu_seconds(*pids) - before) / ok * 1e6)
    result["pg_cpu_us"] = (
        round((cpu_seconds(*postgres_pids(postgres)) - pg_before) / ok * 1e6) if postgres else 0
    )
    if postgres:
        result["stored"] = asyncio.run(stored(args.database_url, prefix))
    return result


def merge(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """The median round by throughput; stored counts summed over all rounds."""
    ordered = sorted(rounds, key=lambda r: float(r["events_per_s"]))
    merged = dict(ordered[len(ordered) // 2])
    merged["ok"] = sum(r["ok"] for r in rounds)
    merged["statuses"] = {
        k: sum(r["statuses"].get(k, 0) for r in rounds) for k in merged["statuses"]
    }
    if "stored" in merged:
        merged["stored"] = tuple(sum(r["stored"][i] for r in rounds) for i in (0, 1))
    for key in ("cpu_us", "pg_cpu_us", "lg_cpu_us"):
        merged[key] = round(statistics.median(r[key] for r in rounds))
    merged["rounds"] = [r["events_per_s"] for r in rounds]  # in the order they ran
    return merged


def measure(
    procs: int, args: argparse.Namespace, postgres: PostgresServer
) -> dict[str, dict[str, dict[str, Any]]]:
    """Both servers up at once; each step runs on Bolt, then at once on the gateway, so the
    background noise of this shared machine hits both alike. The flat-out step runs
    `--max-rounds` times, alternating, and keeps the median."""
    results: dict[str, dict[str, dict[str, Any]]] = {"bolt": {}, "gateway": {}}
    rates = [float(r) for r in args.rates.split(",") if r]
    log_level = args.gateway_log_level
    extra = dict(item.split("=", 1) for item in args.gateway_env)
    with contextlib.ExitStack() as stack:
        targets = {
            "bolt": (stack.enter_context(servers("bolt", procs, "", log_level, {})), None),
            "gateway": (
                stack.enter_context(servers("gateway", procs, args.database_url, log_level, extra)),
                postgres,
            ),
        }
        flat_out = dict(targets)
        if args.bolt_uvicorn:
            reference = stack.enter_context(servers("bolt-uvicorn", procs, "", log_level, {}))
            flat_out["bolt-uvicorn"] = (reference, None)
            results["bolt-uvicorn"] = {}
        for kind, (target, _) in flat_out.items():
            load(target[0], 0, 1.0, 8, f"{kind}{procs}-warmup")
        for rate in rates:
            for kind, (target, pg) in targets.items():
                prefix = f"{kind}{procs}-{int(rate)}-"
                results[kind][str(int(rate))] = step(target, rate, args, prefix, pg)
                time.sleep(0.3)
        rounds: dict[str, list[dict[str, Any]]] = {kind: [] for kind in flat_out}
        for n in range(args.max_rounds):
            for kind, (target, pg) in flat_out.items():
                rounds[kind].append(step(target, 0, args, f"{kind}{procs}-max{n}-", pg))
                time.sleep(0.3)
        for kind, runs in rounds.items():
            results[kind]["max"] = merge(runs)
    return results


def report(results: dict[tuple[str, int], dict[str, dict[str, Any]]], procs: list[int]) -> bool:
    """Print the side-by-side table; False when an accepted event is missing from the store."""
    complete = True
    print(
        "\nack throughput and latency: events/s sustained, p50/p99 ms (200s only), and CPU per"
        "\nacknowledged event in µs (server processes; for the gateway + its PostgreSQL)"
    )
    header = f"{'procs':>5} {'rate':>5} | {'bolt ev/s':>9} {'p50':>5} {'p99':>6} {'cpu':>5} | "
    header += f"{'gw ev/s':>7} {'p50':>5} {'p99':>6} {'cpu+pg':>9} | {'gw/bolt':>7} | stored"
    print(header)
    for n in procs:
        bolt, gateway = results[("bolt", n)], results[("gateway", n)]
        for name, gw in gateway.items():
            base = bolt[name]
            ratio = gw["events_per_s"] / base["events_per_s"] if base["events_per_s"] else 0.0
            events, jobs = gw["stored"]
            ok = events == gw["ok"] and jobs == gw["ok"]
            complete = complete and ok
            errors = {k: v for k, v in gw["statuses"].items() if k != "200"}
            cpu = f"{gw['cpu_us']}+{gw['pg_cpu_us']}"
            print(
                f"{n:>5} {name:>5} | {base['events_per_s']:>9.0f} {base['p50_ms']:>5.1f} "
                f"{base['p99_ms']:>6.1f} {base['cpu_us']:>5} | {gw['events_per_s']:>7.0f} "
                f"{gw['p50_ms']:>5.1f} {gw['p99_ms']:>6.1f} {cpu:>9} | {ratio:>7.2f} | "
                f"{events}/{jobs} of {gw['ok']} {'ok' if ok else 'MISSING'}"
                f"{' errors ' + str(errors) if errors else ''}"
            )
    flat_out(results, procs)
    return complete


def cores(figures: dict[str, Any], key: str) -> float:
    """Cores one party used in a step: its CPU per event times events per second."""
    return float(figures[key]) * float(figures["events_per_s"]) / 1e6


def flat_out(results: dict[tuple[str, int], dict[str, dict[str, Any]]], procs: list[int]) -> None:
    """Each flat-out round's gw/bolt ratio, the machine's cores by party, and the scaling."""
    print("\nflat out, round by round (gateway ÷ Bolt on Hypercorn, rounds alternate):")
    for n in procs:
        bolt, gateway = results[("bolt", n)]["max"], results[("gateway", n)]["max"]
        pairs = zip(gateway["rounds"], bolt["rounds"], strict=True)
        ratios = [g / b if b else 0.0 for g, b in pairs]
        ahead = sum(r >= 1.0 for r in ratios)
        print(
            f"  x{n}: {' '.join(f'{r:.2f}' for r in ratios)} -> {ahead} of {len(ratios)} "
            f"rounds >= 1.0, median {statistics.median(ratios):.2f}"
        )
        print(
            f"      cores used: gateway {cores(gateway, 'cpu_us'):.2f} + PostgreSQL "
            f"{cores(gateway, 'pg_cpu_us'):.2f} + load generator {cores(gateway, 'lg_cpu_us'):.2f}"
            f" | Bolt {cores(bolt, 'cpu_us'):.2f} + load generator {cores(bolt, 'lg_cpu_us'):.2f}"
            f" (of {os.cpu_count()})"
        )
        reference = results.get(("bolt-uvicorn", n), {}).get("max")
        if reference:
            ratio = gateway["events_per_s"] / reference["events_per_s"]
            print(
                f"      reference, Bolt on uvicorn (the gateway's server): "
                f"{reference['events_per_s']:.0f} ev/s, {reference['cpu_us']} µs/event; "
                f"gateway ÷ it {ratio:.2f} (it stores nothing)"
            )
    if len(procs) >= 2:
        low, high = procs[0], procs[-1]
        for kind in ("gateway", "bolt"):
            one, more = results[(kind, low)]["max"], results[(kind, high)]["max"]
            print(
                f"  {kind} x{low} -> x{high}: {more['events_per_s'] / one['events_per_s']:.2f}x "
                "(one machine: the load generator and PostgreSQL share its cores)"
            )


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main() -> None:
    args = parse_args()
    procs = [int(p) for p in args.procs.split(",") if p]
    server = PostgresServer()
    server.start()
    try:
        args.database_url = server.create_database("bench_gateway")
        migrate(args.database_url)
        results: dict[tuple[str, int], dict[str, dict[str, Any]]] = {}
        print(f"load average before: {load_average()}", flush=True)
        for n in procs:
            started = time.monotonic()
            for kind, steps in measure(n, args, server).items():
                results[(kind, n)] = steps
            print(
                f"measured bolt and gateway x{n} in {time.monotonic() - started:.0f}s", flush=True
            )
        print(f"load average after: {load_average()} (2 cores, shared with other work)")
        complete = report(results, procs)
        print(json.dumps({f"{k}x{n}": v for (k, n), v in results.items()}), file=sys.stderr)
    finally:
        server.close()
    print(
        "\ntargets: gateway ack p99 < 50 ms at 300 ev/s; gateway ÷ bolt ≥ 1.0 while persisting"
        f"\nevery accepted event stored with its dispatch job: {'yes' if complete else 'NO'}"
    )
    if not complete:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
