#!/usr/bin/env bash
# Owns: building every Kubernetes binary the tests use, in ONE cached build (`make k8s-binaries`):
# kube-apiserver, kube-controller-manager, kube-scheduler, kubelet, kube-proxy and kubectl
# (Kubernetes 1.20.2) from Debian's `kubernetes` source package, built with Debian's Go and
# installed into ${JEEVES_CACHE:-$HOME/.cache/jeeves}/k8s/bin/. The API-server tier
# (tests/k8s/apiserver) uses the first two, the one-node cluster (scripts/k8s/kubenode) all six;
# the unpacked source tree stays in the cache (the node compiles its pause image from it).
#
# Idempotent: every step leaves a stamp under the cache; when all six binaries are installed the
# script says so and does nothing. Nothing is written inside the repository. apt is pointed at a
# PRIVATE sources list / lists dir / cache for the deb-src fetch, so the machine's apt
# configuration is never changed.
#
# Environment:
#   JEEVES_CACHE        cache root (default $HOME/.cache/jeeves)
#   K8S_DEBIAN_SUITE    Debian suite holding the source package (default bookworm)
#   K8S_DEBIAN_MIRROR   Debian mirror (default http://deb.debian.org/debian)
#   K8S_BUILD_FORCE=1   rebuild even when the binaries are present
#   K8S_BUILD_JOBS      parallel Go compile jobs, via GOMAXPROCS (default: number of cores)
set -euo pipefail

CACHE_ROOT="${JEEVES_CACHE:-$HOME/.cache/jeeves}"
K8S_CACHE="$CACHE_ROOT/k8s"
BIN_DIR="$K8S_CACHE/bin"
SRC_DIR="$K8S_CACHE/src"
APT_DIR="$K8S_CACHE/apt"
GOPATH_DIR="$K8S_CACHE/gopath"
STAMPS="$K8S_CACHE/stamps"
SUITE="${K8S_DEBIAN_SUITE:-bookworm}"
MIRROR="${K8S_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
BINARIES=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl)
REFLECT2_DEBIAN=/usr/share/gocode/src/github.com/modern-go/reflect2
JOBS="${K8S_BUILD_JOBS:-$(nproc)}"

step() { printf '\n==> [k8s-binaries] %s\n' "$*"; }
info() { printf '    %s\n' "$*"; }
# kubectl has no --version; the other five print "Kubernetes v1.20.2".
binary_version() {
    if [[ "$(basename "$1")" == kubectl ]]; then "$1" version --client --short; else "$1" --version; fi
}
die() { printf 'error: [k8s-binaries] %s\n' "$*" >&2; exit 1; }

SECONDS=0

binaries_present() {
    local b
    for b in "${BINARIES[@]}"; do
        [[ -x "$BIN_DIR/$b" ]] || return 1
    done
    return 0
}

if [[ "${K8S_BUILD_FORCE:-0}" != 1 ]] && binaries_present; then
    step "already built — nothing to do"
    for b in "${BINARIES[@]}"; do
        info "$BIN_DIR/$b ($(binary_version "$BIN_DIR/$b" 2>/dev/null || echo 'version unknown'))"
    done
    info "(set K8S_BUILD_FORCE=1 to rebuild)"
    exit 0
fi

mkdir -p "$BIN_DIR" "$SRC_DIR" "$APT_DIR" "$GOPATH_DIR" "$STAMPS"

# --- 1. build dependencies ----------------------------------------------------------------
SUDO=()
if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || die "not root and no sudo: install golang-go rsync dpkg-dev make golang-github-modern-go-reflect2-dev yourself"
    SUDO=(sudo)
fi
DEPS=(golang-go rsync dpkg-dev make golang-github-modern-go-reflect2-dev)
missing=()
for p in "${DEPS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
    step "installing build dependencies: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    if ! "${SUDO[@]}" apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends "${missing[@]}"; then
        info "install failed; refreshing the package lists once and retrying"
        "${SUDO[@]}" apt-get -o DPkg::Lock::Timeout=600 update
        "${SUDO[@]}" apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends "${missing[@]}"
    fi
else
    step "build dependencies already installed (${DEPS[*]})"
fi
[[ -d "$REFLECT2_DEBIAN" ]] || die "$REFLECT2_DEBIAN missing (golang-github-modern-go-reflect2-dev)"
info "$(go version)"

