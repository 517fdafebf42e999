"""The Strava action as a real process: the login link, the OAuth callback, the summary, token
refresh before expiry, and revocation of a deleted connection — against the Strava emulator.

Real: `jeeves-strava`, `jeeves-data` on PostgreSQL, `jeeves-strava-emulator` (Strava's OAuth
pages, token endpoint, deauthorize and athlete activities, with 6-second tokens here so a
refresh happens within the test). The action is called on `POST /v1/act` as the dispatcher
calls it; the browser's part of OAuth is played with plain HTTP requests. Nothing is faked.
"""

from __future__ import annotations

import itertools
import re
import time
import urllib.request
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from integration.data.data_service_support import start_data_service
from jeeves.localstack.ports import wait_until
from support.services import ServiceProcess, http_json

pytestmark = pytest.mark.integration
TEAM = "T0STRAVA"
_ids = itertools.count(1)
CLIENT_ID, CLIENT_SECRET = "4242", "strava-test-secret"


@pytest.fixture(name="stack", scope="module")
def fixture_stack(database_url: str) -> Iterator[dict[str, ServiceProcess]]:
    started: list[ServiceProcess] = []

    def launch(service: ServiceProcess) -> ServiceProcess:
        started.append(service)
        return service.start()

    try:
        data = start_data_service(database_url)
        started.append(data)
        emulator = launch(
            ServiceProcess(
                "jeeves-strava-emulator",
                {
                    "JEEVES_STRAVA_CLIENT_ID": CLIENT_ID,
                    "JEEVES_STRAVA_CLIENT_SECRET": CLIENT_SECRET,
                    "JEEVES_EMULATOR_STRAVA_TOKEN_TTL_S": "6",
                },
            )
        )
        strava = ServiceProcess(
            "jeeves-strava",
            {
                "JEEVES_DATA_URL": data.url,
                "JEEVES_STRAVA_URL": emulator.url,
                "JEEVES_STRAVA_CLIENT_ID": CLIENT_ID,
                "JEEVES_STRAVA_CLIENT_SECRET": CLIENT_SECRET,
                "JEEVES_STRAVA_REFRESH_MARGIN_S": "4",
                "JEEVES_STRAVA_REVOKE_INTERVAL_S": "0.3",
            },
        )
        strava.env["JEEVES_STRAVA_PUBLIC_URL"] = strava.url
        launch(strava)
        yield {"data": data, "emulator": emulator, "strava": strava}
    finally:
        for service in reversed(started):
            service.close()


def act(strava: ServiceProcess, user: str, keyword: str, text: str = "") -> dict[str, Any]:
    body = {
        "id": f"strava-test-{next(_ids)}",
        "action": "strava",
        "text": text,
        "args": {"keyword": keyword, "message": f"{keyword} {text}".strip()},
        "user": {"slack_id": user, "team_id": TEAM},
        "channel": "C0STRAVA",
        "thread_ts": None,
        "sent_at": time.time(),
    }
    status, answer = http_json("POST", strava.url + "/v1/act", body)
    assert status == 200, answer
    reply: dict[str, Any] = answer["reply"]
    return reply


def link_in(reply: dict[str, Any]) -> str:
    match = re.search(r"<(https?://[^|>]+)\|", reply["text"])
    assert match, reply
    return match.group(1).replace("&amp;", "&")


