"""Slack emulator capacity: Web API calls/s and events delivered/s, against the kit's floor.

Starts one real `jeeves-slack-emulator` process and an in-process aiohttp receiver standing in
for the gateway (answers 200 at once), then, each for `--duration` seconds with `--concurrency`
keep-alive clients on loopback:

- `healthz`      — `GET /healthz`: the kit's floor on this machine, the baseline of this run;
- `postMessage`  — `POST /api/chat.postMessage` (JSON + bearer token), what the poster sends;
- `slack_sdk`    — the same through slack_sdk's AsyncWebClient (adds the client's own cost);
- `events`       — `POST /_emulator/send/mention` with `wait: true`: build, sign, deliver and
                   see the gateway's 200, per event.

Prints each mode and its ratio to `healthz`, so a test author knows whether the emulator or the
code under test is the bottleneck. Bounded in time, traffic only to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import aiohttp
from aiohttp import web
from slack_sdk.web.async_client import AsyncWebClient

from jeeves.localstack.measuring import drive
from jeeves.localstack.ports import free_port, wait_until

BIN = Path(sys.executable).parent
TOKEN = "xoxb-bench"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=3.0, help="seconds per mode")
    parser.add_argument("--concurrency", type=int, default=8, help="concurrent clients")
    return parser.parse_args()


@contextmanager
def emulator(gateway_url: str) -> Iterator[tuple[str, int]]:
    port = free_port()
    env = {
        **os.environ,
        "JEEVES_BIND": f"127.0.0.1:{port}",
        "JEEVES_LOG_LEVEL": "warning",
        "JEEVES_SLACK_SIGNING_SECRET": "bench-secret",
        "JEEVES_SLACK_BOT_TOKEN": TOKEN,
        "JEEVES_EMULATOR_GATEWAY_URL": gateway_url,
        "JEEVES_EMULATOR_HISTORY_LIMIT": "20000",
    }
    process = subprocess.Popen([str(BIN / "jeeves-slack-emulator")], env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _up(url), timeout=30, what="the emulator")
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


async def gateway_stand_in() -> tuple[web.AppRunner, str]:
    async def ack(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post("/slack/events", ack)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, f"http://127.0.0.1:{port}"


async def main() -> None:
    args = parse_args()
    runner, gateway_url = await gateway_stand_in()
    try:
        with emulator(gateway_url) as (url, pid):
            await run_modes(url, pid, args.duration, args.concurrency)
    finally:
        await runner.cleanup()


async def run_modes(url: str, pid: int, duration: float, concurrency: int) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    message = {"channel": "C0BENCH", "text": "Lisbon: 21°C, clear"}
    sdk = AsyncWebClient(token=TOKEN, base_url=url + "/api/")
    async with aiohttp.ClientSession() as session:

        async def healthz() -> bool:
            async with session.get(url + "/healthz") as response:
                await response.read()
                return response.status == 200

        async def post_message() -> bool:
            async with session.post(
                url + "/api/chat.postMessage", json=message, headers=headers
            ) as response:
                return bool((await response.json())["ok"])

        async def post_with_sdk() -> bool:
            return bool((await sdk.chat_postMessage(**message))["ok"])

        async def event() -> bool:
            async with session.post(
                url + "/_emulator/send/mention", json={"text": "echo hi", "wait": True}
            ) as response:
                body = await response.json()
                return bool(body["delivery"]["acked"])

        print(f"Slack emulator, {concurrency} clients, {duration:.0f} s per mode (loopback)")
        await drive("warm-up", healthz, 1.0, concurrency, pid)  # open connections first
        baseline = await drive("healthz", healthz, duration, concurrency, pid)
        print(baseline.line(None))
        for mode, call in (
            ("postMessage", post_message),
            ("slack_sdk", post_with_sdk),
            ("events", event),
        ):
            print((await drive(mode, call, duration, concurrency, pid)).line(baseline, width=12))
            async with session.post(url + "/_emulator/reset") as response:
                await response.read()


if __name__ == "__main__":
    asyncio.run(main())
