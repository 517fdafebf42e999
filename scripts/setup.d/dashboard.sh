#!/usr/bin/env bash
# The dashboard's frontend, built once here so `make dev` and `make test` find it
# (npm from the registry; skipped when nothing changed). `make dashboard` runs the same.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash src/jeeves/dashboard/web/build.sh
