#!/usr/bin/env bash
# Debian packages that build, lint-free archive and run the images: buildah (build), podman (run
# in tests), mmdebstrap (the base root fs), containerd (ctr import check), skopeo (push docs),
# runc. Idempotent: installs only what is missing.
set -euo pipefail
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
want=(buildah podman mmdebstrap containerd skopeo runc uidmap fuse-overlayfs)
missing=()
for pkg in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "images: tools present (buildah $(buildah --version | cut -d' ' -f3), podman $(podman --version | cut -d' ' -f3))"
  exit 0
fi
echo "images: installing ${missing[*]}"
as_root apt-get -o DPkg::Lock::Timeout=600 update -q
DEBIAN_FRONTEND=noninteractive as_root apt-get -o DPkg::Lock::Timeout=600 install -y -q \
  --no-install-recommends "${missing[@]}"
