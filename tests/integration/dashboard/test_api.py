"""The dashboard's JSON API: admin-only routes, CSRF, flags in etcd with audit records, a
person's own facts, export and forget.

Real: `jeeves-dashboard`, the Slack emulator (sign-in), the data service, etcd, PostgreSQL and
the token dealer. The list of admin routes is read from the app's own url_map, so a new admin
route is covered without editing this test.
"""

from __future__ import annotations

import json
import re

import pytest
from dashboard_stack import Stack

from jeeves.dashboard.app import build_app
from jeeves.dashboard.settings import DashboardSettings
from jeeves.kit.etcd import flag_key, make_client, read_key, write_key
from support.dashboard import ADMIN, USER, Visitor

pytestmark = pytest.mark.integration


@pytest.fixture(name="admin", scope="module")
def fixture_admin(stack: Stack) -> Visitor:
    visitor = Visitor()
    visitor.sign_in(stack.url, ADMIN)
    return visitor


@pytest.fixture(name="user", scope="module")
def fixture_user(stack: Stack) -> Visitor:
    visitor = Visitor()
    visitor.sign_in(stack.url, USER)
    return visitor


def admin_routes() -> list[tuple[str, str]]:
    """(method, concrete path) of every route under /api/admin, from the app's url_map."""
    app = build_app(
        DashboardSettings(
            database_url="postgresql://unused/none",
            public_url="http://localhost:1",
            slack_client_id="x",
            slack_client_secret="y",  # type: ignore[arg-type]
        )
    )
    routes = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/admin"):
            continue
        path = re.sub(r"<(?:int:)?job_id>", "1", rule.rule)
        path = re.sub(r"<[^>]+>", "probe", path)
        routes += [(m, path) for m in sorted(rule.methods or ()) if m not in ("HEAD", "OPTIONS")]
    return routes


ADMIN_ROUTES = admin_routes()


def test_the_admin_route_list_is_not_empty() -> None:
    methods = {m for m, _ in ADMIN_ROUTES}
    assert len(ADMIN_ROUTES) >= 9
    assert {"GET", "PUT", "DELETE", "POST"} <= methods


@pytest.mark.parametrize(("method", "path"), ADMIN_ROUTES)
def test_every_admin_route_answers_403_to_a_user(
    stack: Stack, user: Visitor, method: str, path: str
) -> None:
    answer = user.api(method, stack.url + path, {} if method in ("PUT", "POST") else None)
    assert answer.status == 403, (method, path, answer.body)
    assert answer.body["error"]["code"] == "forbidden"


@pytest.mark.parametrize(("method", "path"), ADMIN_ROUTES)
def test_every_admin_route_answers_401_to_nobody(stack: Stack, method: str, path: str) -> None:
    answer = Visitor().api(method, stack.url + path, {} if method in ("PUT", "POST") else None)
    assert answer.status == 401, (method, path, answer.body)


def test_a_state_change_without_the_csrf_token_is_refused(stack: Stack, admin: Visitor) -> None:
    url = stack.url + "/api/admin/flags/csrf-probe"
    missing = admin.api("PUT", url, {"enabled": True}, csrf=False)
    assert (missing.status, missing.body["error"]["code"]) == (403, "csrf_failed")
    wrong = admin.request("PUT", url, {"enabled": True}, headers={"X-CSRF-Token": "guess"})
    assert wrong.status == 403
    other_origin = admin.request(
        "PUT",
        url,
        {"enabled": True},
        headers={"X-CSRF-Token": admin.csrf, "Origin": "http://evil.example"},
    )
    assert (other_origin.status, other_origin.body["error"]["code"]) == (403, "csrf_failed")
    user_side = admin.api("PUT", stack.url + "/api/me/facts/location", {"value": "x"}, csrf=False)
    assert user_side.status == 403
    flags = admin.api("GET", stack.url + "/api/admin/flags").body["flags"]
    assert all(f["name"] != "csrf-probe" for f in flags)  # nothing was written


