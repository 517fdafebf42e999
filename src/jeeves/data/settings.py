"""Settings of the data service (`JEEVES_*`)."""

from __future__ import annotations

from pydantic import Field, SecretStr

from jeeves.kit.auth import AuthSettings


class DataSettings(AuthSettings):
    # PostgreSQL holding users, facts, connections and activity (the schema this service owns).
    database_url: str
    # Fernet key(s) encrypting third-party tokens at rest; comma-separated, newest first, so a
    # key can be rotated (old keys still decrypt). Make one with `jeeves-data genkey`.
    data_encryption_key: SecretStr
    # Connections for reads (asyncpg pool); writes get a SQLAlchemy pool half this size.
    database_pool_size: int = Field(default=10, gt=0, le=100)
    # Days the audit log keeps a record (action runs, admin changes); older ones are deleted
    # by the service itself. 0 keeps them forever.
    audit_retention_days: int = Field(default=365, ge=0, le=36500)
    # Seconds between two purges of expired audit records.
    audit_purge_interval_s: float = Field(default=3600.0, ge=1.0, le=86400.0)
