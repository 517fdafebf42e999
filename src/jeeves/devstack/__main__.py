"""Entry point of `make dev`: start PostgreSQL, etcd and every deployable; Ctrl-C stops all.

Usage: `python -m jeeves.devstack [--base-port N] [--data-dir DIR] [--keep-going]
[--scrape-interval S]`. Ports are base+0, +1, … in the order of `plan.SERVICES`, then
Prometheus and Alertmanager (`devstack.monitoring`); `--base-port 0` picks free ports (used by
the tests). `--keep-going` reports a service that exits and keeps the rest running (fault
drills: watch the alerts fire) instead of stopping the stack.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import signal
import sys
from pathlib import Path

from jeeves.devstack.monitoring import Monitoring, start_monitoring
from jeeves.devstack.plan import (
    DATABASES,
    SERVICES,
    Infrastructure,
    ServiceSpec,
    build_plan,
)
from jeeves.devstack.supervisor import Supervisor, wait_http_ok
from jeeves.localstack.etcd import EtcdServer
from jeeves.localstack.ports import free_port
from jeeves.localstack.postgres import PostgresServer, reachable_by_server_user

DEFAULT_BASE_PORT = 8400
MONITORING_PORTS = ["prometheus", "alertmanager"]


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="make dev", description=__doc__)
    parser.add_argument("--base-port", type=int, default=DEFAULT_BASE_PORT)
    parser.add_argument("--data-dir", type=Path, default=Path(".dev"))
    parser.add_argument("--keep-going", action="store_true", help="survive a service's exit")
    parser.add_argument("--scrape-interval", type=float, default=5.0, help="Prometheus, seconds")
    return parser.parse_args(argv)


def allocate_ports(base: int) -> dict[str, int]:
    names = ["postgres", "etcd", "etcd-peer", *(name for name, _, _ in SERVICES)]
    names += MONITORING_PORTS
    if base == 0:
        return {name: free_port() for name in names}
    return {name: base + offset for offset, name in enumerate(names)}


def say(message: str) -> None:
    print(f"==> {message}", flush=True)


def print_table(
    plan: list[ServiceSpec], infra: Infrastructure, extra: list[tuple[str, str, str]] | None = None
) -> None:
    rows = [("postgres", infra.database_url("jeeves"), "PostgreSQL 15 (data in .dev/)")]
    rows.append(("etcd", f"http://{infra.etcd_endpoint}", "etcd: registry, flags"))
    rows += [(spec.name, spec.url, spec.description) for spec in plan]
    rows += extra or []
    width = max(len(name) for name, _, _ in rows) + 2
    print("\n" + "-" * 78)
    for name, url, description in rows:
        print(f"  {name.ljust(width)}{url.ljust(40)}{description}")
    chat = next((s.url for s in plan if s.name == "slack-emulator"), None)
    if chat:
        print(f"\n  Chat with Jeeves: open {chat}/ and type “@jeeves help”.")
    dashboard = next((s for s in plan if s.name == "dashboard"), None)
    if dashboard:
        public = dashboard.env.get("JEEVES_PUBLIC_URL", dashboard.url)
        print(f"  Dashboard: open {public}/ and sign in with Slack (U0ALICE: admin, U0BOB: user).")
    prometheus = next((url for name, url, _ in rows if name == "prometheus"), None)
    if prometheus:
        print(f"  Prometheus: {prometheus}/alerts (rules) · {prometheus}/targets (scrapes)")
    print("  Health of each: <url>/healthz   Metrics: <url>/metrics   Stop: Ctrl-C")
    print("-" * 78 + "\n", flush=True)


async def start_infrastructure(
    args: argparse.Namespace, ports: dict[str, int]
) -> tuple[PostgresServer, EtcdServer]:
    data_dir = args.data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    pg_dir = postgres_dir(data_dir)
    say(f"starting PostgreSQL on 127.0.0.1:{ports['postgres']} (data in {pg_dir})")
    postgres = PostgresServer(base_dir=pg_dir, port=ports["postgres"])
    await asyncio.to_thread(postgres.start)
    for database in DATABASES:
        await asyncio.to_thread(postgres.create_database, database)
    say(f"starting etcd on 127.0.0.1:{ports['etcd']}")
    etcd = EtcdServer(
        data_dir=data_dir / "etcd", client_port=ports["etcd"], peer_port=ports["etcd-peer"]
    )
    etcd.start()  # in this thread: its child dies with the thread that started it (PDEATHSIG)
    return postgres, etcd


def postgres_dir(data_dir: Path) -> Path:
    """`<data-dir>/postgres`, or a stable spot under /var/tmp when the checkout is private.

    As root, PostgreSQL runs as the `postgres` user, which cannot enter e.g. /root/….
    """
    preferred = data_dir / "postgres"
    if reachable_by_server_user(data_dir):
        return preferred
    digest = hashlib.sha256(str(data_dir).encode()).hexdigest()[:12]
    fallback = Path("/var/tmp") / f"jeeves-dev-{digest}" / "postgres"  # noqa: S108 (stable, not temp)
    say(f"{data_dir} is private to root; keeping PostgreSQL's data in {fallback} instead")
    fallback.parent.mkdir(parents=True, exist_ok=True)
    fallback.parent.chmod(0o755)
    return fallback


async def start_services(supervisor: Supervisor, plan: list[ServiceSpec]) -> None:
    for spec in plan:
        env = {**spec.env, "JEEVES_BIND": f"127.0.0.1:{spec.port}"}
        if spec.migrate:
            say(f"migrating {spec.name}")
            await supervisor.run_once(spec.name, [spec.command, "migrate"], env)
        if spec.prepare:
            say(f"preparing {spec.name}")
            await supervisor.run_once(spec.name, [spec.command, *spec.prepare], env)
        say(f"starting {spec.name} on {spec.url}")
        child = await supervisor.start(spec.name, [spec.command], env)
        try:
            await wait_http_ok(spec.url + spec.probe, 60, child.process)
        except (RuntimeError, TimeoutError) as exc:
            raise RuntimeError(f"{spec.name} did not come up: {exc}") from exc


async def main_async(args: argparse.Namespace) -> int:
    ports = allocate_ports(args.base_port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    supervisor = Supervisor()
    postgres, etcd = await start_infrastructure(args, ports)
    monitoring: Monitoring | None = None
    code = 0
    try:
        infra = Infrastructure(ports["postgres"], etcd.endpoint, args.data_dir.resolve(), ports)
        plan = build_plan(infra, ports)
        await seed_registry(infra, plan)
        starting = asyncio.create_task(start_services(supervisor, plan))
        stopper = asyncio.create_task(stop.wait())
        await asyncio.wait({starting, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if starting.done():
            starting.result()
            say(f"starting Prometheus and Alertmanager (scraping every {args.scrape_interval:g}s)")
            monitoring = start_monitoring(
                args.data_dir.resolve(), plan, ports, interval_s=args.scrape_interval
            )
            print_table(plan, infra, monitoring.rows())
            await watch(supervisor, stop, keep_going=args.keep_going)
        else:
            starting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await starting
    except RuntimeError as exc:
        print(f"make dev: {exc}", file=sys.stderr, flush=True)
        code = 1
    finally:
        if monitoring is not None:
            say("stopping Prometheus and Alertmanager")
            await asyncio.to_thread(monitoring.stop)
        say("stopping services")
        await supervisor.stop_all()
        say("stopping etcd and PostgreSQL")
        await asyncio.to_thread(etcd.stop)
        await asyncio.to_thread(postgres.stop)
        say("stopped; nothing left running")
    return code


async def seed_registry(infra: Infrastructure, plan: list[ServiceSpec]) -> None:
    """Register the local actions in etcd, as the operator does in a cluster."""
    from jeeves.devstack.seeding import seed_actions

    await seed_actions(infra, plan)


async def watch(supervisor: Supervisor, stop: asyncio.Event, *, keep_going: bool = False) -> None:
    """Wait for Ctrl-C; if a service dies, say so and stop the stack (with `keep_going`: say
    so once and keep the others running)."""
    reported: set[str] = set()
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 1.0)
        dead = [c for c in supervisor.exited() if c.name not in reported]
        if dead:
            names = ", ".join(f"{c.name} (exit {c.process.returncode})" for c in dead)
            if not keep_going:
                raise RuntimeError(f"stopped because a service exited: {names}")
            say(f"a service exited, the rest keep running: {names}")
            reported.update(c.name for c in dead)


def main() -> None:
    sys.exit(asyncio.run(main_async(parse_args(sys.argv[1:]))))


if __name__ == "__main__":
    main()
