"""Helpers for the data service tests: run `jeeves-data` commands, the test encryption key.

Real: the `jeeves-data` entry point as a subprocess. Nothing is faked.
"""

from __future__ import annotations

import os
import subprocess

from cryptography.fernet import Fernet

from support.services import ServiceProcess, entry_point

ENCRYPTION_KEY = Fernet.generate_key().decode()


def jeeves_data(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    """Run a `jeeves-data` management command to completion."""
    return subprocess.run(
        [*entry_point("jeeves-data"), *args],
        env={**os.environ, "JEEVES_DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def start_data_service(database_url: str, env: dict[str, str] | None = None) -> ServiceProcess:
    """Migrate `database_url` and start `jeeves-data` on it (the caller closes it); `env` adds
    settings (e.g. `JEEVES_TOKENS_URL` to turn authentication on)."""
    done = jeeves_data("migrate", database_url=database_url)
    assert done.returncode == 0, done.stderr
    service = ServiceProcess(
        "jeeves-data",
        {
            "JEEVES_DATABASE_URL": database_url,
            "JEEVES_DATA_ENCRYPTION_KEY": ENCRYPTION_KEY,
            **(env or {}),
        },
    )
    try:
        service.start()
    except BaseException:
        service.close()
        raise
    return service
