"""Wait until PostgreSQL accepts a login at $JEEVES_DATABASE_URL, at most $WAIT_TIMEOUT_S seconds.

Run by each migration Job before `jeeves-<X> migrate` (python3 -c, from the service's own
image). Retries while the server is unreachable or starting; stops at once, with a line saying
why, on a wrong password or a missing database. Never prints the password.
"""

import asyncio
import os
import sys
import time
import urllib.parse

import asyncpg

from jeeves.kit.db import asyncpg_dsn

FATAL = (
    asyncpg.InvalidPasswordError,
    asyncpg.InvalidAuthorizationSpecificationError,
    asyncpg.InvalidCatalogNameError,
)


async def attempt(dsn: str) -> None:
    conn = await asyncpg.connect(dsn, timeout=5)
    await conn.close()


def main() -> int:
    dsn = asyncpg_dsn(os.environ["JEEVES_DATABASE_URL"])
    limit = float(os.environ.get("WAIT_TIMEOUT_S", "300"))
    parts = urllib.parse.urlsplit(dsn)
    where = f"{parts.hostname}:{parts.port or 5432}{parts.path}"
    deadline = time.monotonic() + limit
    print(f"waiting up to {limit:g}s for PostgreSQL at {where}", flush=True)
    while True:
        try:
            asyncio.run(attempt(dsn))
        except FATAL as exc:
            print(f"jeeves: PostgreSQL at {where} refused the login: {exc}", file=sys.stderr)
            return 1
        except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
            if time.monotonic() >= deadline:
                print(
                    f"jeeves: PostgreSQL at {where} not reachable after {limit:g}s "
                    f"({type(exc).__name__}: {exc}); check database.url / jeeves-postgres",
                    file=sys.stderr,
                )
                return 1
            time.sleep(2)
        else:
            print(f"PostgreSQL at {where} accepts logins", flush=True)
            return 0


if __name__ == "__main__":
    sys.exit(main())
