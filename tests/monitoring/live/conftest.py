"""The live monitoring tier's fixture: `make dev` itself (every service, PostgreSQL, etcd, the
Slack emulator, Prometheus scraping every second with the chart's rules, Alertmanager, and
`jeeves-alerts`), started once for the module with `--keep-going` so faults can be injected
by killing one service. Nothing is faked."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from support.devstack import DevStack, private_data_dir, remove


@pytest.fixture(name="stack", scope="module")
def fixture_stack() -> Iterator[DevStack]:
    data_dir = private_data_dir()
    stack = DevStack(data_dir, "--keep-going", "--scrape-interval", "1")
    try:
        yield stack.start()
    finally:
        code = stack.stop()
        print(f"===== make dev (exit {code})\n{stack.output(200)}")  # shown on failure
        remove(data_dir)
