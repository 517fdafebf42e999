#!/usr/bin/env bash
# Owns: installing checkov into a virtualenv of its own under the cache (it pins dependencies
# that clash with the project's), and running it. Idempotent; nothing is written in the repo.
#
#   scripts/tools/checkov.sh [checkov arguments...]
#
# Environment: JEEVES_CACHE (default $HOME/.cache/jeeves), CHECKOV_VERSION (default below).
set -euo pipefail
CACHE_ROOT="${JEEVES_CACHE:-$HOME/.cache/jeeves}"
VERSION="${CHECKOV_VERSION:-3.3.30}"
VENV="$CACHE_ROOT/tools/checkov-$VERSION"
LOCK="$CACHE_ROOT/tools/.checkov.lock"
mkdir -p "$CACHE_ROOT/tools"
if [[ ! -x "$VENV/bin/checkov" ]]; then
    (
        flock 9
        if [[ ! -x "$VENV/bin/checkov" ]]; then
            printf '==> installing checkov %s into %s (once)\n' "$VERSION" "$VENV" >&2
            rm -rf "$VENV.tmp"
            python3 -m venv "$VENV.tmp"
            "$VENV.tmp/bin/pip" install --quiet --disable-pip-version-check "checkov==$VERSION"
            # A venv is not relocatable: build it in place under its final name.
            rm -rf "$VENV.tmp"
            python3 -m venv "$VENV"
            "$VENV/bin/pip" install --quiet --disable-pip-version-check "checkov==$VERSION"
        fi
    ) 9>"$LOCK"
fi
exec "$VENV/bin/checkov" "$@"