def no_redirect(url: str) -> tuple[int, str]:
    """GET without following redirects: (status, Location)."""

    class Stop(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    opener = urllib.request.build_opener(Stop)
    try:
        with opener.open(url, timeout=10) as response:
            return int(response.status), ""
    except urllib.error.HTTPError as exc:
        return int(exc.code), str(exc.headers.get("Location", ""))


def connect(stack: dict[str, ServiceProcess], user: str, athlete: int = 1001, **extra: str) -> str:
    """`login strava`, then the browser at Strava: the callback URL Strava sends it back to."""
    reply = act(stack["strava"], user, "login strava")
    assert reply.get("ephemeral") is True, "the link is private"
    url = link_in(reply)
    assert url.startswith(stack["emulator"].url + "/oauth/authorize?")
    query = "&".join([f"athlete={athlete}", *(f"{k}={v}" for k, v in extra.items())])
    status, callback = no_redirect(f"{url}&{query}")
    assert status == 302
    assert callback.startswith(stack["strava"].url + "/strava/callback?")
    return callback


def test_login_callback_then_a_summary_of_the_week(stack: dict[str, ServiceProcess]) -> None:
    user = f"U0RUN{next(_ids)}"
    callback = connect(stack, user)
    status, page = http_json("GET", callback)
    assert status == 200
    assert "Strava is connected, Ana" in str(page)
    status, listed = http_json("GET", f"{stack['data'].url}/v1/users/{TEAM}/{user}/connections")
    [connection] = listed["items"]
    assert (connection["provider"], connection["account"]) == ("strava", "1001")
    assert connection["refreshable"] is True
    summary = act(stack["strava"], user, "strava")["text"]
    assert summary.startswith("*Your last 7 days on Strava*")
    assert "• 2 runs: 13.2 km in 1h 07m" in summary
    assert "• 1 ride: 24.9 km in 1h 15m" in summary
    assert "Latest: _Morning Run_ — 5.2 km in 27 min, 5:11 /km" in summary
    assert "Long Run" not in summary, "older than 7 days"
    assert "4 runs" not in act(stack["strava"], user, "runs", "30 days")["text"]


def test_the_callback_works_once_and_only_for_states_it_issued(
    stack: dict[str, ServiceProcess],
) -> None:
    user = f"U0ONCE{next(_ids)}"
    callback = connect(stack, user)
    assert http_json("GET", callback)[0] == 200
    status, again = http_json("GET", callback)
    assert (status, again["error"]["code"]) == (400, "invalid_state"), "a replayed callback"
    code = parse_qs(urlsplit(callback).query)["code"][0]
    forged = f"{stack['strava'].url}/strava/callback?code={code}&state=forged&scope=read"
    assert http_json("GET", forged)[1]["error"]["code"] == "invalid_state"


def test_refusals_store_nothing(stack: dict[str, ServiceProcess]) -> None:
    user = f"U0NOPE{next(_ids)}"
    denied = connect(stack, user, deny="1")
    assert http_json("GET", denied)[1]["error"]["code"] == "access_denied"
    narrow = connect(stack, user, scope="read")  # the athlete unticked activities
    status, body = http_json("GET", narrow.replace("activity%3Aread_all", ""))
    assert (status, body["error"]["code"]) == (400, "missing_permission")
    status, listed = http_json("GET", f"{stack['data'].url}/v1/users/{TEAM}/{user}/connections")
    assert listed["items"] == []
    assert act(stack["strava"], user, "strava")["text"].startswith("You haven't connected")


def test_a_token_is_refreshed_before_it_expires(stack: dict[str, ServiceProcess]) -> None:
    user = f"U0FRESH{next(_ids)}"
    http_json("GET", connect(stack, user))
    before = http_json("GET", stack["emulator"].url + "/_emulator/state")[1]["refreshes"]
    time.sleep(2.5)  # the 6 s token is now inside the 4 s margin
    assert act(stack["strava"], user, "strava")["text"].startswith("*Your last 7 days")
    after = http_json("GET", stack["emulator"].url + "/_emulator/state")[1]["refreshes"]
    assert after == before + 1


def test_a_deleted_user_has_their_strava_grant_revoked(stack: dict[str, ServiceProcess]) -> None:
    user = f"U0GONE{next(_ids)}"
    http_json("GET", connect(stack, user, athlete=1002))
    assert http_json("DELETE", f"{stack['data'].url}/v1/users/{TEAM}/{user}")[0] == 204

    def revoked() -> bool:
        state = http_json("GET", stack["emulator"].url + "/_emulator/state")[1]
        return any(d["athlete_id"] == 1002 for d in state["deauthorized"])

    wait_until(revoked, timeout=15, what="the deauthorization at Strava")
    _, claimed = http_json("POST", f"{stack['data'].url}/v1/revocations/strava/claim")
    assert claimed["items"] == [], "the revoked token left the queue"
