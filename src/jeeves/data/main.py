"""`jeeves-data`: serve the data service, or manage its schema.

jeeves-data                   serve under Hypercorn on JEEVES_BIND
jeeves-data migrate [REV]     upgrade the schema to REV (default: head)
jeeves-data downgrade REV     downgrade the schema to REV (e.g. -1)
jeeves-data genkey            print a new key for JEEVES_DATA_ENCRYPTION_KEY
"""

from __future__ import annotations

import argparse
import os
import sys

from jeeves.data.app import build_app
from jeeves.data.crypto import generate_key
from jeeves.data.migrating import downgrade, upgrade
from jeeves.data.settings import DataSettings
from jeeves.kit.serving import run
from jeeves.kit.settings import load_settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="jeeves-data", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command")
    migrate = commands.add_parser("migrate", help="upgrade the schema (default: to head)")
    migrate.add_argument("revision", nargs="?", default="head")
    down = commands.add_parser("downgrade", help="downgrade the schema to a revision")
    down.add_argument("revision")
    commands.add_parser("genkey", help="print a new Fernet key")
    return parser


def _database_url() -> str:
    url = os.environ.get("JEEVES_DATABASE_URL", "")
    if not url:
        print("jeeves: setting JEEVES_DATABASE_URL is required but not set", file=sys.stderr)
        raise SystemExit(2)
    return url


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    if args.command == "genkey":
        print(generate_key())
    elif args.command == "migrate":
        upgrade(_database_url(), args.revision)
    elif args.command == "downgrade":
        downgrade(_database_url(), args.revision)
    else:
        settings = load_settings(DataSettings)
        run(build_app(settings), settings)
