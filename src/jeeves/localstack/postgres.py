"""A real PostgreSQL 15 server on a random loopback port, run as the `postgres` user when root.

`initdb` and `postgres` refuse to run as root, so as root every server command is wrapped in
`runuser -u postgres --` and the data directory is handed to that user.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from jeeves.localstack.ports import free_port, port_open, wait_until

PG_BIN_CANDIDATES = ("/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin")


def pg_bin_dir() -> Path:
    """The directory holding initdb/pg_ctl; fails loudly when PostgreSQL is not installed."""
    for candidate in PG_BIN_CANDIDATES:
        if Path(candidate, "initdb").exists():
            return Path(candidate)
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    raise RuntimeError("PostgreSQL server binaries not found: run `make setup`")


def reachable_by_server_user(path: Path) -> bool:
    """Whether the `postgres` user can reach `path` (as root, a private parent blocks it)."""
    if os.geteuid() != 0:
        return True
    probe = path if path.exists() else path.parent
    while not probe.exists():
        probe = probe.parent
    result = subprocess.run(
        ["runuser", "-u", "postgres", "--", "test", "-x", str(probe)], check=False
    )
    return result.returncode == 0


def _as_postgres(argv: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *argv]
    return argv


class PostgresServer:
    """One throwaway PostgreSQL cluster; `stop()`/`start()` simulate an outage."""

    def __init__(
        self, base_dir: Path | None = None, port: int | None = None, *, durable: bool = False
    ) -> None:
        self.bin = pg_bin_dir()
        self._own_dir = base_dir is None
        self.base = base_dir or Path(tempfile.mkdtemp(prefix="jeeves-pg-"))
        self.data = self.base / "data"
        self.port = port or free_port()
        self.user = "postgres"
        self.database = "postgres"
        # Tests run with asynchronous commits (fast); a `durable` server acknowledges a commit
        # only once its WAL is written, so a crash (`stop("immediate")`, SIGKILL) loses no
        # committed transaction — as in production. fsync stays off: the OS keeps what was
        # written when only the server process dies.
        self.durable = durable

    @property
    def dsn(self) -> str:
        """asyncpg/libpq URL for the superuser database."""
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{self.database}"

    def url_for(self, database: str) -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{database}"

    def _prepare(self) -> None:
        self.base.mkdir(parents=True, exist_ok=True)
        if not reachable_by_server_user(self.base.parent):
            raise RuntimeError(
                f"the postgres user cannot reach {self.base} (a parent directory is private); "
                "choose a data directory under a world-traversable path"
            )
        if os.geteuid() == 0:
            shutil.chown(self.base, "postgres", "postgres")
            self.base.chmod(0o755)
        if not (self.data / "PG_VERSION").exists():
            subprocess.run(
                _as_postgres(
                    [
                        str(self.bin / "initdb"),
                        "-D",
                        str(self.data),
                        "-U",
                        "postgres",
                        "--auth=trust",
                        "--no-sync",
                        "-E",
                        "UTF8",
                        "--locale=C",
                    ]
                ),
                check=True,
                capture_output=True,
            )

    def start(self) -> None:
        self._prepare()
        commit = "on" if self.durable else "off"
        options = (
            f"-p {self.port} -h 127.0.0.1 -k {self.base} -c fsync=off "
            f"-c synchronous_commit={commit} -c full_page_writes=off -c max_connections=200"
        )
        subprocess.run(
            _as_postgres(
                [
                    str(self.bin / "pg_ctl"),
                    "-D",
                    str(self.data),
                    "-o",
                    options,
                    "-l",
                    str(self.base / "server.log"),
                    "-w",
                    "-t",
                    "60",
                    "start",
                ]
            ),
            check=True,
            capture_output=True,
        )
        wait_until(
            lambda: port_open(self.port), timeout=30, what="PostgreSQL to accept connections"
        )

    def stop(self, mode: str = "fast") -> None:
        subprocess.run(
            _as_postgres(
                [str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop"]
            ),
            check=False,
            capture_output=True,
        )

    def create_database(self, name: str) -> str:
        """Create database `name` (idempotently) and return its URL."""
        if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
            raise ValueError(f"database name {name!r} must be a lowercase identifier")
        psql = [str(self.bin / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres"]
        exists = subprocess.run(
            [*psql, "-tAc", f"SELECT 1 FROM pg_database WHERE datname = '{name}'"],  # noqa: S608
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        if exists != "1":
            subprocess.run(
                [*psql, "-c", f'CREATE DATABASE "{name}"'], check=True, capture_output=True
            )
        return self.url_for(name)

    def close(self) -> None:
        self.stop("immediate")
        if self._own_dir:
            shutil.rmtree(self.base, ignore_errors=True)
