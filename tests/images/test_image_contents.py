"""What is inside each built image and its configuration: the contract's user, command, stop
signal and labels; no compiler, no pip, no package manager caches; a Python 3.11 that imports
the service from a read-only root file system.

Real: the built images, inspected and run with podman. Nothing faked.
"""

from __future__ import annotations

import subprocess

import pytest
from containers import Podman, imagestore

pytestmark = pytest.mark.images

IMAGES = imagestore.deployables()
PYTHON_IMAGES = [i for i in IMAGES if i.name not in {"jeeves-postgres", "jeeves-etcd"}]
ids = [i.name for i in IMAGES]


def git_revision() -> str:
    return subprocess.run(
        ["git", "-C", str(imagestore.ROOT), "rev-parse", "HEAD"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


@pytest.mark.parametrize("image", IMAGES, ids=ids)
def test_configuration_keeps_the_contract(podman: Podman, image: imagestore.Image) -> None:
    config = podman.inspect(image.ref)["Config"]
    expected_user = "999:999" if image.name == "jeeves-postgres" else "10001:10001"
    assert config["User"] == expected_user
    assert config["StopSignal"] in {"SIGTERM", "SIGINT"}
    labels = config["Labels"]
    assert labels["org.opencontainers.image.version"] == imagestore.version()
    assert labels["org.opencontainers.image.title"] == image.name
    assert labels["org.opencontainers.image.revision"].startswith(git_revision()[:12]), (
        "built from another commit: run `make images`"
    )
    assert labels["org.opencontainers.image.source"]
    if image in PYTHON_IMAGES:
        assert config["Cmd"] == [image.name]
        assert not config.get("Entrypoint")
        assert "8080/tcp" in config["ExposedPorts"]
        assert config["StopSignal"] == "SIGTERM"


SCAN = (
    "for tool in gcc cc c++ make pip pip3 apt apt-get; do"
    ' command -v "$tool" && exit 1; done;'
    " ls /var/cache/apt/archives/*.deb /var/lib/apt/lists/*_Packages /root/.cache 2>/dev/null"
    " && exit 1; exit 0"
)


@pytest.mark.parametrize("image", IMAGES, ids=ids)
def test_no_compiler_package_manager_or_cache(podman: Podman, image: imagestore.Image) -> None:
    options = podman.options(env={}, user=None, volumes=())
    argv = ["run", "--rm", *options, "--entrypoint=/bin/sh", image.ref, "-c", SCAN]
    found = podman(*argv, check=False)
    assert found.returncode == 0, f"found in {image.name}: {found.stdout.strip()}"


@pytest.mark.parametrize("image", PYTHON_IMAGES, ids=[i.name for i in PYTHON_IMAGES])
def test_python_imports_the_service_read_only_without_pip(
    podman: Podman, image: imagestore.Image
) -> None:
    probe = (
        "import importlib.util, sys; "
        "assert sys.version_info[:2] == (3, 11), sys.version; "
        "assert importlib.util.find_spec('pip') is None, 'pip is installed'; "
        "print(sys.prefix)"
    )
    done = podman.run_once(image.ref, "python", "-c", probe, user="10001:10001")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "/opt/jeeves"
