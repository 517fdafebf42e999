"""The action SDK's cost per call: echo's `POST /v1/act` against the kit's floor.

Starts one real `jeeves-echo` process and, each for `--duration` seconds with `--concurrency`
keep-alive aiohttp clients on loopback:

- `healthz`   — `GET /healthz`: the kit's floor, the baseline of this run;
- `act`       — `POST /v1/act` with a new `id` each time (validate, handler, store the answer);
- `repeat`    — `POST /v1/act` repeating ids already answered (validate, answer from the store).

Prints each mode and its ratio to `healthz`. Bounded in time, traffic only to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import aiohttp

from jeeves.localstack.measuring import drive
from jeeves.localstack.ports import free_port, wait_until

BIN = Path(sys.executable).parent


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=3.0, help="seconds per mode")
    parser.add_argument("--concurrency", type=int, default=8, help="concurrent clients")
    return parser.parse_args()


@contextmanager
def echo_service() -> Iterator[tuple[str, int]]:
    port = free_port()
    env = {**os.environ, "JEEVES_BIND": f"127.0.0.1:{port}", "JEEVES_LOG_LEVEL": "warning"}
    process = subprocess.Popen([str(BIN / "jeeves-echo")], env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _up(url), timeout=30, what="jeeves-echo")
        yield url, process.pid
    finally:
        process.terminate()
        process.wait(20)


def _up(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/healthz", timeout=1) as response:  # noqa: S310
            return bool(response.status == 200)
    except OSError:
        return False


def envelope(action_id: str) -> dict[str, Any]:
    return {
        "id": action_id,
        "action": "echo",
        "text": "hello there",
        "args": {},
        "user": {"slack_id": "U0BENCH", "team_id": "T0TEAM"},
        "channel": "C0BENCH",
        "thread_ts": None,
        "sent_at": time.time(),
    }


async def main() -> None:
    args = parse_args()
    ids = itertools.count()
    with echo_service() as (url, pid):
        async with aiohttp.ClientSession() as session:

            async def healthz() -> bool:
                async with session.get(url + "/healthz") as response:
                    await response.read()
                    return response.status == 200

            async def act() -> bool:
                async with session.post(
                    url + "/v1/act", json=envelope(f"new-{next(ids)}")
                ) as response:
                    await response.read()
                    return response.status == 200

            async def repeat() -> bool:
                async with session.post(
                    url + "/v1/act", json=envelope(f"new-{next(ids) % 100}")
                ) as response:
                    await response.read()
                    return response.status == 200

            duration, concurrency = args.duration, args.concurrency
            print(f"echo (action SDK), {concurrency} clients, {duration:.0f} s per mode (loopback)")
            await drive("warm-up", healthz, 1.0, concurrency, pid)  # open connections first
            baseline = await drive("healthz", healthz, duration, concurrency, pid)
            print(baseline.line(None))
            for mode, call in (("act", act), ("repeat", repeat)):
                print((await drive(mode, call, duration, concurrency, pid)).line(baseline))
            # The machine is shared: the floor measured again says how much it moved meanwhile.
            print((await drive("healthz", healthz, duration, concurrency, pid)).line(baseline))


if __name__ == "__main__":
    asyncio.run(main())
