"""Shared fixture for the token dealer's unit tests: one RSA key for the session. Nothing faked."""

from __future__ import annotations

import pytest

from jeeves.tokens.domain.keys import SigningKey, generate_key


@pytest.fixture(name="key", scope="session")
def fixture_key() -> SigningKey:
    return generate_key(now=1000.0, sign_from=1000.0)
