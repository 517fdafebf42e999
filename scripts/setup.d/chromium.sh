#!/usr/bin/env bash
# Debian's Chromium, for the browser tests of the Slack emulator's chat page.
set -euo pipefail
if command -v chromium >/dev/null; then
  echo "chromium already installed ($(chromium --version 2>/dev/null | head -1))"
  exit 0
fi
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
as_root apt-get update -q
DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -q --no-install-recommends chromium
