#!/usr/bin/env bash
# Owns: the Debian packages a real one-node Kubernetes needs on this machine (`make k8s-node-deps`,
# run by `make test-cluster` and therefore by CI): containerd + runc (the container runtime), the
# CNI plugins (bridge, host-local, portmap, loopback), iptables + conntrack (kube-proxy), socat
# (the loopback relay into the node's network namespace), dnsmasq-base (cluster DNS: CoreDNS is
# not packaged in Debian 12), busybox-static (the test image of the node's own smoke test) and
# gcc + libc6-dev (the pause image is compiled from Kubernetes' build/pause/linux/pause.c).
#
# Idempotent: installs only what is missing; apt waits up to 10 min for other apt users.
set -euo pipefail

PACKAGES=(containerd runc containernetworking-plugins iptables conntrack socat dnsmasq-base
          busybox-static gcc libc6-dev util-linux iproute2)
APT=(apt-get -o DPkg::Lock::Timeout=600)
SUDO=()
if [[ $(id -u) -ne 0 ]]; then SUDO=(sudo); fi

missing=()
for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
    printf '==> [k8s-node-deps] already installed: %s\n' "${PACKAGES[*]}"
    exit 0
fi
printf '==> [k8s-node-deps] installing: %s\n' "${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
if ! "${SUDO[@]}" "${APT[@]}" install -y -q --no-install-recommends "${missing[@]}"; then
    printf '    install failed; refreshing the package lists once and retrying\n'
    "${SUDO[@]}" "${APT[@]}" update -q
    "${SUDO[@]}" "${APT[@]}" install -y -q --no-install-recommends "${missing[@]}"
fi
printf '==> [k8s-node-deps] done\n'
