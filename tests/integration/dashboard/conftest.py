"""The dashboard with what it talks to, as real processes, once per module: PostgreSQL (its
sessions; the data service's own database), etcd, the token dealer, the Slack emulator (Sign in
with Slack) and the data service. The dispatcher and poster are not started (their pages answer
"cannot be reached"). Nothing is faked.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from dashboard_stack import Stack, running_stack

from jeeves.localstack.etcd import EtcdServer
from jeeves.localstack.postgres import PostgresServer


@pytest.fixture(name="stack", scope="module")
def fixture_stack(postgres_server: PostgresServer, etcd_server: EtcdServer) -> Iterator[Stack]:
    with running_stack(postgres_server, etcd_server) as stack:
        yield stack
