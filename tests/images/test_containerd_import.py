"""The archives of `make images` import into containerd under the contract's names: what the
cluster does with `ctr -n k8s.io images import`.

Real: Debian's containerd, started here on a private socket and root under the cache (no CRI
plugin, nothing shared with any other containerd), and Debian's ctr. It is stopped and its
root removed afterwards.
"""

from __future__ import annotations

import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from containers import figure, imagestore

pytestmark = pytest.mark.images


class Containerd:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.socket = root / "containerd.sock"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.root.mkdir(parents=True)
        config = self.root / "config.toml"
        config.write_text(
            "version = 2\n"
            f'root = "{self.root / "root"}"\n'
            f'state = "{self.root / "state"}"\n'
            'disabled_plugins = ["io.containerd.grpc.v1.cri"]\n'
            "[grpc]\n"
            f'  address = "{self.socket}"\n'
            "[ttrpc]\n"
            f'  address = "{self.root / "ttrpc.sock"}"\n'
            "[debug]\n"
            '  address = ""\n'
            "[metrics]\n"
            '  address = ""\n'
            '[plugins."io.containerd.internal.v1.opt"]\n'
            f'  path = "{self.root / "opt"}"\n'
        )
        with open(self.root / "containerd.log", "wb") as log:
            self.proc = subprocess.Popen(
                ["containerd", "--config", str(config)], stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 30
        while self.ctr("version", check=False).returncode != 0:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                log_text = (self.root / "containerd.log").read_text(errors="replace")
                raise AssertionError(f"containerd did not start:\n{log_text[-2000:]}")
            time.sleep(0.1)

    def ctr(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["ctr", "--address", str(self.socket), "--namespace", "k8s.io", *args],
            capture_output=True,
            text=True,
            check=check,
            timeout=300,
        )

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        mounts = Path("/proc/mounts").read_text().split("\n")
        for line in sorted(mounts, reverse=True):
            fields = line.split()
            if len(fields) > 1 and fields[1].startswith(str(self.root)):
                subprocess.run(["umount", fields[1]], check=False)
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(name="containerd")
def fixture_containerd() -> Iterator[Containerd]:
    # Under the cache, short enough for a Unix socket path (< 108 bytes).
    server = Containerd(imagestore.cache_dir() / "ctr" / uuid.uuid4().hex[:8])
    try:
        server.start()
        yield server
    finally:
        server.close()


def test_every_archive_imports_as_localhost_name_version(containerd: Containerd) -> None:
    images = imagestore.deployables()
    for image in images:
        assert image.archive.exists(), f"{image.archive} missing: run `make images`"
        started = time.monotonic()
        containerd.ctr("images", "import", str(image.archive))
        figure(image.name, ctr_import_s=time.monotonic() - started)
    names = set(containerd.ctr("images", "ls", "--quiet").stdout.split())
    expected = {image.ref for image in images}
    assert expected <= names, f"missing after import: {sorted(expected - names)}"
    for image in images:  # the layers are there and unpacked for the node's snapshotter
        check = containerd.ctr("images", "check", f"name=={image.ref}").stdout
        assert "complete" in check, check
    containerd.ctr("images", "rm", *sorted(expected))
    assert not expected & set(containerd.ctr("images", "ls", "--quiet").stdout.split())