# --- 2. source package, through a private apt configuration -------------------------------
APT_OPTS=(
    -o "Dir::Etc::SourceList=$APT_DIR/sources.list"
    -o "Dir::Etc::SourceParts=$APT_DIR/sources.list.d"
    -o "Dir::State::Lists=$APT_DIR/lists"
    -o "Dir::Cache=$APT_DIR/cache"
    -o "APT::Get::List-Cleanup=0"
)
# As root, apt would drop to _apt, which cannot write into a private dir under $HOME.
if [[ $(id -u) -eq 0 ]]; then APT_OPTS+=(-o "APT::Sandbox::User=root"); fi
tree=""
find_tree() { tree=$(find "$SRC_DIR" -mindepth 1 -maxdepth 1 -type d -name 'kubernetes-*' | sort | tail -n1); }
find_tree
if [[ ! -f "$STAMPS/source" || -z "$tree" ]]; then
    step "fetching Debian's kubernetes source package ($SUITE) with a private apt config"
    mkdir -p "$APT_DIR/sources.list.d" "$APT_DIR/lists/partial" "$APT_DIR/cache/archives/partial"
    printf 'deb-src [signed-by=%s] %s %s main\n' "$KEYRING" "$MIRROR" "$SUITE" >"$APT_DIR/sources.list"
    apt-get "${APT_OPTS[@]}" update
    rm -rf "$SRC_DIR"/kubernetes-*
    (cd "$SRC_DIR" && apt-get "${APT_OPTS[@]}" source kubernetes)
    find_tree
    [[ -n "$tree" ]] || die "apt-get source produced no kubernetes-* directory in $SRC_DIR"
    rm -f "$STAMPS/patched" "$STAMPS/built"
    touch "$STAMPS/source"
else
    step "source already unpacked: $tree"
fi

# --- 3. swap the vendored reflect2 1.0.1 (crashes under Go >= 1.18) for Debian's 1.0.2 -----
vend="$tree/vendor/github.com/modern-go/reflect2"
if [[ ! -f "$STAMPS/patched" ]]; then
    step "replacing vendored github.com/modern-go/reflect2 with Debian's 1.0.2"
    [[ -d "$vend" ]] || die "no vendored reflect2 at $vend"
    tmp_license=$(mktemp)
    cp "$vend/LICENSE" "$tmp_license"
    rm -rf "$vend"
    mkdir -p "$vend"
    cp -a "$REFLECT2_DEBIAN/." "$vend/"
    rm -f "$vend/go.mod" "$vend/go.sum"
    cp "$tmp_license" "$vend/LICENSE"
    rm -f "$tmp_license"
    rm -f "$STAMPS/built"
    touch "$STAMPS/patched"
    info "vendor/github.com/modern-go/reflect2: $(find "$vend" -name '*.go' | wc -l) Go files"
else
    step "reflect2 already patched"
fi

# --- 4. build -------------------------------------------------------------------------------
mkdir -p "$GOPATH_DIR/src/k8s.io"
ln -sfn "$tree" "$GOPATH_DIR/src/k8s.io/kubernetes"
upstream_version=$(basename "$tree" | sed -E 's/^kubernetes-//; s/\+.*//')
# Debian versions such as 1.20.5+really1.20.2: the real upstream version is after "really".
if [[ "$(basename "$tree")" =~ really([0-9.]+) ]]; then upstream_version="${BASH_REMATCH[1]}"; fi

export GOPATH="$GOPATH_DIR"
# The Kubernetes build keeps its Go build cache under _output/local/go/cache in the tree.
# Not GOFLAGS: hack/lib/golang.sh turns a GOFLAGS without -tags into a bogus build tag.
export GOPROXY=off GOMAXPROCS="$JOBS" CGO_ENABLED=0
export KUBE_GIT_VERSION="v$upstream_version" KUBE_GIT_TREE_STATE=clean
export KUBE_GIT_MAJOR="${upstream_version%%.*}"
minor="${upstream_version#*.}"
export KUBE_GIT_MINOR="${minor%%.*}"
export KUBE_BUILD_PLATFORMS=linux/amd64
case "$(dpkg --print-architecture)" in
    arm64) KUBE_BUILD_PLATFORMS=linux/arm64 ;;
esac

step "building ${BINARIES[*]} ($KUBE_GIT_VERSION, $JOBS jobs; cold ~10+ min, warm seconds)"
build_start=$SECONDS
what=""
for b in "${BINARIES[@]}"; do what+="cmd/$b "; done
(
    cd "$GOPATH_DIR/src/k8s.io/kubernetes"
    # The Makefile route (hack/make-rules/build.sh) sets up vendoring correctly; a plain
    # `go build -mod=vendor` refuses ("updates to go.mod needed").
    nice -n 5 make WHAT="${what% }"
)
info "build took $((SECONDS - build_start)) s"

# --- 5. install -----------------------------------------------------------------------------
step "installing into $BIN_DIR"
for b in "${BINARIES[@]}"; do
    out=$(find "$tree/_output" -type f -name "$b" -perm -u+x | head -n1)
    [[ -n "$out" ]] || die "build produced no $b under $tree/_output"
    install -m 0755 "$out" "$BIN_DIR/$b.tmp"
    mv -f "$BIN_DIR/$b.tmp" "$BIN_DIR/$b"
    info "$BIN_DIR/$b ($(binary_version "$BIN_DIR/$b"))"
done
touch "$STAMPS/built"
step "done in ${SECONDS} s (build output + cache: $(du -sh "$tree/_output" 2>/dev/null | cut -f1))"
