"""`make images-push IMAGE_REGISTRY=<registry>/<path>`: tag every built image for a real
registry and push it there with buildah, e.g. `localhost/jeeves-gateway:0.1.0` →
`registry.example.com/team/jeeves-gateway:0.1.0`.

Credentials are buildah's own: `buildah login <registry>` first, or REGISTRY_AUTH_FILE. Set
IMAGE_TLS_VERIFY=false for a registry without TLS (a test registry on loopback).

    push.py REGISTRY [NAME ...]
"""

from __future__ import annotations

import os
import subprocess
import sys

from imagestore import deployables, store_env, version


def main() -> None:
    if len(sys.argv) < 2 or not sys.argv[1].strip("/"):
        print("images-push: set IMAGE_REGISTRY, e.g. registry.example.com/team", file=sys.stderr)
        raise SystemExit(2)
    registry = sys.argv[1].strip("/")
    names = set(sys.argv[2:])
    env = {**os.environ, **store_env()}
    tls = os.environ.get("IMAGE_TLS_VERIFY", "true")
    images = [image for image in deployables() if not names or image.name in names]
    for number, image in enumerate(images, 1):
        target = f"{registry}/{image.name}:{version()}"
        print(f"[{number:2d}/{len(images)}] {image.ref} -> {target}", flush=True)
        subprocess.run(["buildah", "tag", image.ref, target], env=env, check=True)
        subprocess.run(
            ["buildah", "push", f"--tls-verify={tls}", target, f"docker://{target}"],
            env=env,
            check=True,
        )
    print(f"images-push: {len(images)} images pushed to {registry}")


if __name__ == "__main__":
    main()
