#!/usr/bin/env bash
# Build the dashboard frontend: `npm ci` (the committed lock file; npm's cache under
# $JEEVES_CACHE/npm) then `vite build` into src/jeeves/dashboard/static (or
# $JEEVES_DASHBOARD_STATIC_DIR). Skips both when nothing changed since the last build.
set -euo pipefail
cd "$(dirname "$0")"
CACHE="${JEEVES_CACHE:-$HOME/.cache/jeeves}"
OUT="${JEEVES_DASHBOARD_STATIC_DIR:-$(cd .. && pwd)/static}"
command -v npm >/dev/null || { echo "dashboard: npm is not installed (Node.js 20+ is needed)" >&2; exit 1; }
stamp=$( (cat package-lock.json package.json tsconfig.json vite.config.ts index.html; find src -type f | sort | xargs cat) | sha256sum | cut -c1-16)
if [ -f "$OUT/.build-stamp" ] && [ "$(cat "$OUT/.build-stamp")" = "$stamp" ] && [ -f "$OUT/index.html" ]; then
  echo "dashboard: frontend up to date in $OUT"
  exit 0
fi
lock=$(sha256sum package-lock.json | cut -c1-16)
if [ ! -f node_modules/.lock-stamp ] || [ "$(cat node_modules/.lock-stamp)" != "$lock" ]; then
  echo "dashboard: npm ci (Node $(node --version), npm $(npm --version))"
  npm ci --no-audit --no-fund --cache "$CACHE/npm" --prefer-offline
  echo "$lock" > node_modules/.lock-stamp
fi
echo "dashboard: vite build → $OUT"
JEEVES_DASHBOARD_STATIC_DIR="$OUT" npm run --silent build
echo "$stamp" > "$OUT/.build-stamp"
