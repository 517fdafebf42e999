"""Sign in with Slack's browser and discovery endpoints (the Web API methods are in web_api.py).

- `GET /openid/connect/authorize` — the sign-in page: pick who you are (buttons for the
  configured people, or any user id); `POST` the same path signs in and redirects back with
  `code` and `state` (or `error=access_denied` on Cancel). A request the emulator cannot send
  back (unknown client, bad redirect_uri) gets a plain error page, as Slack shows one.
- `GET /openid/connect/keys` (JWKS) and `GET /.well-known/openid-configuration`.
"""

from __future__ import annotations

import html
import re

from quart import Blueprint, Response, jsonify, request

from jeeves.emulators.slack.domain.oidc import AuthorizeError, AuthorizeRequest, SignInWithSlack
from jeeves.emulators.slack.emulator import emulator_of
from jeeves.kit.app import kit

blueprint = Blueprint("slack_oidc", __name__)
OIDC_KEY = "slack_oidc"
PEOPLE_KEY = "slack_oidc_people"
USER_ID = re.compile(r"^[UW][A-Z0-9]{2,30}$")


def oidc_of() -> SignInWithSlack:
    value = kit().extras[OIDC_KEY]
    assert isinstance(value, SignInWithSlack)
    return value


def _people() -> list[str]:
    value = kit().extras.get(PEOPLE_KEY, [])
    return [str(v) for v in value] if isinstance(value, list) else []


@blueprint.get("/.well-known/openid-configuration")
async def configuration() -> Response:
    return jsonify(SignInWithSlack.configuration(emulator_of().public_url))


@blueprint.get("/openid/connect/keys")
async def keys() -> Response:
    return jsonify(oidc_of().jwks())


def _redirect(url: str) -> Response:
    return Response("", status=302, headers={"Location": url})


def _error_page(error: AuthorizeError) -> Response:
    body = (
        "<!doctype html><html lang='en'><meta charset='utf-8'><title>Sign in failed</title>"
        f"<main><h1>Sign in with Slack failed</h1><p>{html.escape(error.message)}</p>"
        f"<p><code>{html.escape(error.error)}</code></p></main></html>"
    )
    return Response(body, status=400, content_type="text/html; charset=utf-8")


def _checked(params: dict[str, str]) -> AuthorizeRequest | Response:
    try:
        return oidc_of().check_authorize(params)
    except AuthorizeError as exc:
        if exc.redirectable:
            uri, state = params.get("redirect_uri", ""), params.get("state", "")
            return _redirect(SignInWithSlack.deny(uri, state, exc.error))
        return _error_page(exc)


@blueprint.get("/openid/connect/authorize")
async def authorize_page() -> Response:
    checked = _checked(dict(request.args))
    if isinstance(checked, Response):
        return checked
    return Response(_page(checked, _people()), content_type="text/html; charset=utf-8")


@blueprint.post("/openid/connect/authorize")
async def authorize() -> Response:
    form = (await request.form).to_dict()
    checked = _checked(form)
    if isinstance(checked, Response):
        return checked
    if form.get("decision") == "cancel":
        return _redirect(SignInWithSlack.deny(checked.redirect_uri, checked.state))
    user = (form.get("user") or form.get("other_user") or "").strip().upper()
    if not USER_ID.match(user):
        return Response(
            _page(checked, _people(), "Enter a Slack user id such as U0ALICE."),
            status=422,
            content_type="text/html; charset=utf-8",
        )
    return _redirect(oidc_of().approve(checked, user))


def _page(req: AuthorizeRequest, people: list[str], problem: str = "") -> str:
    hidden = "".join(
        f"<input type='hidden' name='{html.escape(k)}' value='{html.escape(v)}'>"
        for k, v in req.as_params().items()
    )
    buttons = "".join(
        f"<li><button name='user' value='{html.escape(p)}'>Continue as "
        f"<b>{html.escape(p.removeprefix('U0').title())}</b> <small>{html.escape(p)}</small>"
        "</button></li>"
        for p in people
    )
    alert = f"<p role='alert' class='problem'>{html.escape(problem)}</p>" if problem else ""
    team = html.escape(oidc_of().identity.team_domain)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in with Slack (emulator)</title>
<style>
body {{ font: 16px system-ui, sans-serif; background: #f4ede4; color: #1d1c1d; margin: 0; }}
main {{ max-width: 26rem; margin: 3rem auto; background: #fff; padding: 1.5rem 2rem;
        border-radius: 8px; box-shadow: 0 1px 4px #0003; }}
h1 {{ font-size: 1.4rem; }} ul {{ list-style: none; padding: 0; }}
button {{ font: inherit; width: 100%; padding: .7rem; margin: .3rem 0; border-radius: 6px;
          border: 1px solid #4a154b; background: #4a154b; color: #fff; cursor: pointer; }}
button.secondary {{ background: #fff; color: #4a154b; }}
button:focus-visible, input:focus-visible {{ outline: 3px solid #1264a3; outline-offset: 2px; }}
input {{ font: inherit; padding: .6rem; width: 100%; box-sizing: border-box; }}
.problem {{ color: #a4000f; }} small {{ opacity: .85; }}
</style></head>
<body><main>
<h1>Sign in to <span>{team}</span></h1>
<p>The Slack emulator stands in for Slack: choose who you are.</p>
{alert}
<form method="post" action="/openid/connect/authorize" aria-label="People">{hidden}
<ul>{buttons}</ul></form>
<form method="post" action="/openid/connect/authorize" aria-label="Another person">{hidden}
<label for="other_user">Or another Slack user id</label>
<input id="other_user" name="other_user" placeholder="U0SOMEONE" autocomplete="off">
<button type="submit" name="decision" value="other">Continue</button>
</form>
<form method="post" action="/openid/connect/authorize">{hidden}
<button type="submit" name="decision" value="cancel" class="secondary">Cancel</button>
</form></main></body></html>"""
