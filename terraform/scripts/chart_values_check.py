"""Check the values modules/chart-values computes against the charts themselves.

Plans terraform/modules/chart-values/render (dev, prod and external-etcd scenarios; no provider
needed), then for each scenario and each chart (charts/jeeves, charts/jeeves-operator):
merges the values over the chart's values.yaml as Helm does and validates the result against
the chart's values.schema.json (both charts forbid unknown keys, so a renamed key fails here),
then renders the chart with them through `scripts/helm template`. Prints one line per check.

    python terraform/scripts/chart_values_check.py [--charts DIR] [--helm PATH]

A missing chart directory is reported and counted as a failure.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import yaml

REPO = Path(__file__).resolve().parents[2]
RENDER = REPO / "terraform/modules/chart-values/render"
CHARTS = {"platform": "jeeves", "operator": "jeeves-operator"}


def merged(base: Any, override: Any) -> Any:
    """Helm's coalescing of user values over chart defaults: maps merge, anything else replaces."""
    if isinstance(base, dict) and isinstance(override, dict):
        out = dict(base)
        for key, value in override.items():
            out[key] = merged(base.get(key), value) if key in base else value
        return out
    return override


def scenarios(data_dir: Path) -> dict[str, dict[str, Any]]:
    """The `scenarios` output of the render root, from a plan (nothing is applied)."""
    env = {**os.environ, "TF_DATA_DIR": str(data_dir), "TF_IN_AUTOMATION": "1"}

    def run(*args: str) -> str:
        done = subprocess.run(
            ["terraform", f"-chdir={RENDER}", *args],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise SystemExit(f"terraform {args[0]} failed:\n{done.stderr}")
        return done.stdout

    plan = data_dir / "render.tfplan"
    run("init", "-backend=false", "-input=false")
    run("plan", "-input=false", "-lock=false", f"-out={plan}")
    shown = json.loads(run("show", "-json", str(plan)))
    value: dict[str, dict[str, Any]] = shown["planned_values"]["outputs"]["scenarios"]["value"]
    return value


def check_schema(chart: Path, values: dict[str, Any]) -> str | None:
    defaults = yaml.safe_load((chart / "values.yaml").read_text()) or {}
    schema = json.loads((chart / "values.schema.json").read_text())
    errors = sorted(
        jsonschema.Draft7Validator(schema).iter_errors(merged(defaults, values)),
        key=lambda e: list(e.absolute_path),
    )
    if not errors:
        return None
    return "; ".join(
        f"{'.'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}" for e in errors
    )


def check_render(helm: Path, chart: Path, values: dict[str, Any], namespace: str) -> str | None:
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as handle:
        yaml.safe_dump(values, handle)
    try:
        done = subprocess.run(
            [str(helm), "template", chart.name, str(chart), "-f", handle.name, "-n", namespace],
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        os.unlink(handle.name)
    if done.returncode == 0:
        return None
    return (done.stderr or done.stdout).strip().splitlines()[-1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--charts", type=Path, default=REPO / "charts")
    parser.add_argument("--helm", type=Path, default=REPO / "scripts/helm")
    args = parser.parse_args()

    cache = Path(os.environ.get("JEEVES_CACHE", Path.home() / ".cache/jeeves")) / "terraform"
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache) as scratch:
        found = scenarios(Path(scratch))

    failures = 0
    checks = 0
    missing = 0
    for kind, chart_name in CHARTS.items():
        chart = args.charts / chart_name
        if not (chart / "values.schema.json").exists():
            print(f"  {chart}: missing, FAILED")
            missing += 1
            continue
        for name, values in sorted(found.items()):
            checks += 1
            problem = check_schema(chart, values[kind])
            if problem is None and args.helm.exists():
                problem = check_render(args.helm, chart, values[kind], "jeeves")
            verdict = "ok" if problem is None else f"FAILED: {problem}"
            print(f"  {chart_name} with the {name} values: {verdict}", flush=True)
            failures += problem is not None
    renderer = "schema + helm template" if args.helm.exists() else "schema only (no scripts/helm)"
    print(f"{checks - failures} passed, {failures + missing} failed ({renderer})")
    return 1 if failures or missing else 0


if __name__ == "__main__":
    sys.exit(main())
