"""Writing one image as an OCI archive (`jeeves-X.tar`) that `ctr -n k8s.io images import`
names `localhost/jeeves-X:<version>`, compressing each layer only once for all images.

`buildah push -D` copies the image uncompressed into a scratch `dir:` folder (fast: no
compression). Each layer is gzipped once into a cache keyed by its digest (most layers are
shared: the Debian root fs, the dependencies, the code), and the archive is assembled from the
config, a manifest naming the gzipped layers, and an index whose annotations carry the image's
full name. A code change therefore compresses one small layer, not fourteen whole stacks.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import shutil
import subprocess
import tarfile
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LAYER_TAR = "application/vnd.oci.image.layer.v1.tar"
LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
MANIFEST = "application/vnd.oci.image.manifest.v1+json"
REF_NAME = "org.opencontainers.image.ref.name"
CONTAINERD_NAME = "io.containerd.image.name"


@dataclass(frozen=True)
class Blob:
    """A content-addressed file: where it is, its digest (`sha256:…`) and size."""

    path: Path
    digest: str
    size: int


def push_uncompressed(ref: str, folder: Path, env: Mapping[str, str], log: Path) -> dict[str, Any]:
    """Copy `ref` with uncompressed layers into the empty `folder` (`dir:`); its manifest."""
    with open(log, "w") as handle:
        subprocess.run(
            ["buildah", "push", "--quiet", "--format", "oci", "-D", ref, f"dir:{folder}"],
            env=dict(env),
            stdout=handle,
            stderr=subprocess.STDOUT,
            check=True,
        )
    manifest: dict[str, Any] = json.loads((folder / "manifest.json").read_text())
    return manifest


def in_folder(folder: Path, digest: str) -> Path:
    """Where `dir:` keeps the blob `sha256:<hex>`: `<folder>/<hex>`."""
    return folder / digest.partition(":")[2]


_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_LOCK = threading.Lock()


def gzipped(layer: Blob, cache: Path) -> Blob:
    """The gzip of an uncompressed layer, made once (deterministic: no timestamp, no name);
    threads asking for the same layer wait for the one compressing it."""
    with _LOCKS_LOCK:
        lock = _LOCKS.setdefault(layer.digest, threading.Lock())
    with lock:
        return _gzipped(layer, cache)


def _gzipped(layer: Blob, cache: Path) -> Blob:
    cache.mkdir(parents=True, exist_ok=True)
    hexdigest = layer.digest.partition(":")[2]
    target = cache / f"{hexdigest}.gz"
    meta = cache / f"{hexdigest}.json"
    if target.exists() and meta.exists():
        known = json.loads(meta.read_text())
        return Blob(target, known["digest"], known["size"])
    partial = target.with_suffix(".partial")
    digest = hashlib.sha256()
    with open(layer.path, "rb") as source, open(partial, "wb") as sink:
        hashing = _HashingWriter(sink, digest)
        with gzip.GzipFile(filename="", mode="wb", compresslevel=6, fileobj=hashing, mtime=0) as z:
            shutil.copyfileobj(source, z, 1 << 20)
    partial.rename(target)
    blob = Blob(target, f"sha256:{digest.hexdigest()}", target.stat().st_size)
    meta.write_text(json.dumps({"digest": blob.digest, "size": blob.size}))
    return blob


class _HashingWriter(io.RawIOBase):
    """A write-only file that hashes what passes through to `sink`."""

    def __init__(self, sink: io.BufferedWriter, digest: Any) -> None:
        self.sink = sink
        self.digest = digest

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.digest.update(data)
        return self.sink.write(data)


def compressed_layer(folder: Path, layer: Mapping[str, Any], gz_cache: Path) -> Blob:
    """The gzipped blob of one of the manifest's layers (cached)."""
    if layer["mediaType"] != LAYER_TAR:
        raise ValueError(f"expected an uncompressed layer, got {layer['mediaType']}")
    source = Blob(in_folder(folder, layer["digest"]), layer["digest"], layer["size"])
    return gzipped(source, gz_cache)


def _json_blob(data: dict[str, Any]) -> tuple[bytes, str]:
    raw = json.dumps(data, separators=(",", ":"), sort_keys=True).encode()
    return raw, f"sha256:{hashlib.sha256(raw).hexdigest()}"


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))


def write_archive(
    ref: str, folder: Path, manifest: dict[str, Any], gz_cache: Path, target: Path
) -> int:
    """Assemble `target` for `ref` from the pushed folder; returns the archive's size."""
    layers = [compressed_layer(folder, layer, gz_cache) for layer in manifest["layers"]]
    compressed = {
        **manifest,
        "mediaType": MANIFEST,
        "layers": [
            {"mediaType": LAYER_GZIP, "digest": blob.digest, "size": blob.size} for blob in layers
        ],
    }
    manifest_raw, manifest_digest = _json_blob(compressed)
    index = {
        "schemaVersion": 2,
        "manifests": [
            {
                "mediaType": MANIFEST,
                "digest": manifest_digest,
                "size": len(manifest_raw),
                "annotations": {REF_NAME: ref, CONTAINERD_NAME: ref},
            }
        ],
    }
    config = manifest["config"]
    partial = target.with_suffix(".partial")
    with tarfile.open(partial, "w", format=tarfile.PAX_FORMAT) as tar:
        _add_bytes(tar, "oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
        _add_bytes(tar, "index.json", _json_blob(index)[0])
        _add_bytes(tar, f"blobs/sha256/{manifest_digest.partition(':')[2]}", manifest_raw)
        tar.add(in_folder(folder, config["digest"]), f"blobs/sha256/{config['digest'][7:]}")
        for blob in layers:
            tar.add(blob.path, f"blobs/sha256/{blob.digest.partition(':')[2]}")
    partial.rename(target)
    return target.stat().st_size


def collect_garbage(gz_cache: Path, keep: set[str]) -> None:
    """Drop cached gzips of layers no archive uses any more (`keep`: uncompressed digests)."""
    for path in gz_cache.glob("*.json"):
        if f"sha256:{path.stem}" not in keep:
            path.unlink()
            path.with_suffix(".gz").unlink(missing_ok=True)
