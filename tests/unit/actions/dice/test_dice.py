"""The dice action: parsing the notation, seeded rolls, the reply's wording, and the handler
through the SDK.

Real: dice's app (built on the SDK) through Quart's test client. Nothing is faked.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from quart import Quart
from quart.typing import TestClientProtocol as Client

from jeeves.actions.dice.app import build_app
from jeeves.actions.dice.domain import (
    MAX_DICE,
    USAGE,
    Dice,
    DiceError,
    Roll,
    describe,
    parse_dice,
    roll,
)
from jeeves.actions.dice.settings import DiceSettings

pytestmark = pytest.mark.unit


def envelope(action_id: str = "d1", text: str = "2d6") -> dict[str, Any]:
    return {
        "id": action_id,
        "action": "dice",
        "text": text,
        "user": {"slack_id": "U0ALICE", "team_id": "T0TEAM"},
        "channel": "C0GENERAL",
    }


@pytest.fixture(name="app")
async def fixture_app() -> AsyncIterator[Quart]:
    app = build_app(DiceSettings())
    async with app.test_app():
        yield app


@pytest.fixture(name="client")
def fixture_client(app: Quart) -> Client:
    return app.test_client()


@pytest.mark.parametrize(
    ("text", "dice"),
    [
        ("2d6", Dice(2, 6)),
        ("d20", Dice(1, 20)),
        ("3D6 + 2", Dice(3, 6, 2)),
        ("1d100-5", Dice(1, 100, -5)),
        ("", Dice(1, 6)),
        ("  ", Dice(1, 6)),
        (f"{MAX_DICE}d1000", Dice(MAX_DICE, 1000)),
    ],
)
def test_notation_parses(text: str, dice: Dice) -> None:
    assert parse_dice(text) == dice


@pytest.mark.parametrize(
    "text", ["0d6", "2d1", "2d0", f"{MAX_DICE + 1}d6", "2d1001", "two dice", "2d6+", "d", "2d6x"]
)
def test_impossible_rolls_are_explained(text: str) -> None:
    with pytest.raises(DiceError) as caught:
        parse_dice(text)
    assert USAGE in str(caught.value)


def test_a_huge_modifier_is_refused() -> None:
    with pytest.raises(DiceError, match="modifier"):
        parse_dice("1d6+100000")


def test_the_same_seed_rolls_the_same_faces_within_range() -> None:
    dice = Dice(50, 6)
    first = roll(dice, "dispatch-Ev1-1")
    assert first == roll(dice, "dispatch-Ev1-1")
    assert all(1 <= face <= 6 for face in first.faces)
    assert len(first.faces) == 50
    others = {roll(dice, f"dispatch-Ev{n}-1").faces for n in range(20)}
    assert len(others) > 1, "different requests roll differently"


def test_every_face_can_come_up() -> None:
    faces = {face for n in range(200) for face in roll(Dice(1, 6), f"id-{n}").faces}
    assert faces == {1, 2, 3, 4, 5, 6}


def test_replies_show_faces_modifier_and_total() -> None:
    assert describe(Roll(Dice(2, 6), (3, 5))) == ":game_die: 2d6: 3 + 5 = *8*"
    assert describe(Roll(Dice(2, 6, 1), (3, 5))) == ":game_die: 2d6+1: 3 + 5 + 1 = *9*"
    assert describe(Roll(Dice(1, 20, -2), (7,))) == ":game_die: 1d20-2: 7 - 2 = *5*"
    assert describe(Roll(Dice(1, 20), (17,))) == ":game_die: 1d20: *17*"


async def test_the_handler_rolls_and_answers_repeats_alike(client: Client) -> None:
    response = await client.post("/v1/act", json=envelope("d1", "3d6+2"))
    assert response.status_code == 200
    text = (await response.get_json())["reply"]["text"]
    assert text == describe(roll(Dice(3, 6, 2), "d1"))
    again = await client.post("/v1/act", json=envelope("d1", "3d6+2"))
    assert (await again.get_json())["reply"]["text"] == text


async def test_a_bad_roll_is_a_message_for_the_user(client: Client) -> None:
    response = await client.post("/v1/act", json=envelope("d2", "roll a dice please"))
    assert response.status_code == 400
    assert (await response.get_json())["error"]["message"] == USAGE
