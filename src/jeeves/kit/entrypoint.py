"""Console entry points: `jeeves-<name>` serves, `jeeves-<name> migrate` installs its schema.

Every deployable's `main()` is one call to `service_main`, so usage errors, exit codes and the
`migrate` subcommand look the same everywhere.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable

from jeeves.kit.settings import EXIT_BAD_SETTINGS


def service_main(
    prog: str,
    argv: list[str] | None,
    *,
    serve: Callable[[], None],
    migrate: Callable[[], Iterable[str]] | None = None,
) -> None:
    """Run `serve()`, or `migrate()` for `prog migrate` (printing what it did)."""
    args = sys.argv[1:] if argv is None else argv
    if migrate is not None and args == ["migrate"]:
        for line in migrate():
            print(f"{prog} migrate: {line}")
        return
    if args:
        print(f"usage: {prog}{' [migrate]' if migrate else ''}", file=sys.stderr)
        raise SystemExit(EXIT_BAD_SETTINGS)
    serve()
