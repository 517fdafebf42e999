"""Child processes that never outlive the process that started them."""

from __future__ import annotations

import ctypes
import signal

PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """`preexec_fn`: the child gets SIGTERM when its parent dies, even by SIGKILL (Linux).

    Linux ties this to the *thread* that forked the child: start such children from a
    long-lived thread (the main or event-loop thread), not from a short-lived worker.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
