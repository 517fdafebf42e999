"""Where Jeeves images live on this machine, and which images there are (shared by the build
script and tests/images).

The images are kept in a containers storage of their own under the cache
(`${JEEVES_CACHE:-~/.cache/jeeves}/images/storage`), never in the machine's default
`/var/lib/containers`: buildah and podman are pointed at it through `CONTAINERS_STORAGE_CONF`
and `CONTAINERS_CONF` files written here, so nothing else on the machine is touched.

The list of images is the list of files `images/jeeves-*.Containerfile`: adding an image is
adding one such file (see docs/images.md).
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
IMAGES_DIR = ROOT / "images"
REGISTRY = "localhost"
UID = 10001  # every Jeeves image runs as this user and group (jeeves-postgres: 999)


def cache_dir() -> Path:
    """`${JEEVES_CACHE:-~/.cache/jeeves}/images`."""
    root = os.environ.get("JEEVES_CACHE") or str(Path.home() / ".cache" / "jeeves")
    return Path(root) / "images"


def version() -> str:
    """`project.version` of pyproject.toml: the tag of every image."""
    with open(ROOT / "pyproject.toml", "rb") as handle:
        return str(tomllib.load(handle)["project"]["version"])


@dataclass(frozen=True)
class Image:
    """One deployable image, defined by `images/<name>.Containerfile`."""

    name: str  # e.g. "jeeves-gateway": the image, the entry point, the chart key
    containerfile: Path

    @property
    def short(self) -> str:
        """`gateway` for `jeeves-gateway`: its files live in `images/<short>/`, if any."""
        return self.name.removeprefix("jeeves-")

    @property
    def ref(self) -> str:
        return f"{REGISTRY}/{self.name}:{version()}"

    @property
    def archive(self) -> Path:
        return cache_dir() / f"{self.name}.tar"

    def declared_args(self) -> list[str]:
        """Names of the `ARG`s the Containerfile declares (the build passes only these)."""
        text = self.containerfile.read_text()
        return re.findall(r"^ARG\s+([A-Za-z_][A-Za-z0-9_]*)", text, flags=re.MULTILINE)

    def command(self) -> list[str]:
        """The exec-form CMD of the Containerfile (`["jeeves-gateway"]`), or [] if none."""
        match = re.search(r"^CMD\s+\[(.*)\]\s*$", self.containerfile.read_text(), re.MULTILINE)
        if match is None:
            return []
        return [part.strip().strip('"') for part in match.group(1).split(",") if part.strip()]


def deployables() -> list[Image]:
    """Every `images/jeeves-*.Containerfile`, by name."""
    return [
        Image(path.name.removesuffix(".Containerfile"), path)
        for path in sorted(IMAGES_DIR.glob("jeeves-*.Containerfile"))
    ]


def _write_if_changed(path: Path, text: str) -> None:
    if not path.exists() or path.read_text() != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def store_env() -> dict[str, str]:
    """Environment for buildah/podman/skopeo using the private storage (files written once)."""
    base = cache_dir()
    run = base / "run"
    storage_conf = base / "storage.conf"
    containers_conf = base / "containers.conf"
    _write_if_changed(
        storage_conf,
        "# Written by scripts/images/imagestore.py: the images' own storage.\n"
        "[storage]\n"
        'driver = "overlay"\n'
        f'graphroot = "{base / "storage"}"\n'
        f'runroot = "{run / "storage"}"\n',
    )
    _write_if_changed(
        containers_conf,
        "# Written by scripts/images/imagestore.py: podman for the image tests (host network,\n"
        "# runc, no systemd), with its state under the cache.\n"
        "[engine]\n"
        'runtime = "runc"\n'
        'cgroup_manager = "cgroupfs"\n'
        'events_logger = "file"\n'
        f'events_logfile_path = "{run / "events.log"}"\n'
        f'tmp_dir = "{run / "libpod"}"\n'
        "[network]\n"
        f'network_config_dir = "{base / "networks"}"\n',
    )
    return {
        "CONTAINERS_STORAGE_CONF": str(storage_conf),
        "CONTAINERS_CONF": str(containers_conf),
        "BUILDAH_ISOLATION": "oci",
    }
