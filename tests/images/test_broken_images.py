"""The harness fails on broken images: an entry point that does not exist, a service that
exits at start, and one that writes to its root file system (which must be read-only). Each
is a real image built FROM jeeves-echo; the checks that pass for good images must fail here.

Real: buildah and podman on the store of `make images`. Nothing faked.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from containers import ContainerExited, Podman, imagestore

from jeeves.localstack.ports import free_port

pytestmark = pytest.mark.images

BROKEN = f"{imagestore.REGISTRY}/jeeves-broken-probe"
Build = Callable[[str, str], str]  # (tag, CMD in exec form) → image reference


@pytest.fixture(name="build_broken")
def fixture_build_broken(podman: Podman, tmp_path: Path) -> Iterator[Build]:
    built: list[str] = []

    def build(tag: str, cmd: str) -> str:
        ref = f"{BROKEN}:{tag}"
        echo = f"{imagestore.REGISTRY}/jeeves-echo:{imagestore.version()}"
        (tmp_path / "Containerfile").write_text(f"FROM {echo}\nCMD {cmd}\n")
        subprocess.run(
            ["buildah", "bud", "--quiet", "-t", ref, str(tmp_path)],
            env=podman.env,
            check=True,
            capture_output=True,
        )
        built.append(ref)
        return ref

    yield build
    for ref in built:
        podman("rmi", "--force", ref, check=False)


def test_a_missing_entry_point_fails_to_start(podman: Podman, build_broken: Build) -> None:
    ref = build_broken("missing", '["jeeves-no-such-service"]')
    with pytest.raises(AssertionError, match="jeeves-no-such-service"):
        podman.start(ref, user="10001:10001")


def test_a_service_that_exits_fails_at_once_with_its_logs(
    podman: Podman, build_broken: Build
) -> None:
    ref = build_broken("exits", '["python", "-c", "raise SystemExit(\'broken on purpose\')"]')
    container = podman.start(ref, user="10001:10001")
    with pytest.raises(ContainerExited, match="broken on purpose"):
        container.wait_ready(f"http://127.0.0.1:{free_port()}/readyz", timeout=30)


def test_writing_to_the_root_file_system_fails(podman: Podman, build_broken: Build) -> None:
    ref = build_broken("writes", '["python", "-c", "open(\'/opt/jeeves/state\', \'w\')"]')
    container = podman.start(ref, user="10001:10001")
    with pytest.raises(ContainerExited, match="Read-only file system"):
        container.wait_ready(f"http://127.0.0.1:{free_port()}/readyz", timeout=30)
