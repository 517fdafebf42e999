"""The dead-letter admin API's pure parts: the `limit` parameter and the static token hook.

In-process: the hook runs inside a Quart test request context; nothing is faked.
"""

from __future__ import annotations

import pytest
from quart import Quart

from jeeves.kit.dead_letters import MAX_LIMIT, parse_limit, static_admin_token
from jeeves.kit.errors import APIError

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("raw", "limit"), [(None, 100), ("", 100), ("1", 1), ("500", 500)])
def test_limit_defaults_and_bounds(raw: str | None, limit: int) -> None:
    assert parse_limit(raw) == limit


@pytest.mark.parametrize("raw", ["0", "-1", "501", "ten", "1.5"])
def test_bad_limits_are_422(raw: str) -> None:
    with pytest.raises(APIError) as caught:
        parse_limit(raw)
    assert (caught.value.status, caught.value.code) == (422, "validation_failed")
    assert str(MAX_LIMIT) in caught.value.message


@pytest.mark.parametrize(
    ("header", "status"),
    [(None, 401), ("Basic abc", 401), ("Bearer", 401), ("Bearer wrong", 403)],
)
async def test_the_token_hook_refuses_without_the_token(header: str | None, status: int) -> None:
    app = Quart(__name__)
    headers = {"Authorization": header} if header else {}
    async with app.test_request_context("/v1/dead-letters", headers=headers):
        with pytest.raises(APIError) as caught:
            await static_admin_token("s3cret")()
    assert caught.value.status == status


async def test_the_token_hook_lets_the_token_and_open_mode_through() -> None:
    app = Quart(__name__)
    async with app.test_request_context(
        "/v1/dead-letters", headers={"Authorization": "Bearer s3cret"}
    ):
        await static_admin_token("s3cret")()
    async with app.test_request_context("/v1/dead-letters"):
        await static_admin_token("")()
