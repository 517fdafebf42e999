"""Child processes that never outlive the process that started them; stopping and finding them."""

from __future__ import annotations

import ctypes
import signal
import subprocess
from pathlib import Path

PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """`preexec_fn`: the child gets SIGTERM when its parent dies, even by SIGKILL (Linux).

    Linux ties this to the *thread* that forked the child: start such children from a
    long-lived thread (the main or event-loop thread), not from a short-lived worker.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def terminate(proc: subprocess.Popen[bytes] | None, timeout: float = 10.0) -> None:
    """SIGTERM `proc`, wait up to `timeout` seconds, then SIGKILL it (no-op once exited)."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def child_pids(pid: int) -> set[int]:
    """The direct children of `pid` (Linux /proc)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.add(int(entry.name))
    return found
