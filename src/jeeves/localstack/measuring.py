"""Measuring for the benchmarks in `bench/`: CPU time of processes, percentiles, and a
closed-loop driver that reports throughput, latency and server CPU per request.

CPU time (from /proc) is the steadiest figure on a shared, noisy machine; benchmarks print it
next to a baseline measured in the same run.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from jeeves.localstack.postgres import PostgresServer
from jeeves.localstack.processes import child_pids


def cpu_seconds(*pids: int) -> float:
    """User + system CPU time used so far by `pids` (Linux /proc); gone processes count 0."""
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def postgres_pids(server: PostgresServer) -> list[int]:
    """The postmaster of `server` and its backends (not other PostgreSQL servers' processes)."""
    postmaster = int((server.data / "postmaster.pid").read_text().split()[0])
    return [postmaster, *child_pids(postmaster)]


def percentile(values: list[float], q: float) -> float:
    """The `q`-th percentile (0-100) by nearest rank; NaN for no values."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


@dataclass
class Figures:
    """What one mode of a closed-loop run measured."""

    mode: str
    count: int
    seconds: float
    latencies_ms: list[float]
    errors: int
    cpu_s: float = 0.0  # CPU time the server process spent during the mode

    @property
    def rate(self) -> float:
        return self.count / self.seconds

    @property
    def cpu_us(self) -> float:
        return self.cpu_s / max(1, self.count) * 1e6

    def line(self, baseline: Figures | None, width: int = 8) -> str:
        ratio = f"   {self.cpu_us / baseline.cpu_us:4.2f}x healthz CPU" if baseline else ""
        median = statistics.median(self.latencies_ms) if self.latencies_ms else 0.0
        return (
            f"{self.mode:>{width}}: {self.rate:7.0f} /s   p50 {median:6.2f} ms   "
            f"p99 {percentile(self.latencies_ms, 99):6.2f} ms   "
            f"server CPU {self.cpu_us:5.0f} µs/req   "
            f"({self.count} done, {self.errors} errors){ratio}"
        )


async def drive(
    mode: str, call: Callable[[], Awaitable[bool]], duration: float, concurrency: int, pid: int
) -> Figures:
    """`concurrency` clients call `call()` back to back for `duration` seconds."""
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + duration

    async def client() -> None:
        nonlocal errors
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            ok = await call()
            latencies.append((time.perf_counter() - started) * 1000)
            errors += 0 if ok else 1

    started, cpu = time.perf_counter(), cpu_seconds(pid)
    await asyncio.gather(*(client() for _ in range(concurrency)))
    elapsed, used = time.perf_counter() - started, cpu_seconds(pid) - cpu
    return Figures(mode, len(latencies), elapsed, latencies, errors, used)
