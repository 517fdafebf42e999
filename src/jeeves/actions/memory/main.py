"""`jeeves-memory`: run the memory action under Hypercorn."""

from __future__ import annotations

from jeeves.actions.memory.app import build_app
from jeeves.actions.memory.settings import MemorySettings
from jeeves.kit.serving import run
from jeeves.kit.settings import load_settings


def main() -> None:
    settings = load_settings(MemorySettings)
    run(build_app(settings), settings)
