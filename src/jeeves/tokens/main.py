"""`jeeves-tokens`: serve the token dealer under Hypercorn, or run one of its tools."""

from __future__ import annotations

import sys

from jeeves.kit.serving import run
from jeeves.kit.settings import load_settings
from jeeves.tokens.app import build_app
from jeeves.tokens.commands import run_command
from jeeves.tokens.settings import TokensSettings


def main() -> None:
    status = run_command(sys.argv[1:])
    if status is not None:
        raise SystemExit(status)
    settings = load_settings(TokensSettings)
    try:
        app = build_app(settings)
    except ValueError as exc:
        print(f"jeeves: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    run(app, settings)
