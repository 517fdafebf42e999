"""The admin API (`/api/admin/…`): usage, actions, feature flags, dead letters, audit log.

Every route needs an admin session (and, when it changes something, the CSRF token); every
change is written to the audit log in the data service with its before and after.

- `GET  /usage?from&to`                       the data service's usage statistics
- `GET  /actions`                             the live registry in etcd (+ JeevesAction status)
- `GET  /flags`, `PUT|DELETE /flags/<name>`   flags in etcd (version-guarded writes)
- `GET  /dead-letters`                        the dispatcher's and the poster's
- `POST /dead-letters/<service>/<id>/replay`, `POST /dead-letters/replay-all`
- `GET  /audit?cursor&kind&actor`             the audit log
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from quart import Blueprint, Response, jsonify, request
from quart import current_app as app

from jeeves.dashboard.backends import etcd_call, kube_status
from jeeves.dashboard.domain.edits import EditRefused, check_flag_name, flag_from_body
from jeeves.dashboard.routes.common import parts, record_audit, require_admin
from jeeves.kit.actions import ActionSpec
from jeeves.kit.errors import APIError
from jeeves.kit.etcd import (
    ACTIONS,
    FLAGS,
    ConflictError,
    delete_key,
    env_prefix,
    flag_key,
    read_key,
    read_prefix,
    update_key,
)
from jeeves.kit.flags import FlagSpec

blueprint = Blueprint("admin", __name__, url_prefix="/api/admin")
blueprint.before_request(require_admin)
DEAD_LETTER_SERVICES = ("dispatcher", "poster")
DEAD_LETTER_LIMIT = 200


def _query(*names: str) -> str:
    given = {n: request.args[n] for n in names if request.args.get(n)}
    return "?" + urlencode(given) if given else ""


@blueprint.get("/usage")
async def usage() -> Response:
    answer = await parts().services.call("data", "GET", "/v1/stats/usage" + _query("from", "to"))
    return jsonify(answer.body)


def _action_json(name: str, raw: bytes) -> dict[str, Any]:
    try:
        spec = ActionSpec.from_json(name, raw)
    except (ValueError, TypeError) as exc:
        return {"name": name, "error": str(exc)}
    return {"name": name, **json.loads(spec.to_json())}


@blueprint.get("/actions")
async def actions() -> Response:
    settings = parts().settings
    prefix = env_prefix(settings.env) + ACTIONS
    snapshot = await etcd_call("actions", lambda: read_prefix(parts().etcd.client(), prefix))
    state, statuses = await kube_status(app, settings)
    items = []
    for name, raw in sorted(snapshot.values.items()):
        item = _action_json(name, raw)
        if state == "ok":
            item["kubernetes"] = statuses.get(name)
        items.append(item)
    return jsonify({"actions": items, "kubernetes": state, "revision": snapshot.revision})


def _flag_json(name: str, raw: bytes) -> dict[str, Any]:
    try:
        return {"name": name, **FlagSpec.from_json(name, raw).to_dict()}
    except (ValueError, TypeError) as exc:
        return {"name": name, "error": str(exc)}


@blueprint.get("/flags")
async def flags() -> Response:
    prefix = env_prefix(parts().settings.env) + FLAGS
    snapshot = await etcd_call("flags", lambda: read_prefix(parts().etcd.client(), prefix))
    items = [_flag_json(name, raw) for name, raw in sorted(snapshot.values.items())]
    return jsonify({"flags": items, "revision": snapshot.revision})


def _refused(exc: EditRefused) -> APIError:
    return APIError(422, "validation_failed", str(exc), field=exc.field)


@blueprint.put("/flags/<name>")
async def put_flag(name: str) -> Response:
    try:
        spec = flag_from_body(name, await request.get_json(force=True, silent=True))
    except EditRefused as exc:
        raise _refused(exc) from None
    key = flag_key(parts().settings.env, name)
    before: dict[str, Any] = {}

    def change(current: bytes | None) -> str:
        before.clear()
        if current is not None:
            before.update(_flag_json(name, current))
            before.pop("name", None)
        return spec.to_json()

    try:
        await etcd_call("flags", lambda: update_key(parts().etcd.client(), key, change))
    except ConflictError as exc:
        raise APIError(409, "conflict", str(exc)) from None
    after = spec.to_dict()
    audited = await record_audit("flag.update", name, before or None, after)
    return jsonify({"name": name, **after, "audited": audited})


@blueprint.delete("/flags/<name>")
async def delete_flag(name: str) -> Response:
    try:
        check_flag_name(name)
    except EditRefused as exc:
        raise _refused(exc) from None
    client, key = parts().etcd.client(), flag_key(parts().settings.env, name)
    raw = await etcd_call("flags", lambda: read_key(client, key))
    if raw is None or not await etcd_call("flags", lambda: delete_key(client, key)):
        raise APIError(404, "not_found", f"there is no flag {name}")
    before = _flag_json(name, raw)
    before.pop("name", None)
    audited = await record_audit("flag.delete", name, before, None)
    return jsonify({"deleted": name, "audited": audited})


async def _dead_letters(service: str) -> list[dict[str, Any]]:
    answer = await parts().services.call(
        service, "GET", f"/v1/dead-letters?limit={DEAD_LETTER_LIMIT}"
    )
    letters = answer.body.get("dead_letters", []) if isinstance(answer.body, dict) else []
    return [{"service": service, **letter} for letter in letters if isinstance(letter, dict)]


@blueprint.get("/dead-letters")
async def dead_letters() -> Response:
    found: list[dict[str, Any]] = []
    sources: dict[str, str] = {}
    for service in DEAD_LETTER_SERVICES:
        try:
            found += await _dead_letters(service)
            sources[service] = "ok"
        except APIError as exc:
            sources[service] = exc.message
    found.sort(key=lambda d: str(d.get("failed_at", "")), reverse=True)
    return jsonify({"dead_letters": found, "sources": sources})


def _service(service: str) -> str:
    if service not in DEAD_LETTER_SERVICES:
        raise APIError(404, "not_found", f"no dead letters are kept by {service!r}")
    return service


async def _replay(service: str, job_id: int) -> str:
    """`replayed`, or `gone` when it is no longer a dead letter (replayed by someone else)."""
    try:
        await parts().services.call(service, "POST", f"/v1/dead-letters/{job_id}/replay")
    except APIError as exc:
        if exc.status == 404:
            return "gone"
        raise
    return "replayed"


@blueprint.post("/dead-letters/<service>/<int:job_id>/replay")
async def replay(service: str, job_id: int) -> Response:
    outcome = await _replay(_service(service), job_id)
    if outcome == "gone":
        raise APIError(404, "not_found", f"{service} has no dead letter {job_id} (any more)")
    audited = await record_audit(
        "dead_letter.replay", f"{service}/{job_id}", {"state": "dead"}, {"state": "queued"}
    )
    return jsonify({"service": service, "id": job_id, "outcome": outcome, "audited": audited})


@blueprint.post("/dead-letters/replay-all")
async def replay_all() -> Response:
    results: list[dict[str, Any]] = []
    for service in DEAD_LETTER_SERVICES:
        if not parts().services.configured(service):
            continue
        for letter in await _dead_letters(service):
            try:
                outcome = await _replay(service, int(letter["id"]))
            except APIError as exc:
                outcome = f"failed: {exc.message}"
            results.append({"service": service, "id": letter["id"], "outcome": outcome})
    replayed = [f"{r['service']}/{r['id']}" for r in results if r["outcome"] == "replayed"]
    audited = await record_audit(
        "dead_letter.replay_all",
        "dead-letters",
        {"dead": len(results)},
        {"queued": len(replayed)},
        {"replayed": replayed},
    )
    return jsonify({"results": results, "audited": audited})


@blueprint.get("/audit")
async def audit() -> Response:
    query = _query(
        "cursor", "kind", "actor", "target", "outcome", "channel", "since", "until", "limit"
    )
    answer = await parts().services.call("data", "GET", "/v1/audit" + query)
    return jsonify(answer.body)
