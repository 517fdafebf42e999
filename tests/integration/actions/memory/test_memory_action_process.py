"""The memory action as a real process, called on `POST /v1/act` like the dispatcher does,
storing facts in the real data service.

Real: `jeeves-memory`, `jeeves-data`, PostgreSQL. Nothing is faked. A button click is sent the
way the dispatcher forwards an interaction: the button's `value` as the text.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from support.services import ServiceProcess, http_json

pytestmark = pytest.mark.integration
_ids = itertools.count(1)
TEAM = "T0MEMORY"
KEYWORDS = ("remember", "forget", "what do you know", "my")


def click(memory: ServiceProcess, button: dict[str, Any], user: str) -> Any:
    """Call the action as the dispatcher does for a button click."""
    interaction = {"action_id": button["action_id"], "value": button["value"], "block_id": "b"}
    return act(memory, button["value"], user, args={"interaction": interaction})


def act(
    memory: ServiceProcess,
    text: str,
    user: str,
    call_id: str | None = None,
    args: dict[str, Any] | None = None,
) -> Any:
    """Call the action as the dispatcher does for a message (`text` lacks the keyword)."""
    keyword = "" if args else next((k for k in KEYWORDS if text.lower().startswith(k)), "")
    body = {
        "id": call_id or f"memory-test-{next(_ids)}",
        "action": "memory",
        "text": text[len(keyword) :].strip(),
        "args": args if args is not None else {"keyword": keyword, "message": text},
        "user": {"slack_id": user, "team_id": TEAM},
        "channel": "C0TEST",
        "thread_ts": None,
        "sent_at": 1764000000.0,
    }
    status, answer = http_json("POST", memory.url + "/v1/act", body)
    assert status == 200, answer
    return answer["reply"]


def facts_of(data: ServiceProcess, user: str) -> dict[str, str]:
    _, page = http_json("GET", f"{data.url}/v1/users/{TEAM}/{user}/facts")
    return {item["key"]: item["value"] for item in page["items"]}


def test_remember_list_and_forget(
    memory_action: ServiceProcess, memory_data_service: ServiceProcess
) -> None:
    user = "U0M1"
    empty = act(memory_action, "what do you know about me", user)
    assert "don't know anything" in empty["text"]
    assert "Porto" in act(memory_action, "remember my location is Porto", user)["text"]
    zone = act(memory_action, "my timezone is europe/lisbon", user)["text"]
    assert "Europe/Lisbon" in zone
    act(memory_action, "my units are Fahrenheit", user)
    assert facts_of(memory_data_service, user) == {
        "location": "Porto",
        "timezone": "Europe/Lisbon",
        "units": "imperial",
    }
    listed = act(memory_action, "what do you know about me?", user)["text"]
    assert "Porto" in listed
    assert "Europe/Lisbon" in listed
    assert "forgot your location" in act(memory_action, "forget my location", user)["text"]
    assert "nothing to forget" in act(memory_action, "forget my location", user)["text"]
    assert "location" not in facts_of(memory_data_service, user)


def test_invalid_values_get_a_clear_reply_and_store_nothing(
    memory_action: ServiceProcess, memory_data_service: ServiceProcess
) -> None:
    user = "U0M2"
    assert "not a time zone" in act(memory_action, "my timezone is Mars/Olympus", user)["text"]
    assert "metric" in act(memory_action, "my units are kelvin", user)["text"]
    assert facts_of(memory_data_service, user) == {}
    assert "remember my location is Porto" in act(memory_action, "remember the milk", user)["text"]


def test_forget_everything_needs_the_button_of_the_same_user(
    memory_action: ServiceProcess, memory_data_service: ServiceProcess
) -> None:
    user = "U0M3"
    act(memory_action, "remember I live in São Paulo", user)
    asked = act(memory_action, "forget everything", user)
    assert facts_of(memory_data_service, user) == {"location": "São Paulo"}  # not yet
    buttons = next(b for b in asked["blocks"] if b["type"] == "actions")["elements"]
    confirm = next(b for b in buttons if b["action_id"] == "memory:forget_all:confirm")
    cancel = next(b for b in buttons if b["action_id"] == "memory:forget_all:cancel")
    assert "keep" in click(memory_action, cancel, user)["text"]
    assert "belongs to someone else" in click(memory_action, confirm, "U0INTRUDER")["text"]
    typed = act(memory_action, confirm["value"], user)  # typed, not clicked: never confirms
    assert "I can remember things" in typed["text"]
    assert facts_of(memory_data_service, user) == {"location": "São Paulo"}
    assert "forgotten everything" in click(memory_action, confirm, user)["text"]
    assert http_json("GET", f"{memory_data_service.url}/v1/users/{TEAM}/{user}")[0] == 404


def test_a_repeated_call_id_is_answered_once(
    memory_action: ServiceProcess, memory_data_service: ServiceProcess
) -> None:
    user = "U0M4"
    first = act(memory_action, "remember my location is Berlin", user, call_id="same-id")
    http_json("DELETE", f"{memory_data_service.url}/v1/users/{TEAM}/{user}/facts/location")
    again = act(memory_action, "remember my location is Berlin", user, call_id="same-id")
    assert again == first
    assert facts_of(memory_data_service, user) == {}  # the handler did not run twice


def test_data_service_down_is_a_503_for_the_dispatcher_to_retry() -> None:
    memory = ServiceProcess("jeeves-memory", {"JEEVES_DATA_URL": "http://127.0.0.1:9"})
    try:
        memory.start()
        body = {
            "id": "down-1",
            "action": "memory",
            "text": "what do you know about me",
            "user": {"slack_id": "U0M5", "team_id": TEAM},
            "channel": "C0TEST",
        }
        status, answer = http_json("POST", memory.url + "/v1/act", body)
        assert status == 503
        assert "unavailable" in answer["error"]["message"]
    finally:
        memory.close()
