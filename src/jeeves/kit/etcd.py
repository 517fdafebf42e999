"""etcd access shared by services: endpoint parsing and the reachability check for `/readyz`.

(The live registry, watch and flags build on this module.)
"""

from __future__ import annotations

from quart import Quart

from jeeves.kit.app import kit


def parse_endpoints(value: str) -> list[tuple[str, int]]:
    """`"h1:2379,h2:2379"` → [("h1", 2379), ("h2", 2379)]; `http://` prefixes accepted."""
    endpoints: list[tuple[str, int]] = []
    for raw in value.split(","):
        item = raw.strip().removeprefix("http://").removeprefix("https://").rstrip("/")
        if not item:
            continue
        host, sep, port = item.rpartition(":")
        if not sep or not port.isdigit():
            raise ValueError(f"etcd endpoint {item!r} must be host:port")
        endpoints.append((host, int(port)))
    if not endpoints:
        raise ValueError("no etcd endpoint given")
    return endpoints


def install_etcd_check(app: Quart, endpoints: str) -> None:
    """Add an `etcd` readiness check that asks the first reachable endpoint's /health."""
    parsed = parse_endpoints(endpoints)

    async def _check() -> str | None:
        errors: list[str] = []
        for host, port in parsed:
            try:
                response = await kit(app).http.request(
                    "GET", f"http://{host}:{port}/health", timeout_s=1.0, idempotent=False
                )
            except Exception as exc:
                errors.append(f"{host}:{port} {type(exc).__name__}")
                continue
            if response.status == 200:
                return f"{host}:{port} healthy"
            errors.append(f"{host}:{port} status {response.status}")
        raise ConnectionError("; ".join(errors))

    kit(app).readiness.add("etcd", _check)
