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
            rm -rf "$VENV"
            python3 -m venv "$VENV"
            # The machine's pip config names local wheel dirs that may not exist: drop that noise.
            "$VENV/bin/pip" install --quiet --disable-pip-version-check "checkov==$VERSION" \
                2> >(grep -v 'is ignored: it is neither a file nor a directory' >&2)
        fi
    ) 9>"$LOCK"
fi
exec "$VENV/bin/checkov" "$@"
