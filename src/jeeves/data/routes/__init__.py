"""The data service's REST API under /v1, one blueprint per area."""

from __future__ import annotations

from quart import Blueprint

from jeeves.data.routes.activity import blueprint as activity
from jeeves.data.routes.audit import blueprint as audit
from jeeves.data.routes.connections import blueprint as connections
from jeeves.data.routes.facts import blueprint as facts
from jeeves.data.routes.installations import blueprint as installations
from jeeves.data.routes.oauth_states import blueprint as oauth_states
from jeeves.data.routes.revocations import blueprint as revocations
from jeeves.data.routes.subscriptions import blueprint as subscriptions
from jeeves.data.routes.users import blueprint as users


def blueprints() -> list[Blueprint]:
    return [
        users,
        facts,
        connections,
        activity,
        audit,
        subscriptions,
        installations,
        oauth_states,
        revocations,
    ]
