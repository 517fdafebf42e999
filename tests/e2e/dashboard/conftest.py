"""The whole stack for the dashboard's browser tests, once per module: the pipeline (emulator,
gateway, dispatcher, poster, echo, token dealer) routing from etcd, the data service, and the
dashboard; plus a Playwright-driven Debian Chromium. Nothing is faked.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from browser_stack import Stack, running_stack
from playwright.async_api import Browser, async_playwright

from jeeves.localstack.etcd import EtcdServer
from jeeves.localstack.postgres import PostgresServer
from support.browser import launch_chromium


@pytest.fixture(name="stack", scope="module")
def fixture_stack(postgres_server: PostgresServer, etcd_server: EtcdServer) -> Iterator[Stack]:
    with running_stack(postgres_server, etcd_server) as stack:
        yield stack


@pytest.fixture(name="browser", scope="module")
async def fixture_browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await launch_chromium(playwright)
        try:
            yield browser
        finally:
            await browser.close()
