"""Routing by keyword against a registry snapshot, and the dispatcher's own replies.

Pure functions over `ActionSpec`s built in the test; nothing is faked.
"""

from __future__ import annotations

import pytest

from jeeves.dispatcher.domain.replies import connectable, help_text, login_text, unknown_text
from jeeves.dispatcher.domain.routing import (
    Builtin,
    Disabled,
    Empty,
    Invoke,
    Unknown,
    known_keywords,
    route,
)
from jeeves.kit.actions import ActionSpec

pytestmark = pytest.mark.unit


def spec(name: str, *keywords: str, enabled: bool = True, **extra: str) -> ActionSpec:
    return ActionSpec(
        name=name,
        keywords=keywords,
        url=f"http://{name}:8080",
        enabled=enabled,
        description=extra.get("description", ""),
        usage=extra.get("usage", ""),
    )


ACTIONS = {
    s.name: s
    for s in [
        spec("weather", "weather", "forecast", description="Weather now.", usage="weather in <p>"),
        spec("forecast-week", "weather week"),
        spec("memory", "remember", "recall"),
        spec("strava", "strava", enabled=False),
        spec("echo", "echo"),
    ]
}


@pytest.mark.parametrize(
    ("text", "action", "args"),
    [
        ("weather in Berlin", "weather", "in Berlin"),
        ("Weather in Berlin", "weather", "in Berlin"),
        ("WEATHER Berlin", "weather", "Berlin"),
        ("weather", "weather", ""),
        ("weather: Berlin", "weather", "Berlin"),
        ("weather? Berlin", "weather", "Berlin"),
        ("forecast for Lisbon", "weather", "for Lisbon"),
        ("weather week in Porto", "forecast-week", "in Porto"),
        ("Weather  Week", "forecast-week", ""),
        ("remember my location is Porto", "memory", "my location is Porto"),
        ("echo   keep  the rest", "echo", "keep  the rest"),
    ],
)
def test_longest_whole_word_keyword_wins(text: str, action: str, args: str) -> None:
    result = route(text, ACTIONS)
    assert isinstance(result, Invoke)
    assert (result.spec.name, result.args) == (action, args)


@pytest.mark.parametrize("text", ["weathers in Berlin", "weatherman", "rememberme", "echoes"])
def test_keywords_match_whole_words_only(text: str) -> None:
    assert isinstance(route(text, ACTIONS), Unknown)


def test_keywords_are_matched_at_the_start_only() -> None:
    assert isinstance(route("tell me the weather", ACTIONS), Unknown)


def test_builtins_win_over_actions_claiming_their_word() -> None:
    actions = {**ACTIONS, "rogue": spec("rogue", "help")}
    assert route("help", actions) == Builtin("help", "")
    assert route("Help weather", actions) == Builtin("help", "weather")
    assert route("login strava", actions) == Builtin("login", "strava")


def test_disabled_action_is_reported_not_called() -> None:
    result = route("strava last ride", ACTIONS)
    assert isinstance(result, Disabled)
    assert result.keyword == "strava"


def test_enabled_action_wins_a_keyword_tie() -> None:
    actions = {"a": spec("a", "ping", enabled=False), "b": spec("b", "ping")}
    result = route("ping", actions)
    assert isinstance(result, Invoke)
    assert result.spec.name == "b"


def test_empty_text() -> None:
    assert route("", ACTIONS) == Empty()
    assert route("   ", ACTIONS) == Empty()


@pytest.mark.parametrize(
    ("text", "suggestion"),
    [("wether in Paris", "weather"), ("remembr x", "remember"), ("hlep", "help"), ("xyzzy", None)],
)
def test_unknown_suggests_the_closest_keyword(text: str, suggestion: str | None) -> None:
    result = route(text, ACTIONS)
    assert isinstance(result, Unknown)
    assert result.suggestion == suggestion


def test_disabled_keywords_are_not_suggested() -> None:
    assert "strava" not in known_keywords(ACTIONS)
    result = route("strav", ACTIONS)
    assert isinstance(result, Unknown)
    assert result.suggestion is None


def test_unknown_reply_names_the_word_and_the_suggestion() -> None:
    assert "“wether”" in unknown_text("wether", "weather")
    assert "`weather`" in unknown_text("wether", "weather")
    assert "help" in unknown_text("xyzzy", None)


def test_user_words_in_replies_cannot_ping_anyone() -> None:
    text = unknown_text("<!channel>&", None)
    assert "<!channel>" not in text
    assert "“&lt;!channel&gt;&amp;”" in text


def test_help_lists_every_action_sorted_with_usage() -> None:
    text = help_text(ACTIONS)
    lines = text.splitlines()
    assert lines[0] == "Here is what I can do:"
    listed = [line.split("*")[1] for line in lines[1:]]
    assert listed[:5] == sorted(listed[:5])
    assert "• *weather* (also: forecast) — Weather now. · usage: `weather in &lt;p&gt;`" in lines
    assert any("strava" in line and "turned off" in line for line in lines)
    assert lines[-2].startswith("• *help*")
    assert "not available yet" in lines[-1]


def test_help_on_one_topic() -> None:
    assert help_text(ACTIONS, "forecast").startswith("*weather*")
    assert help_text(ACTIONS, "nothing").startswith("Here is what I can do:")


def test_help_with_an_empty_registry_still_helps() -> None:
    assert help_text({}).splitlines()[1].startswith("• *help*")


def test_login_service_routes_to_the_action_that_connects_it() -> None:
    actions = {"strava": spec("strava", "strava", "runs", "login strava")}
    assert route("login strava", actions) == Invoke(actions["strava"], "login strava", "")
    assert route("login", actions) == Builtin("login", "")
    assert route("login garmin", actions) == Builtin("login", "garmin")


def test_login_lists_what_can_be_connected() -> None:
    actions = {
        "strava": spec("strava", "strava", "login strava"),
        "off": spec("off", "login garmin", enabled=False),
    }
    assert connectable(actions) == ["strava"]
    assert "`login strava`" in login_text(actions, "")
    assert login_text(actions, "<!channel>").startswith("I can't connect “&lt;!channel&gt;”")
    assert "not available yet" in login_text({}, "")
    assert help_text(actions).splitlines()[-1] == (
        "• *login* — connect your other accounts: `login strava`"
    )
