"""The emulator's chat page in a real headless Chromium: a person types, the bot answers.

Real: the `jeeves-slack-emulator` process, Debian's Chromium driven over the DevTools protocol
(aiohttp websocket), and a stand-in gateway that only acknowledges events (the test plays the
bot by posting through the Web API, as the poster would). Fails, never skips, when Chromium
is not installed (`make setup` installs it).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import shutil
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from support.browser import FLAGS as BROWSER_FLAGS
from support.browser import chromium_path
from support.services import ServiceProcess, http_json
from support.slack import SlackEmulator, start_slack_emulator

pytestmark = pytest.mark.integration
TOKEN = "xoxb-page-token"
FLAGS = [*BROWSER_FLAGS, "--window-size=1100,700", "--remote-debugging-port=0"]


class Ack(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_args: Any) -> None:
        return


@pytest.fixture(name="emulator", scope="module")
def fixture_emulator() -> Iterator[ServiceProcess]:
    gateway = ThreadingHTTPServer(("127.0.0.1", 0), Ack)
    gateway.daemon_threads = True
    thread = __import__("threading").Thread(target=gateway.serve_forever, daemon=True)
    thread.start()
    process = start_slack_emulator(
        gateway_url=f"http://127.0.0.1:{gateway.server_address[1]}",
        token=TOKEN,
        channels="C0GENERAL:general,D0ALICE:alice",
    )
    yield process
    process.close()
    gateway.shutdown()
    gateway.server_close()


class Page:
    """One Chromium tab over the DevTools protocol: evaluate JavaScript, take screenshots."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self._ws = ws
        self._ids = itertools.count(1)

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        message_id = next(self._ids)
        await self._ws.send_json({"id": message_id, "method": method, "params": params})
        while True:
            reply = json.loads((await self._ws.receive(timeout=15)).data)
            if reply.get("id") == message_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                result: dict[str, Any] = reply.get("result", {})
                return result

    async def eval(self, expression: str) -> Any:
        result = await self.send(
            "Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"page error: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def wait_for(self, expression: str, timeout: float = 10.0) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = await self.eval(expression)
            if value:
                return value
            await asyncio.sleep(0.1)
        raise TimeoutError(f"page never satisfied: {expression}")


@pytest.fixture(name="page")
async def fixture_page(emulator: ServiceProcess) -> AsyncIterator[Page]:
    SlackEmulator(emulator.url).clear()
    profile = Path(tempfile.mkdtemp(prefix="jeeves-chromium-"))
    browser = subprocess.Popen(
        [chromium_path(), *FLAGS, f"--user-data-dir={profile}", emulator.url + "/"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not port_file.exists() or not port_file.read_text().strip():
            assert time.monotonic() < deadline, "chromium did not open its DevTools port"
            await asyncio.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        async with aiohttp.ClientSession() as session:
            targets: list[dict[str, Any]] = []
            while not any(t["type"] == "page" for t in targets):
                assert time.monotonic() < deadline, "chromium opened no page"
                async with session.get(f"http://127.0.0.1:{port}/json/list") as response:
                    targets = await response.json()
                await asyncio.sleep(0.1)
            target = next(t for t in targets if t["type"] == "page")
            async with session.ws_connect(target["webSocketDebuggerUrl"], max_msg_size=0) as ws:
                page = Page(ws)
                await page.wait_for("typeof state !== 'undefined' && !!state.info")
                yield page
    finally:
        browser.terminate()
        try:
            browser.wait(10)
        except subprocess.TimeoutExpired:
            browser.kill()
            browser.wait()
        shutil.rmtree(profile, ignore_errors=True)


async def type_and_send(page: Page, text: str) -> None:
    await page.eval(
        f"(() => {{ $('text').value = {json.dumps(text)};"
        " $('compose').requestSubmit(); return true; })()"
    )


async def test_a_person_mentions_jeeves_and_sees_the_threaded_reply(
    page: Page, emulator: ServiceProcess
) -> None:
    slack = SlackEmulator(emulator.url)
    await type_and_send(page, "@jeeves help")
    [typed] = await asyncio.to_thread(slack.wait_for_messages, 1, source="user")
    assert typed["text"] == "<@U0JEEVES> help"
    [delivery] = slack.deliveries()
    assert delivery["summary"]["type"] == "app_mention"

    http_json(
        "POST",
        slack.api_url + "chat.postMessage",
        {"channel": "C0GENERAL", "thread_ts": typed["ts"], "text": "I can do *weather* and more"},
        {"Authorization": f"Bearer {TOKEN}"},
    )
    reply = await page.wait_for(
        "[...document.querySelectorAll('.thread .msg.bot .text')].map(e => e.innerText).join()"
    )
    assert reply == "I can do weather and more"
    assert (
        await page.eval("document.querySelector('.thread .msg.bot .text b').innerText") == "weather"
    )
    shot = await page.send("Page.captureScreenshot", format="png")
    Path(tempfile.gettempdir(), "jeeves-chat-page.png").write_bytes(
        __import__("base64").b64decode(shot["data"])
    )


async def test_slash_commands_threads_and_dms_from_the_page(
    page: Page, emulator: ServiceProcess
) -> None:
    slack = SlackEmulator(emulator.url)
    await type_and_send(page, "/jeeves weather in Porto")
    [command] = await asyncio.to_thread(slack.wait_for_messages, 1, source="user")
    assert command["text"] == "/jeeves weather in Porto"
    assert slack.deliveries()[0]["kind"] == "command"
    await page.wait_for("!!document.querySelector('.msg.command')")
    assert await page.eval("document.querySelector('.msg.command [data-thread]')") is None

    await type_and_send(page, "a thread starts here")
    await page.wait_for("!!document.querySelector('[data-thread]')")  # the page rendered it
    await page.eval("document.querySelector('[data-thread]').click(), true")
    await type_and_send(page, "in a thread")
    messages = await asyncio.to_thread(slack.wait_for_messages, 3, source="user")
    assert messages[2]["thread_ts"] == messages[1]["ts"]

    await page.eval("document.querySelector('[data-channel=D0ALICE]').click(), true")
    assert await page.eval("$('title').textContent") == "@alice"
    await type_and_send(page, "hello in private")
    messages = await asyncio.to_thread(slack.wait_for_messages, 4, source="user")
    assert (messages[3]["channel"], messages[3]["text"]) == ("D0ALICE", "hello in private")
    assert slack.deliveries()[-1]["summary"]["type"] == "message"


async def test_typed_text_is_escaped_like_slack_and_shown_plainly(
    page: Page, emulator: ServiceProcess
) -> None:
    slack = SlackEmulator(emulator.url)
    await type_and_send(page, "@jeeves echo a < b & c")
    [typed] = await asyncio.to_thread(slack.wait_for_messages, 1, source="user")
    assert typed["text"] == "<@U0JEEVES> echo a &lt; b &amp; c"
    shown = await page.wait_for(
        "[...document.querySelectorAll('.msg .text')].map(e => e.innerText).join()"
    )
    assert shown == "@jeeves echo a < b & c"


async def test_the_page_says_when_the_gateway_did_not_take_a_message(
    page: Page, emulator: ServiceProcess
) -> None:
    slack = SlackEmulator(emulator.url)
    gateway_url = slack.info()["gateway_url"]
    slack.configure(gateway_url="http://127.0.0.1:9")
    try:
        await type_and_send(page, "@jeeves anyone there?")
        note = await page.wait_for(
            "[...document.querySelectorAll('.delivery')].map(e => e.innerText).join()"
        )
    finally:
        slack.configure(gateway_url=gateway_url)
    assert note == (
        "not delivered: connection_failed, connection_failed, connection_failed, connection_failed"
    )
