#!/usr/bin/env bash
# Owns: making one minimal Debian bookworm root file system (a tar) with mmdebstrap, from the
# essential set plus the packages listed in images/os/<name>.packages. Used by build.py, which
# caches the tar by a key over this script and the package list.
#
#   scripts/images/rootfs.sh <packages-file> <output.tar>
#
# Slim like debian:*-slim: no apt, no manual pages, docs, info or locales (copyright kept),
# merged /usr without the usrmerge package (which drags in perl), users jeeves (10001, home /tmp) and,
# when PostgreSQL is listed, postgres (999, as in the official image). Apt sources and settings are the host's.
set -euo pipefail
packages_file=$1
out=$2
include=$(grep -v '^\s*#' "$packages_file" | tr -s ' \n' ',' | sed 's/^,//; s/,$//')
sources=/etc/apt/sources.list.d/debian.sources
[ -f "$sources" ] || sources=/etc/apt/sources.list
[ -f "$sources" ] || { echo "rootfs: no Debian apt sources on this host" >&2; exit 1; }
tmp="$out.tmp.$$"
trap 'rm -f "$tmp"' EXIT
# A hook adding user and group NAME with one id (the essential set has no useradd).
add_user() {
  printf 'echo "%s:x:%s:" >>"$1/etc/group"; ' "$1" "$2"
  printf 'echo "%s:x:%s:%s::%s:%s" >>"$1/etc/passwd"; ' "$1" "$2" "$2" "$3" "$4"
  printf 'echo "%s:*:19000:0:99999:7:::" >>"$1/etc/shadow"' "$1"
}
hooks=()
if grep -q '^postgresql' "$packages_file"; then  # the official image's UID, before postinst runs
  hooks+=(--essential-hook="$(add_user postgres 999 /var/lib/postgresql /bin/bash)"
          --customize-hook='rm -rf "$1"/var/lib/postgresql/15/main "$1"/etc/postgresql/15/main "$1"/etc/ssl/private/ssl-cert-snakeoil.key "$1"/etc/ssl/certs/ssl-cert-snakeoil.pem'
          # JIT compilation is optional and LLVM is ~130 MB of the ~360: without the provider
          # library PostgreSQL simply does not JIT. Locale sources: initdb uses C.UTF-8.
          --customize-hook='rm -rf "$1"/usr/lib/x86_64-linux-gnu/libLLVM-*.so* "$1"/usr/lib/x86_64-linux-gnu/libz3.so* "$1"/usr/lib/postgresql/15/lib/llvmjit*.so "$1"/usr/lib/postgresql/15/lib/bitcode "$1"/usr/share/i18n')
fi
mmdebstrap --variant=essential --mode=root --format=tar \
  --include="$include" \
  --aptopt='Acquire::Check-Valid-Until "false"' \
  --setup-hook=/usr/share/mmdebstrap/hooks/merged-usr/setup00.sh \
  --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/info/*' \
  --dpkgopt='path-exclude=/usr/share/lintian/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  --dpkgopt='path-include=/usr/share/locale/locale.alias' \
  --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --customize-hook="$(add_user jeeves 10001 /tmp /usr/sbin/nologin)" \
  "${hooks[@]}" \
  --customize-hook='rm -rf "$1"/var/cache/debconf/*-old "$1"/var/log/*.log "$1"/var/log/apt "$1"/var/lib/dpkg/*-old' \
  bookworm "$tmp" "$sources"
mv "$tmp" "$out"
trap - EXIT
