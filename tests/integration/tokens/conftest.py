"""Fixtures for the token dealer in real processes: a keys directory made by
`jeeves-tokens genkey`, a client registry file, and a running `jeeves-tokens`. Nothing faked.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from dealer_client import genkey, tokens_env, write_clients

from support.services import ServiceProcess


@pytest.fixture(name="dealer_dir", scope="module")
def fixture_dealer_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("dealer")
    genkey(root / "keys")
    write_clients(root / "clients.json")
    return root


@pytest.fixture(name="tokens", scope="module")
def fixture_tokens(dealer_dir: Path) -> Iterator[ServiceProcess]:
    service = ServiceProcess(
        "jeeves-tokens",
        tokens_env(
            dealer_dir / "keys",
            dealer_dir / "clients.json",
            JEEVES_TOKENS_LOCKOUT_FREE_FAILURES="3",
            JEEVES_TOKENS_LOCKOUT_BASE_S="2",
        ),
    )
    try:
        service.start()
        yield service
    finally:
        service.close()
