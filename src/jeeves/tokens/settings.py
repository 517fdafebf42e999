"""Settings of the token dealer (`JEEVES_*`)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator

from jeeves.kit.settings import ServiceSettings


class TokensSettings(ServiceSettings):
    # Directory of signing keys: <kid>.pem (PKCS#8 private key) + <kid>.json (activation time);
    # a mounted Secret works. Create keys with `jeeves-tokens genkey --dir <dir>`.
    tokens_keys_dir: Path
    # Path of the client registry (JSON, see docs/security.md); re-read while running.
    tokens_clients_file: Path | None = None
    # The client registry inline, as JSON (used when no file is given).
    tokens_clients: str = ""
    # `iss` of every token; verifiers expect the same value in JEEVES_AUTH_ISSUER.
    auth_issuer: str = Field(default="jeeves-tokens", min_length=1)
    # Lifetime of an access token in seconds.
    tokens_ttl_s: int = Field(default=900, ge=1, le=3600)
    # Extra seconds a replaced key stays published after its last token expired (clock skew).
    tokens_retire_grace_s: float = Field(default=60.0, ge=0)
    # How often the keys directory and the clients file are re-read, in seconds.
    tokens_reload_s: float = Field(default=5.0, gt=0)
    # Wrong secrets a client id may send before lockouts start.
    tokens_lockout_free_failures: int = Field(default=5, ge=0)
    # First lockout in seconds; it doubles with every further failure.
    tokens_lockout_base_s: float = Field(default=1.0, gt=0)
    # Longest lockout in seconds.
    tokens_lockout_max_s: float = Field(default=300.0, gt=0)

    @model_validator(mode="after")
    def _one_client_source(self) -> TokensSettings:
        if self.tokens_clients_file is None and not self.tokens_clients.strip():
            raise ValueError("set JEEVES_TOKENS_CLIENTS_FILE or JEEVES_TOKENS_CLIENTS")
        return self
