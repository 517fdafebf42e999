"""The token dealer's own Prometheus metrics (labels bounded: client ids come from the registry)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge


class TokensMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.issued = Counter(
            "jeeves_tokens_issued_total", "Access tokens issued", ["client"], registry=registry
        )
        self.refused = Counter(
            "jeeves_tokens_refused_total",
            "Token requests refused, by OAuth error code",
            ["error"],
            registry=registry,
        )
        self.published_keys = Gauge(
            "jeeves_tokens_published_keys", "Keys in the JWKS", registry=registry
        )
        self.signing_key_age = Gauge(
            "jeeves_tokens_signing_key_age_seconds",
            "Seconds since the current signing key started signing",
            registry=registry,
        )
        self.reload_problems = Gauge(
            "jeeves_tokens_reload_problems",
            "Key files or client entries skipped at the last reload",
            registry=registry,
        )
