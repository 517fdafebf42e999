"""The memory action's pure parts: command parsing, fact normalisation, the confirmation button.

Real: `jeeves.actions.memory.domain`. Nothing is faked; times are passed in explicitly.
"""

from __future__ import annotations

import pytest

from jeeves.actions.memory.domain import (
    CANCEL_VALUE,
    Cancel,
    Command,
    ConfirmForgetAll,
    Forget,
    ForgetAll,
    Help,
    InvalidFact,
    ListFacts,
    Remember,
    ask_forget_all,
    confirm_value,
    confirmation_state,
    known_facts,
    normalise_fact,
    parse_command,
    remembered,
)

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("remember my location is Porto", Remember("location", "Porto")),
        ("Remember that my city is São Paulo.", Remember("location", "São Paulo")),
        ("<@U0BOT> remember my location is Porto", Remember("location", "Porto")),
        ("my timezone is Europe/Lisbon", Remember("timezone", "Europe/Lisbon")),
        ("my time zone is Europe/Lisbon", Remember("timezone", "Europe/Lisbon")),
        ("my units are imperial", Remember("units", "imperial")),
        ("remember I live in Kraków", Remember("location", "Kraków")),
        ("I use imperial units", Remember("units", "imperial")),
        ("my favourite colour is green", Remember("favourite_colour", "green")),
        ("forget my location", Forget("location")),
        ("forget my time zone", Forget("timezone")),
        ("forget everything", ForgetAll()),
        ("forget me", ForgetAll()),
        ("what do you know about me?", ListFacts()),
        ("What do you know", ListFacts()),
        ("remember", ListFacts()),
        ("recall", ListFacts()),
        ("forget_all:confirm:U123:1700000000", ConfirmForgetAll("U123", 1700000000)),
        (CANCEL_VALUE, Cancel()),
        ("remember the milk", Help()),
        ("forget_all:confirm:U1", Help()),
    ],
)
def test_parse_command(text: str, command: Command) -> None:
    assert parse_command(text) == command


def test_normalise_fact_values() -> None:
    assert normalise_fact("timezone", "europe/lisbon") == "Europe/Lisbon"
    assert normalise_fact("timezone", "America/New York") == "America/New_York"
    assert normalise_fact("units", "Fahrenheit") == "imperial"
    assert normalise_fact("location", " “Porto” ") == "Porto"
    for key, value in [
        ("timezone", "Mars/Olympus"),
        ("units", "kelvin"),
        ("location", "x" * 201),
        ("location", '""'),
    ]:
        with pytest.raises(InvalidFact):
            normalise_fact(key, value)


def test_confirmation_is_bound_to_the_user_and_expires() -> None:
    command = parse_command(confirm_value("U1", 1000))
    assert isinstance(command, ConfirmForgetAll)
    assert confirmation_state(command, "U1", 1100, ttl_s=600) == "ok"
    assert confirmation_state(command, "U2", 1100, ttl_s=600) == "other_user"
    assert confirmation_state(command, "U1", 1601, ttl_s=600) == "expired"
    assert confirmation_state(command, "U1", 999, ttl_s=600) == "expired"


def test_forget_all_asks_with_buttons_routed_to_memory() -> None:
    message = ask_forget_all("U1", 1000)
    actions = next(b for b in message["blocks"] if b["type"] == "actions")
    confirm, cancel = actions["elements"]
    assert confirm["action_id"].startswith("memory:")
    assert cancel["action_id"].startswith("memory:")
    assert parse_command(confirm["value"]) == ConfirmForgetAll("U1", 1000)
    assert parse_command(cancel["value"]) == Cancel()
    assert confirm["style"] == "danger"


def test_known_facts_lists_or_explains() -> None:
    assert "don't know anything" in known_facts({})["text"]
    listed = known_facts({"timezone": "Europe/Lisbon", "location": "Porto"})["text"]
    assert listed.index("location") < listed.index("timezone")


def test_facts_shown_back_are_escaped() -> None:
    said = remembered("nickname", "<!channel> & <@U0BOB>")
    assert said["text"] == "Got it: your nickname is &lt;!channel&gt; &amp; &lt;@U0BOB&gt;."
    assert said["blocks"][0]["text"]["text"] == said["text"]
    listed = known_facts({"location": "<!here>", "home_town": "A&B"})
    assert "<!here>" not in listed["text"]
    assert "• *location*: &lt;!here&gt;" in listed["text"]
    assert "• *home town*: A&amp;B" in listed["text"]
    with pytest.raises(InvalidFact, match="“&lt;!channel&gt;” is not a time zone"):
        normalise_fact("timezone", "<!channel>")
