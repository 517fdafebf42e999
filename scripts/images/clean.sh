#!/usr/bin/env bash
# Owns: removing everything `make images` keeps under ${JEEVES_CACHE}/images (image store,
# root fs tars, wheels, archives, logs), unmounting the store's layers first. Touches nothing
# outside that directory (the machine's own /var/lib/containers is never used).
set -euo pipefail
dir="${JEEVES_CACHE:-$HOME/.cache/jeeves}/images"
[ -d "$dir" ] || { echo "images: nothing to clean in $dir"; exit 0; }
if [ -f "$dir/storage.conf" ]; then
  export CONTAINERS_STORAGE_CONF="$dir/storage.conf" CONTAINERS_CONF="$dir/containers.conf"
  podman rm --all --force >/dev/null 2>&1 || true
  buildah rm --all >/dev/null 2>&1 || true
  buildah rmi --all --force >/dev/null 2>&1 || true
fi
# Anything still mounted below the store (an interrupted build) is unmounted, deepest first.
{ grep -o " $dir/[^ ]*" /proc/mounts || true; } | sort -r | while read -r mnt; do umount "$mnt" || true; done
rm -rf "$dir"
echo "images: removed $dir"
