"""Debian's Chromium for browser tests: where it is, the flags it needs here, and a Playwright
launch of it (Playwright's own browser download cannot work offline, so it drives this one).

Fails, never skips, when Chromium is missing: `make setup` installs it (scripts/setup.d).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# Headless on a closed network: no background fetches, no first-run, no GPU, no sandbox (root).
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / ".artifacts"


def chromium_path() -> str:
    assert CHROMIUM is not None, "Chromium is not installed: run `make setup` (it installs it)"
    return CHROMIUM


async def launch_chromium(playwright: Any) -> Any:
    """A Playwright Browser on Debian's Chromium."""
    return await playwright.chromium.launch(
        executable_path=chromium_path(), headless=True, args=FLAGS[1:]
    )


def artifact_dir(name: str) -> Path:
    """`.artifacts/<name>/` at the repository root (gitignored), for screenshots to look at."""
    path = ARTIFACTS / name
    path.mkdir(parents=True, exist_ok=True)
    return path
