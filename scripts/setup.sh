#!/usr/bin/env bash
# Make a fresh machine ready for `make dev` and `make test`. Idempotent; prints progress.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

APT_PACKAGES=()
[ -x /usr/lib/postgresql/15/bin/initdb ] || APT_PACKAGES+=(postgresql-15)
command -v runuser >/dev/null || APT_PACKAGES+=(util-linux)
if [ ${#APT_PACKAGES[@]} -gt 0 ]; then
  step "installing system packages: ${APT_PACKAGES[*]}"
  as_root apt-get update -q
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -q --no-install-recommends "${APT_PACKAGES[@]}"
else
  step "system packages already present (PostgreSQL 15)"
fi
for extra in scripts/setup.d/*.sh; do
  [ -e "$extra" ] || continue
  step "running $extra"
  bash "$extra"
done

if ! command -v uv >/dev/null; then
  step "installing uv"
  python3 -m pip install --quiet --user uv 2>/dev/null || python3 -m pip install --quiet uv
  export PATH="$HOME/.local/bin:$PATH"
fi
step "installing the locked Python dependencies into .venv (uv $(uv --version | cut -d' ' -f2))"
uv sync --all-packages --frozen
step "ready: try 'make dev' or 'make test'"
