#!/usr/bin/env bash
# Debian's Prometheus 2.42 (with promtool) and Alertmanager 0.25 (with amtool), for `make dev`,
# the rule unit tests and the monitoring integration tests. Installed, never left running: the
# tests start their own on free ports with their own config; the packages' daemons are stopped
# if a package script started one (through its pid file, never by process name).
set -euo pipefail
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
need=()
command -v promtool >/dev/null || need+=(prometheus)
command -v alertmanager >/dev/null 2>&1 || [ -x /usr/bin/prometheus-alertmanager ] \
  || need+=(prometheus-alertmanager)
if [ ${#need[@]} -eq 0 ]; then
  echo "prometheus $(prometheus --version 2>&1 | head -1 | cut -d' ' -f3)," \
    "alertmanager $(prometheus-alertmanager --version 2>&1 | head -1 | cut -d' ' -f3) already installed"
  exit 0
fi
echo "installing ${need[*]} (apt, no recommends)"
as_root apt-get -o DPkg::Lock::Timeout=600 update -q
DEBIAN_FRONTEND=noninteractive as_root apt-get -o DPkg::Lock::Timeout=600 install -y -q \
  --no-install-recommends "${need[@]}"
for service in prometheus prometheus-alertmanager; do
  # Where a package script did start its daemon (no policy-rc.d denying it), stop it and keep
  # it from starting at boot: its default config binds fixed ports (9090, 9093).
  if [ -x "/etc/init.d/$service" ] && as_root "/etc/init.d/$service" status >/dev/null 2>&1; then
    echo "stopping the $service daemon the package started"
    as_root "/etc/init.d/$service" stop || true
  fi
  command -v update-rc.d >/dev/null && as_root update-rc.d "$service" disable >/dev/null 2>&1 || true
done
echo "installed: $(prometheus --version 2>&1 | head -1)"
