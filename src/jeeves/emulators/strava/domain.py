"""Strava as an app meets it, kept in memory: athletes, their activities, OAuth codes and tokens.

Shapes follow Strava's API v3:
- the token endpoint's answer to a code: `{"token_type": "Bearer", "expires_at", "expires_in",
  "refresh_token", "access_token", "athlete": {summary}}`; to a refresh: the same without
  `athlete`. Strava keeps handing out the same refresh token until it changes it; here each
  refresh returns a new access token and keeps the refresh token;
- errors: `{"message": "Bad Request", "errors": [{"resource", "field", "code": "invalid"}]}`
  (400) and `{"message": "Authorization Error", "errors": [...]}` (401);
- `SummaryActivity`: `id, name, distance (m), moving_time, elapsed_time (s),
  total_elevation_gain, type, sport_type, start_date, start_date_local, timezone, …`.

Deauthorizing revokes every token the athlete gave the app and is recorded, so tests can see
that an app revoked what it held. Pure: times are passed in.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

CODE_TTL_S = 600.0
DEFAULT_TOKEN_TTL_S = 21_600.0  # Strava's access tokens live 6 hours
READ_ACTIVITIES = frozenset({"activity:read", "activity:read_all"})


class StravaError(Exception):
    """An answer Strava gives as an error: HTTP status and its JSON body."""

    def __init__(self, status: int, resource: str, field_name: str, code: str) -> None:
        super().__init__(f"{resource}.{field_name}: {code}")
        self.status = status
        message = "Bad Request" if status == 400 else "Authorization Error"
        self.body = {
            "message": message,
            "errors": [{"resource": resource, "field": field_name, "code": code}],
        }


def unauthorized(resource: str = "Athlete", field_name: str = "access_token") -> StravaError:
    return StravaError(401, resource, field_name, "invalid")


@dataclass
class Athlete:
    id: int
    firstname: str
    lastname: str
    city: str = "Lisbon"
    activities: list[dict[str, Any]] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "resource_state": 2,
            "username": f"{self.firstname}{self.lastname}".lower(),
            "firstname": self.firstname,
            "lastname": self.lastname,
            "city": self.city,
            "country": "Portugal",
            "sex": None,
            "premium": False,
            "summit": False,
            "profile_medium": "avatar/athlete/medium.png",
            "profile": "avatar/athlete/large.png",
        }


@dataclass
class Code:
    athlete_id: int
    scope: str
    expires_at: float
    used: bool = False


@dataclass
class Token:
    athlete_id: int
    scope: frozenset[str]
    expires_at: float
    revoked: bool = False


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def activity(
    activity_id: int,
    athlete_id: int,
    *,
    name: str,
    sport: str,
    distance_m: float,
    moving_s: int,
    start: float,
    elevation_m: float = 0.0,
) -> dict[str, Any]:
    """One SummaryActivity as Strava lists it."""
    kind = "Ride" if "Ride" in sport else ("Run" if "Run" in sport else sport)
    return {
        "resource_state": 2,
        "athlete": {"id": athlete_id, "resource_state": 1},
        "name": name,
        "distance": round(distance_m, 1),
        "moving_time": moving_s,
        "elapsed_time": moving_s + 60,
        "total_elevation_gain": elevation_m,
        "type": kind,
        "sport_type": sport,
        "workout_type": None,
        "id": activity_id,
        "start_date": iso(start),
        "start_date_local": iso(start),
        "timezone": "(GMT+00:00) Europe/Lisbon",
        "utc_offset": 0.0,
        "location_country": "Portugal",
        "achievement_count": 0,
        "kudos_count": 2,
        "comment_count": 0,
        "athlete_count": 1,
        "photo_count": 0,
        "trainer": False,
        "commute": False,
        "manual": False,
        "private": False,
        "visibility": "everyone",
        "average_speed": round(distance_m / moving_s, 3) if moving_s else 0.0,
        "max_speed": round(distance_m / moving_s * 1.4, 3) if moving_s else 0.0,
        "has_heartrate": False,
    }


def seed_athletes(now: float) -> dict[int, Athlete]:
    """Two athletes with a week of activities each, relative to `now`."""
    day = 86_400.0
    ana = Athlete(1001, "Ana", "Lima")
    ana.activities = [
        activity(9001, 1001, name="Morning Run", sport="Run", distance_m=5230.4,
                 moving_s=1630, start=now - 0.3 * day),
        activity(9002, 1001, name="Tempo Tuesday", sport="Run", distance_m=8012.0,
                 moving_s=2410, start=now - 2.2 * day, elevation_m=41.0),
        activity(9003, 1001, name="Coffee Ride", sport="Ride", distance_m=24931.4,
                 moving_s=4500, start=now - 3.5 * day, elevation_m=210.0),
        activity(9004, 1001, name="Long Run", sport="Run", distance_m=15003.9,
                 moving_s=5100, start=now - 12 * day),
    ]  # fmt: skip
    ben = Athlete(1002, "Ben", "Okafor", city="Porto")
    ben.activities = [
        activity(9101, 1002, name="Lunch Swim", sport="Swim", distance_m=1500.0,
                 moving_s=1980, start=now - 1.1 * day),
    ]  # fmt: skip
    return {ana.id: ana, ben.id: ben}


@dataclass
class Strava:
    """The emulated Strava: one registered app (client id and secret), its athletes."""

    client_id: str
    client_secret: str
    athletes: dict[int, Athlete]
    token_ttl_s: float = DEFAULT_TOKEN_TTL_S
    codes: dict[str, Code] = field(default_factory=dict)
    tokens: dict[str, Token] = field(default_factory=dict)
    refresh_tokens: dict[str, int] = field(default_factory=dict)  # refresh token → athlete
    deauthorized: list[dict[str, Any]] = field(default_factory=list)
    refreshes: int = 0

    def _client_ok(self, client_id: str, client_secret: str | None) -> None:
        if not hmac.compare_digest(str(client_id).encode(), self.client_id.encode()):
            raise StravaError(400, "Application", "client_id", "invalid")
        if client_secret is not None and not hmac.compare_digest(
            client_secret.encode(), self.client_secret.encode()
        ):
            raise StravaError(401, "Application", "client_secret", "invalid")

    def authorize(self, client_id: str, athlete_id: int, scope: str, now: float) -> tuple[str, str]:
        """The athlete approves: (code, the scope granted — `read` always comes with it)."""
        self._client_ok(client_id, None)
        if athlete_id not in self.athletes:
            raise StravaError(400, "Athlete", "id", "invalid")
        asked = {s for s in scope.replace(" ", ",").split(",") if s}
        granted = ",".join(sorted(asked | {"read"}))
        code = secrets.token_hex(20)
        self.codes[code] = Code(athlete_id, granted, now + CODE_TTL_S)
        return code, granted

    def exchange(self, client_id: str, client_secret: str, code: str, now: float) -> dict[str, Any]:
        self._client_ok(client_id, client_secret)
        found = self.codes.get(code)
        if found is None or found.used or now > found.expires_at:
            raise StravaError(400, "AuthorizationCode", "code", "invalid")
        found.used = True
        refresh = secrets.token_hex(20)
        self.refresh_tokens[refresh] = found.athlete_id
        answer = self._access(found.athlete_id, frozenset(found.scope.split(",")), now)
        answer["refresh_token"] = refresh
        answer["athlete"] = self.athletes[found.athlete_id].summary()
        return answer

    def refresh(
        self, client_id: str, client_secret: str, refresh_token: str, now: float
    ) -> dict[str, Any]:
        self._client_ok(client_id, client_secret)
        athlete_id = self.refresh_tokens.get(refresh_token)
        if athlete_id is None:
            raise StravaError(400, "RefreshToken", "refresh_token", "invalid")
        scope = next(
            (t.scope for t in self.tokens.values() if t.athlete_id == athlete_id and not t.revoked),
            frozenset({"read", "activity:read_all"}),
        )
        self.refreshes += 1
        answer = self._access(athlete_id, scope, now)
        answer["refresh_token"] = refresh_token
        return answer

    def _access(self, athlete_id: int, scope: frozenset[str], now: float) -> dict[str, Any]:
        token = secrets.token_hex(20)
        expires_at = int(now + self.token_ttl_s)
        self.tokens[token] = Token(athlete_id, scope, float(expires_at))
        return {
            "token_type": "Bearer",
            "expires_at": expires_at,
            "expires_in": int(self.token_ttl_s),
            "access_token": token,
        }

    def authenticate(self, token: str, now: float) -> Token:
        found = self.tokens.get(token)
        if found is None or found.revoked or now >= found.expires_at:
            raise unauthorized()
        return found

    def deauthorize(self, token: str, now: float) -> dict[str, Any]:
        """The app gives up the athlete's authorization: every token of it is revoked."""
        found = self.authenticate(token, now)
        for other in self.tokens.values():
            if other.athlete_id == found.athlete_id:
                other.revoked = True
        for refresh, athlete_id in list(self.refresh_tokens.items()):
            if athlete_id == found.athlete_id:
                del self.refresh_tokens[refresh]
        self.deauthorized.append({"athlete_id": found.athlete_id, "at": now})
        return {"access_token": token}

    def activities(
        self,
        token: str,
        now: float,
        *,
        before: float | None = None,
        after: float | None = None,
        page: int = 1,
        per_page: int = 30,
    ) -> list[dict[str, Any]]:
        """The athlete's activities, newest first (needs `activity:read`)."""
        found = self.authenticate(token, now)
        if not found.scope & READ_ACTIVITIES:
            raise StravaError(401, "AccessToken", "activity:read_permission", "missing")
        rows = sorted(
            self.athletes[found.athlete_id].activities,
            key=lambda a: str(a["start_date"]),
            reverse=True,
        )
        if before is not None:
            rows = [a for a in rows if a["start_date"] < iso(before)]
        if after is not None:
            rows = [a for a in rows if a["start_date"] > iso(after)]
        start = (max(page, 1) - 1) * per_page
        return rows[start : start + per_page]
