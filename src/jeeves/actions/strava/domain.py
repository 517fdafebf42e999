"""What the Strava action says and understands: pure functions, no I/O.

- `command_of(keyword, text)`: `login` (the keyword `login strava`), `summary` (`strava`,
  `runs`, optionally `strava week` / `runs 30 days`), or `help`;
- `authorize_url(...)`: Strava's OAuth page for the login link (scope `read,activity:read_all`,
  the state bound to the Slack user);
- `summary_text(activities, now, days)`: the period's activities grouped by sport — count,
  distance, moving time — and the latest one, in Slack mrkdwn (names escaped);
- `granted_can_read(scope)`: the athlete let us read activities.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import urlencode

from jeeves.kit.action_app import escape_mrkdwn

SCOPE = "read,activity:read_all"
READ_ACTIVITIES = frozenset({"activity:read", "activity:read_all"})
DEFAULT_DAYS = 7
MAX_DAYS = 90
_DAYS = re.compile(r"(\d{1,3})\s*days?")


@dataclass(frozen=True)
class Command:
    kind: Literal["login", "summary", "help"]
    days: int = DEFAULT_DAYS


def command_of(keyword: str, text: str) -> Command:
    """The command in a message routed here by `keyword` with `text` after it."""
    if keyword == "login strava":
        return Command("login")
    words = text.lower().strip()
    if words in ("help", "?"):
        return Command("help")
    if "month" in words:
        return Command("summary", 30)
    match = _DAYS.search(words)
    if match:
        return Command("summary", max(1, min(MAX_DAYS, int(match[1]))))
    return Command("summary")


def authorize_url(strava_url: str, *, client_id: str, redirect_uri: str, state: str) -> str:
    query = {
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "response_type": "code",
        "approval_prompt": "auto",
        "scope": SCOPE,
        "state": state,
    }
    return f"{strava_url.rstrip('/')}/oauth/authorize?{urlencode(query)}"


def granted_can_read(scope: str) -> bool:
    return bool({s.strip() for s in scope.split(",")} & READ_ACTIVITIES)


def login_text(url: str, ttl_s: int) -> str:
    minutes = max(1, ttl_s // 60)
    return (
        f"<{url}|Connect your Strava account>. The link is yours alone and works once, "
        f"for {minutes} minutes. Afterwards, say `strava` for your week."
    )


NOT_CONNECTED = "You haven't connected Strava yet. Say `login strava` and I'll send you a link."
REVOKED = (
    "Your Strava connection no longer works (it was revoked on Strava's side). "
    "Say `login strava` to connect again."
)
UNAVAILABLE = "Strava is unavailable right now. Please try again in a few minutes."
USAGE = (
    "Strava, connected to your Slack account:\n"
    "• `login strava` — connect (I send you a private link)\n"
    "• `strava` or `runs` — your last 7 days · `strava 30 days`\n"
    "• `forget everything` — disconnects Strava too"
)


def _distance(meters: float) -> str:
    return f"{meters / 1000:.1f} km"


def _duration(seconds: float) -> str:
    total = int(seconds)
    hours, rest = divmod(total, 3600)
    minutes = rest // 60
    return f"{hours}h {minutes:02d}m" if hours else f"{minutes} min"


def _pace(meters: float, seconds: float) -> str:
    if meters <= 0:
        return ""
    per_km = seconds / (meters / 1000)
    return f", {int(per_km // 60)}:{int(per_km % 60):02d} /km"


def _number(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def _when(start: str, now: datetime) -> str:
    try:
        at = datetime.fromisoformat(start.replace("Z", "+00:00"))
    except ValueError:
        return ""
    days = (now.date() - at.astimezone(UTC).date()).days
    return "today" if days <= 0 else ("yesterday" if days == 1 else f"{days} days ago")


def summary_text(activities: Sequence[Mapping[str, Any]], now: float, days: int) -> str:
    """The period's activities by sport, then the latest one."""
    period = "7 days" if days == DEFAULT_DAYS else f"{days} days"
    if not activities:
        return f"No Strava activities in the last {period}. Time for a run?"
    totals: dict[str, list[float]] = defaultdict(lambda: [0, 0.0, 0.0])
    for item in activities:
        sport = str(item.get("sport_type") or item.get("type") or "Workout")
        row = totals[sport]
        row[0] += 1
        row[1] += _number(item.get("distance"))
        row[2] += _number(item.get("moving_time"))
    lines = [f"*Your last {period} on Strava*"]
    for sport, (count, meters, seconds) in sorted(totals.items(), key=lambda kv: -kv[1][0]):
        noun = escape_mrkdwn(sport.lower()) + ("s" if count != 1 else "")
        lines.append(f"• {int(count)} {noun}: {_distance(meters)} in {_duration(seconds)}")
    latest = activities[0]
    meters, seconds = _number(latest.get("distance")), _number(latest.get("moving_time"))
    pace = _pace(meters, seconds) if "Run" in str(latest.get("sport_type", "")) else ""
    when = _when(str(latest.get("start_date", "")), datetime.fromtimestamp(now, UTC))
    name = escape_mrkdwn(str(latest.get("name") or "Untitled"))
    lines.append(
        f"Latest: _{name}_ — {_distance(meters)} in {_duration(seconds)}{pace}"
        + (f", {when}" if when else "")
    )
    return "\n".join(lines)
