"""Fixtures for the auth kit's unit tests: two RSA key pairs for the session. Nothing faked."""

from __future__ import annotations

import pytest
from authkit_helpers import KeyPair, new_pair


@pytest.fixture(name="pair", scope="session")
def fixture_pair() -> KeyPair:
    return new_pair("key-1")


@pytest.fixture(name="other_pair", scope="session")
def fixture_other_pair() -> KeyPair:
    return new_pair("key-2")
