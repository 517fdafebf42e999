"""`python -m jeeves.monitoring [--check]`: write every generated monitoring file, or with
`--check` fail (exit 1) naming each file that differs from what the code generates."""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Callable
from pathlib import Path

from jeeves.monitoring import dashboards, scrape, slo
from jeeves.monitoring.files import DASHBOARDS_DIR, EXAMPLES_DIR, RULES_DIR


def generated() -> dict[Path, Callable[[], str]]:
    """Every generated file and the function producing its text."""
    files: dict[Path, Callable[[], str]] = {RULES_DIR / "jeeves-slo.rules.yml": slo.render}
    for name in dashboards.DASHBOARDS:
        files[DASHBOARDS_DIR / name] = functools.partial(dashboards.render, name)
    files[EXAMPLES_DIR / "prometheus-scrape-configs.yml"] = scrape.render_scrape_example
    files[EXAMPLES_DIR / "alertmanager.yml"] = scrape.render_alertmanager_example
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m jeeves.monitoring", description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail on drift, write nothing")
    args = parser.parse_args(argv)
    drifted = []
    for path, produce in generated().items():
        text = produce()
        current = path.read_text() if path.exists() else None
        if current == text:
            print(f"up to date: {path}")
        elif args.check:
            drifted.append(path)
            print(f"DRIFT: {path} differs from what the code generates", file=sys.stderr)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            print(f"wrote: {path}")
    if drifted:
        print("run `make monitoring-generate` and commit the result", file=sys.stderr)
    return 1 if drifted else 0


if __name__ == "__main__":
    sys.exit(main())
