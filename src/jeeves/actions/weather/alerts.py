"""The daily weather alert, in words: subscribing, stopping, and the morning message (pure).

The weather JeevesAction declares two typed commands — `weather every day at {time}`
(`subscribe`) and `stop weather alerts` (`unsubscribe`) — so the dispatcher hands this action a
validated `time` ("07:30"). The subscription itself lives in the data service; the dispatcher's
scheduler fires it once a day at that time in the user's `timezone` fact and calls this action
as the user with `args.alert`, and the reply goes to the user's DM.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jeeves.kit.action_app import escape_mrkdwn

SUBSCRIBE = "subscribe"
UNSUBSCRIBE = "unsubscribe"
STOP_HINT = "Say `stop weather alerts` to stop them."


def subscribed_text(time: str, facts: Mapping[str, str], moved: bool) -> str:
    """What the user reads after `weather every day at 7:30`."""
    zone = facts.get("timezone")
    when = f"every day at {time} ({escape_mrkdwn(zone)})" if zone else f"every day at {time} UTC"
    opening = "Moved: I'll send you" if moved else "Done: I'll send you"
    lines = [f"{opening} the weather {when}, in a direct message. {STOP_HINT}"]
    if not zone:
        lines.append(
            "I don't know your time zone, so that is UTC: say "
            "`remember my timezone is Europe/Lisbon` and it follows yours."
        )
    if not facts.get("location"):
        lines.append("Tell me where you are too: `remember my location is Porto`.")
    return "\n".join(lines)


def unsubscribed_text(had_one: bool) -> str:
    if had_one:
        return "Done: no more daily weather from me."
    return "You had no daily weather alert. Say `weather every day at 7:30` to get one."


def alert_reply(answer: Mapping[str, Any]) -> dict[str, Any]:
    """The usual forecast, introduced as the daily alert."""
    intro = {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": f"Your daily weather. {STOP_HINT}"}],
    }
    blocks = [intro, *list(answer.get("blocks") or [])]
    return {"text": f"Your daily weather: {answer['text']}", "blocks": blocks}
