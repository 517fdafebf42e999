"""Driving the dashboard in tests: start `jeeves-dashboard`, and `Visitor`, a browser played
over plain HTTP (cookies kept, Secure ones too since everything is on loopback; redirects
followed only when the test says so), that signs in through the Slack emulator's OpenID pages.

Real: the `jeeves-dashboard` and `jeeves-slack-emulator` processes. Nothing is faked.
"""

from __future__ import annotations

import http.client
import json
import re
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

from support.services import ServiceProcess, migrate

OIDC_CLIENT_ID = "1000000001.2000000002"
OIDC_CLIENT_SECRET = "test-oidc-client-secret"
ADMIN = "U0ALICE"
USER = "U0BOB"
EMULATOR_OIDC_ENV = {
    "JEEVES_EMULATOR_OIDC_CLIENT_ID": OIDC_CLIENT_ID,
    "JEEVES_EMULATOR_OIDC_CLIENT_SECRET": OIDC_CLIENT_SECRET,
}


def start_dashboard(
    database_url: str, emulator_url: str, env: dict[str, str] | None = None
) -> ServiceProcess:
    """Migrate the session tables and start the dashboard (the caller closes it)."""
    migrate("jeeves-dashboard", database_url)
    process = ServiceProcess("jeeves-dashboard", {}, probe="/healthz")
    process.env.update(
        {
            "JEEVES_DATABASE_URL": database_url,
            "JEEVES_PUBLIC_URL": f"http://localhost:{process.port}",
            "JEEVES_SLACK_CLIENT_ID": OIDC_CLIENT_ID,
            "JEEVES_SLACK_CLIENT_SECRET": OIDC_CLIENT_SECRET,
            "JEEVES_SLACK_API_URL": emulator_url + "/api/",
            "JEEVES_SLACK_OIDC_URL": emulator_url + "/openid/connect",
            "JEEVES_DASHBOARD_ADMINS": ADMIN,
            "JEEVES_LOG_LEVEL": "info",
            **(env or {}),
        }
    )
    try:
        return process.start()
    except BaseException:
        process.close()
        raise


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: Any
    cookies_set: dict[str, str] = field(default_factory=dict)

    @property
    def location(self) -> str:
        return self.headers.get("location", "")


@dataclass
class Visitor:
    """One browser: its cookies (by name), the CSRF token once signed in."""

    cookies: dict[str, str] = field(default_factory=dict)
    csrf: str = ""

    def request(
        self,
        method: str,
        url: str,
        body: Any = None,
        *,
        form: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        parts = urllib.parse.urlsplit(url)
        sent = dict(headers or {})
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        data: bytes | None = None
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            data = json.dumps(body).encode()
            sent["Content-Type"] = "application/json"
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=15)
        try:
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            connection.request(method, path or "/", body=data, headers=sent)
            response = connection.getresponse()
            raw = response.read()
            headers_out = {k.lower(): v for k, v in response.getheaders()}
            set_cookies = response.headers.get_all("Set-Cookie") or []
        finally:
            connection.close()
        changed: dict[str, str] = {}
        for line in set_cookies:
            name, _, rest = line.partition("=")
            value = rest.split(";", 1)[0]
            expired = re.search(r"(?i)max-age=0|expires=thu, 01 jan 1970", line)
            changed[name] = "" if expired else value
            if expired or not value:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        try:
            decoded: Any = json.loads(raw) if raw else None
        except ValueError:
            decoded = raw.decode(errors="replace")
        return Answer(response.status, headers_out, decoded, changed)

    def start_sign_in(self, dashboard: str) -> str:
        """GET /auth/login; returns the emulator's authorize URL it redirects to."""
        answer = self.request("GET", dashboard + "/auth/login")
        assert answer.status == 302, answer
        return answer.location

    def approve(self, authorize_url: str, user: str) -> str:
        """Sign in at the emulator as `user`; returns the callback URL it redirects to."""
        parts = urllib.parse.urlsplit(authorize_url)
        params = dict(urllib.parse.parse_qsl(parts.query))
        page = self.request("GET", authorize_url)
        assert page.status == 200, page
        base = f"{parts.scheme}://{parts.netloc}{parts.path}"
        answer = self.request("POST", base, form={**params, "user": user})
        assert answer.status == 302, answer
        return answer.location

    def finish(self, callback_url: str) -> Answer:
        return self.request("GET", callback_url)

    def sign_in(self, dashboard: str, user: str) -> Answer:
        """The whole flow; loads the CSRF token from /api/session when it worked."""
        done = self.finish(self.approve(self.start_sign_in(dashboard), user))
        if done.location == "/":
            session = self.request("GET", dashboard + "/api/session")
            assert session.status == 200, session
            self.csrf = session.body["csrf_token"]
        return done

    def api(self, method: str, url: str, body: Any = None, *, csrf: bool = True) -> Answer:
        headers = {"X-CSRF-Token": self.csrf} if csrf and self.csrf else {}
        return self.request(method, url, body, headers=headers)
