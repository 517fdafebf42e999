"""Starting, watching and stopping the local stack's processes.

Every child's output is streamed with a coloured `name |` prefix. Stopping sends SIGTERM to each
child (in reverse start order), waits, and SIGKILLs stragglers, so nothing outlives `make dev`.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

import aiohttp

from jeeves.localstack.processes import die_with_parent

COLOURS = ("36", "33", "35", "32", "34", "31", "96", "93", "95", "92", "94", "91")


@dataclass
class Child:
    name: str
    process: asyncio.subprocess.Process
    pump: asyncio.Task[None]


@dataclass
class Supervisor:
    """Owns every process it starts."""

    venv_bin: str = field(default_factory=lambda: os.path.dirname(sys.executable))
    children: list[Child] = field(default_factory=list)
    _width: int = 16

    def _prefix(self, name: str) -> str:
        colour = COLOURS[sum(map(ord, name)) % len(COLOURS)]
        label = name.ljust(self._width)
        return f"\033[{colour}m{label}|\033[0m " if sys.stdout.isatty() else f"{label}| "

    async def run_once(self, name: str, argv: list[str], env: Mapping[str, str]) -> None:
        """Run a one-shot command (e.g. `migrate`) to completion, streaming its output."""
        proc = await self._spawn(argv, env)
        try:
            await self._pump(name, proc)
            code = await proc.wait()
        finally:
            if proc.returncode is None:  # interrupted: never leave it behind
                proc.kill()
                await proc.wait()
        if code != 0:
            raise RuntimeError(f"{name}: `{' '.join(argv)}` failed with exit code {code}")

    async def start(self, name: str, argv: list[str], env: Mapping[str, str]) -> Child:
        proc = await self._spawn(argv, env)
        child = Child(name, proc, asyncio.create_task(self._pump(name, proc)))
        self.children.append(child)
        return child

    async def _spawn(self, argv: list[str], env: Mapping[str, str]) -> asyncio.subprocess.Process:
        command = argv[0] if os.path.isabs(argv[0]) else os.path.join(self.venv_bin, argv[0])
        return await asyncio.create_subprocess_exec(
            command,
            *argv[1:],
            env={**os.environ, **env},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches only us; we stop children in order
            preexec_fn=die_with_parent,
        )

    async def _pump(self, name: str, proc: asyncio.subprocess.Process) -> None:
        assert proc.stdout is not None
        prefix = self._prefix(name)
        async for raw in proc.stdout:
            sys.stdout.write(prefix + raw.decode(errors="replace").rstrip() + "\n")
            sys.stdout.flush()

    def exited(self) -> list[Child]:
        return [c for c in self.children if c.process.returncode is not None]

    async def stop_all(self, grace_s: float = 15.0) -> None:
        for child in reversed(self.children):
            if child.process.returncode is None:
                child.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        for child in reversed(self.children):
            remaining = max(0.1, deadline - time.monotonic())
            try:
                await asyncio.wait_for(child.process.wait(), remaining)
            except TimeoutError:
                child.process.kill()
                await child.process.wait()
            await asyncio.gather(child.pump, return_exceptions=True)
        self.children.clear()


async def wait_http_ok(url: str, within_s: float, is_alive: asyncio.subprocess.Process) -> None:
    """Poll `url` until it answers 200; fail early if the process exits."""
    deadline = time.monotonic() + within_s
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as session:
        while time.monotonic() < deadline:
            if is_alive.returncode is not None:
                raise RuntimeError(f"exited with code {is_alive.returncode} before {url} answered")
            try:
                async with session.get(url) as response:
                    if response.status == 200:
                        return
            except (aiohttp.ClientError, TimeoutError):
                pass
            await asyncio.sleep(0.2)
    raise TimeoutError(f"{url} did not answer 200 within {within_s:.0f}s")
