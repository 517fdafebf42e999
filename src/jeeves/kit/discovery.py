"""Service discovery for platform services: etcd first, then `JEEVES_<SERVICE>_URL`.

`service_url(app, "poster")` answers the URL stored at `/jeeves/<env>/services/poster/url` in
the app's live configuration (when `install_config` was called), else the setting
`<service>_url` of the app's settings object, else the environment variable
`JEEVES_<SERVICE>_URL` (local runs without etcd). Read per call, so a change in etcd applies
to the next request.
"""

from __future__ import annotations

import os

from quart import Quart

from jeeves.kit.app import Kit, kit
from jeeves.kit.config_watch import ConfigWatch
from jeeves.kit.etcd import SERVICES


class ServiceNotFound(LookupError):
    """No URL is known for a service, neither in etcd nor in the environment."""


def valid_url(raw: str) -> str | None:
    """`raw` stripped, without a trailing slash, when it is an http(s) URL; else None."""
    value = raw.strip().rstrip("/")
    return value if value.startswith(("http://", "https://")) and len(value) > 8 else None


def env_variable(service: str) -> str:
    return f"JEEVES_{service.upper().replace('-', '_')}_URL"


def discovered_url(watch: ConfigWatch | None, service: str) -> str | None:
    """The URL etcd holds for `service`, when there is a valid one."""
    raw = watch.get(f"{SERVICES}{service}/url") if watch is not None else None
    if raw is None:
        return None
    try:
        return valid_url(raw.decode())
    except UnicodeDecodeError:
        return None


def service_url(app_or_kit: Quart | Kit, service: str) -> str:
    """Base URL of platform `service` (no trailing slash); raises ServiceNotFound."""
    the_kit = app_or_kit if isinstance(app_or_kit, Kit) else kit(app_or_kit)
    watch = the_kit.extras.get("config_watch")
    found = discovered_url(watch if isinstance(watch, ConfigWatch) else None, service)
    if found:
        return found
    setting = getattr(the_kit.settings, f"{service.replace('-', '_')}_url", None)
    fallback = (
        setting
        if isinstance(setting, str) and setting
        else os.environ.get(env_variable(service), "")
    )
    found = valid_url(fallback)
    if found:
        return found
    raise ServiceNotFound(
        f"no URL for service {service!r}: "
        f"set {SERVICES}{service}/url in etcd or {env_variable(service)}"
    )
