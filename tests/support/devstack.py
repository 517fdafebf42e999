"""`make dev` as a real process for tests: start it, read its URL table, find its children.

    with DevStack(data_dir, "--keep-going", "--scrape-interval", "1") as stack:
        gateway = stack.urls["gateway"]
        os.kill(stack.pid_of("poster"), signal.SIGKILL)

Real: `python -m jeeves.devstack` and everything it starts; stopped with SIGINT (Ctrl-C) and
waited for. `children(pid)` (the localstack's `child_pids`) and `alive(pid)` read /proc.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from types import TracebackType

from jeeves.localstack.ports import wait_until
from jeeves.localstack.processes import child_pids as children

URL_ROW = re.compile(r"^\s{2}(\S+)\s+(http://127\.0\.0\.1:\d+)\s")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and ") Z " not in stat.read_text()


def private_data_dir() -> Path:
    """A data dir the `postgres` user can reach (pytest's tmp_path is private to root)."""
    path = Path(tempfile.mkdtemp(prefix="jeeves-devstack-"))
    path.chmod(0o755)
    return path


class DevStack:
    """One `make dev` (free ports) and its output, until `stop()`."""

    def __init__(self, data_dir: Path, *args: str) -> None:
        self.data_dir = data_dir
        self.args = args
        self.lines: list[str] = []
        self.proc: subprocess.Popen[str] | None = None
        self._reader: threading.Thread | None = None

    def start(self, timeout: float = 600) -> DevStack:
        argv = [sys.executable, "-m", "jeeves.devstack", "--base-port", "0"]
        argv += ["--data-dir", str(self.data_dir), *self.args]
        self.proc = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        stdout = self.proc.stdout
        assert stdout is not None
        self._reader = threading.Thread(target=lambda: self.lines.extend(iter(stdout.readline, "")))
        self._reader.start()
        wait_until(
            lambda: self.ready or self.proc is None or self.proc.poll() is not None,
            timeout=timeout,
            what="make dev to print its URL table",
        )
        assert self.proc.poll() is None, "".join(self.lines[-60:])
        return self

    @property
    def ready(self) -> bool:
        return any("Stop: Ctrl-C" in line for line in self.lines)

    @property
    def urls(self) -> dict[str, str]:
        return dict(m.groups() for line in list(self.lines) if (m := URL_ROW.match(line)))

    def pid_of(self, service: str) -> int:
        """The pid of the child running `jeeves-<service>` (the service's own process)."""
        assert self.proc is not None
        for pid in children(self.proc.pid):
            try:
                argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if any(Path(a.decode()).name == f"jeeves-{service}" for a in argv if a):
                return pid
        raise AssertionError(f"no jeeves-{service} among make dev's children")

    def output(self, last: int = 80) -> str:
        return "".join(self.lines[-last:])

    def stop(self) -> int:
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            code = self.proc.wait(timeout=90)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        if self._reader is not None:
            self._reader.join(10)
        return code

    def __enter__(self) -> DevStack:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def remove(data_dir: Path) -> None:
    shutil.rmtree(data_dir, ignore_errors=True)
