"""Fixtures of the image tier (`make test-images`, marker `images`): podman on the store of
`make images`, and the figures every test adds to (sizes, cold starts) printed at the end and
written to `${JEEVES_CACHE}/images/report.json`.

Real: podman, runc, the built images, PostgreSQL and etcd from `jeeves.localstack` (the
session fixtures of tests/conftest.py). A missing image fails the session: run `make images`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from containers import FIGURES, Podman, figure, imagestore


@pytest.fixture(name="podman", scope="session")
def fixture_podman() -> Iterator[Podman]:
    podman = Podman()
    missing = [i.ref for i in imagestore.deployables() if not podman.exists(i.ref)]
    if missing:
        pytest.fail(f"images not built: {', '.join(missing)} — run `make images` first")
    for image in imagestore.deployables():
        size = int(podman.inspect(image.ref)["Size"])
        archive = image.archive.stat().st_size if image.archive.exists() else None
        figure(image.name, size_mb=size / 1e6, compressed_mb=(archive or 0) / 1e6)
    try:
        yield podman
    finally:
        podman.remove_all()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not FIGURES:
        return
    write = terminalreporter.write_line
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    FIGURES["_machine"] = {"cores": os.cpu_count(), "load_average": load}
    write("")
    write(f"(machine: {os.cpu_count()} cores, load average {load}: cold starts scale with it)")
    write("image                      size MB   compressed MB   cold start to ready (s)")
    for name in sorted(n for n in FIGURES if not n.startswith("_")):
        row = FIGURES[name]
        start = row.get("ready_s")
        shown = f"{start:8.2f}  ({row.get('probe', '')})" if start is not None else "       -"
        write(
            f"{name:<26} {row.get('size_mb', 0):7.0f}   {row.get('compressed_mb', 0):13.0f}"
            f"   {shown}"
        )
    report = Path(imagestore.cache_dir()) / "report.json"
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(json.dumps(FIGURES, indent=2, sort_keys=True))
    write(f"(figures written to {report})")
