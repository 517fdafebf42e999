"""Running the built images with podman the way a cluster runs them, for tests/images.

Every container gets the production restrictions: a read-only root file system with a tmpfs at
/tmp only (as an emptyDir), the image's non-root user, no capabilities, no privilege
escalation. The host network is used (`--network host`, see DESIGN facts), so each container
binds its own random loopback port. `Container.wait_ready` polls a probe URL and fails at once,
with the logs, when the container exits: a broken image fails its test rather than timing out.

Real: podman and runc from Debian, the images in the private store of `make images`.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts" / "images"))

import imagestore  # noqa: E402

from support.services import http_status  # noqa: E402

# podman sets high open-file and process limits by default, which root here may not raise
# (no CAP_SYS_RESOURCE): keep the caller's open-file limit, and a modest process limit.
NOFILE = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
HARDENING = (
    f"--ulimit=nofile={NOFILE}:{NOFILE}",
    "--ulimit=nproc=4096:4096",
    "--network=host",
    "--read-only",
    "--read-only-tmpfs=false",
    "--tmpfs=/tmp:rw,mode=1777,size=128m",
    "--cap-drop=ALL",
    "--security-opt=no-new-privileges",
)


FIGURES: dict[str, dict[str, Any]] = {}  # image → measurements, printed by conftest


def figure(image: str, **values: Any) -> None:
    """Record measurements of `image` (size_mb, compressed_mb, ready_s, probe)."""
    FIGURES.setdefault(image, {}).update(values)


class ContainerExited(AssertionError):
    """The container stopped while it should have been starting or serving."""


@dataclass
class Podman:
    """podman on the private image store of `make images`."""

    env: dict[str, str] = field(default_factory=lambda: {**os.environ, **imagestore.store_env()})
    started: list[Container] = field(default_factory=list)

    def __call__(
        self, *args: str, check: bool = True, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            ["podman", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"podman {' '.join(args)} failed: {result.stderr.strip()}")
        return result

    def inspect(self, ref: str) -> dict[str, Any]:
        (data,) = json.loads(self("image", "inspect", ref).stdout)
        return dict(data)

    def exists(self, ref: str) -> bool:
        return self("image", "exists", ref, check=False).returncode == 0

    def options(
        self,
        *,
        env: Mapping[str, str],
        user: str | None,
        volumes: Sequence[str],
    ) -> list[str]:
        argv = list(HARDENING)
        if user is not None:
            argv.append(f"--user={user}")
        for name, value in env.items():
            argv += ["--env", f"{name}={value}"]
        for volume in volumes:
            argv += ["--volume", volume]
        return argv

    def start(
        self,
        ref: str,
        *args: str,
        env: Mapping[str, str] | None = None,
        user: str | None = None,
        volumes: Sequence[str] = (),
        label: str = "",
    ) -> Container:
        """`podman run -d` with the hardening options; the clock for cold start starts here."""
        name = f"jeeves-test-{label or 'c'}-{uuid.uuid4().hex[:8]}"
        started = time.monotonic()
        options = self.options(env=env or {}, user=user, volumes=volumes)
        self("run", "--detach", f"--name={name}", *options, ref, *args)
        container = Container(self, name, ref, started)
        self.started.append(container)
        return container

    def run_once(
        self,
        ref: str,
        *args: str,
        env: Mapping[str, str] | None = None,
        user: str | None = None,
        volumes: Sequence[str] = (),
        timeout: float = 120,
    ) -> subprocess.CompletedProcess[str]:
        """`podman run --rm` to completion (a migration, a set-up command); not checked."""
        options = self.options(env=env or {}, user=user, volumes=volumes)
        return self("run", "--rm", *options, ref, *args, check=False, timeout=timeout)

    def remove_all(self) -> None:
        for container in self.started:
            container.remove()
        self.started.clear()


@dataclass
class Container:
    """One detached container."""

    podman: Podman
    name: str
    ref: str
    started: float
    ready_after: float | None = None

    def state(self) -> dict[str, Any]:
        result = self.podman("inspect", "--type", "container", self.name, check=False)
        if result.returncode != 0:
            return {}
        (data,) = json.loads(result.stdout)
        return dict(data["State"])

    def running(self) -> bool:
        return bool(self.state().get("Running"))

    def logs(self) -> str:
        result = self.podman("logs", self.name, check=False)
        return result.stdout + result.stderr

    def wait_until(self, check: Callable[[], bool], *, timeout: float, what: str) -> float:
        """Poll `check` until true; returns seconds since start. Fails if the container exits."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if check():
                self.ready_after = time.monotonic() - self.started
                return self.ready_after
            state = self.state()
            if state and not state.get("Running"):
                raise ContainerExited(
                    f"{self.ref} exited with {state.get('ExitCode')} before {what}:\n"
                    f"{self.logs()[-3000:]}"
                )
            time.sleep(0.05)
        raise AssertionError(f"{self.ref}: no {what} after {timeout}s:\n{self.logs()[-3000:]}")

    def wait_ready(self, url: str, timeout: float = 60) -> float:
        return self.wait_until(lambda: http_status(url) == 200, timeout=timeout, what=url)

    def stop(self, timeout: int = 20) -> int:
        """`podman stop` (the image's STOPSIGNAL, then SIGKILL after `timeout`); exit code."""
        self.podman("stop", f"--time={timeout}", self.name, check=False, timeout=timeout + 30)
        return int(self.state().get("ExitCode", -1))

    def remove(self) -> None:
        self.podman("rm", "--force", "--time=2", self.name, check=False)