async def test_a_flag_written_from_the_dashboard_is_in_etcd_and_audited(
    stack: Stack, admin: Visitor
) -> None:
    url = stack.url + "/api/admin/flags/new-greeting"
    created = admin.api("PUT", url, {"enabled": True, "percent": 25, "allow": ["U0CAROL"]})
    assert created.status == 200, created.body
    assert created.body["audited"] is True
    changed = admin.api("PUT", url, {"enabled": False, "percent": 25, "allow": []})
    assert changed.status == 200
    client = make_client(stack.etcd)
    await client.connect()
    try:
        raw = await read_key(client, flag_key("dashtest", "new-greeting"))
        assert raw is not None
        assert json.loads(raw) == {"enabled": False, "percent": 25, "allow": []}
        await write_key(client, flag_key("dashtest", "broken"), "not json")
    finally:
        await client.close()
    listed = {f["name"]: f for f in admin.api("GET", stack.url + "/api/admin/flags").body["flags"]}
    assert listed["new-greeting"]["enabled"] is False
    assert "error" in listed["broken"]
    bad = admin.api("PUT", url, {"enabled": "yes"})
    assert (bad.status, bad.body["error"]["field"]) == (422, "enabled")
    assert admin.api("DELETE", url).status == 200
    assert admin.api("DELETE", url).status == 404

    audit = admin.api("GET", stack.url + "/api/admin/audit?kind=flag.update").body["items"]
    latest = audit[0]
    assert (latest["actor"], latest["target"]) == (ADMIN, "new-greeting")
    assert latest["before"] == {"enabled": True, "percent": 25, "allow": ["U0CAROL"]}
    assert latest["after"] == {"enabled": False, "percent": 25, "allow": []}
    assert audit[1]["before"] is None
    deleted = admin.api("GET", stack.url + "/api/admin/audit?kind=flag.delete").body["items"]
    assert deleted[0]["before"]["enabled"] is False


def test_actions_usage_and_unreachable_services_answer_clearly(
    stack: Stack, admin: Visitor
) -> None:
    actions = admin.api("GET", stack.url + "/api/admin/actions").body
    assert actions["kubernetes"] == "not_configured"
    usage = admin.api("GET", stack.url + "/api/admin/usage")
    assert usage.status == 200
    assert "per_channel" in usage.body
    letters = admin.api("GET", stack.url + "/api/admin/dead-letters").body
    assert letters["dead_letters"] == []
    assert "not configured" in letters["sources"]["dispatcher"]


def test_a_person_edits_deletes_exports_and_forgets_their_facts(
    stack: Stack, user: Visitor
) -> None:
    base = stack.url + "/api/me"
    assert user.api("PUT", base + "/facts/location", {"value": "Porto"}).status == 200
    assert user.api("PUT", base + "/facts/units", {"value": "metric"}).status == 200
    assert user.api("PUT", base + "/facts/location", {"value": "Lisbon"}).body["value"] == "Lisbon"
    facts = {f["key"]: f["value"] for f in user.api("GET", base + "/facts").body["facts"]}
    assert facts == {"location": "Lisbon", "units": "metric"}
    bad = user.api("PUT", base + "/facts/Not%20A%20Key", {"value": "x"})
    assert bad.status == 422
    assert user.api("DELETE", base + "/facts/units").status == 204
    assert user.api("DELETE", base + "/facts/units").status == 404

    export = user.api("GET", base + "/export")
    assert "attachment" in export.headers["content-disposition"]
    assert export.body["user"]["slack_id"] == USER
    assert [f["key"] for f in export.body["facts"]] == ["location"]

    refused = user.api("POST", base + "/forget", {"confirm": "yes"})
    assert refused.status == 422
    assert user.api("POST", base + "/forget", {"confirm": "forget everything"}).body == {
        "forgotten": True
    }
    assert user.api("GET", base + "/facts").body["facts"] == []


def test_the_frontend_is_served_with_security_headers(stack: Stack) -> None:
    page = Visitor().request("GET", stack.url + "/flags")
    assert page.status in (200, 503)  # 503: a page saying `make dashboard` was not run
    assert "<html" in page.body
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert Visitor().request("GET", stack.url + "/api/nothing").status == 404
