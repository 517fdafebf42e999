# mk/k8s.mk — owns the targets of the real Kubernetes API tier for tests (kube-apiserver +
# kube-controller-manager 1.20.2 built from Debian's `kubernetes` source package, cached in
# $(JEEVES_CACHE)/k8s, never in the repository). Included by the top Makefile.

JEEVES_CACHE ?= $(HOME)/.cache/jeeves
K8S_BIN_DIR := $(JEEVES_CACHE)/k8s/bin
K8S_PYTEST ?= .venv/bin/pytest

.PHONY: k8s-apiserver k8s-apiserver-clean test-k8s-apiserver

k8s-apiserver: ## build kube-apiserver + kube-controller-manager 1.20 into ~/.cache/jeeves/k8s (once, ~5-10 min)
	JEEVES_CACHE="$(JEEVES_CACHE)" scripts/k8s/build-apiserver.sh

test-k8s-apiserver: k8s-apiserver ## run the tests against the real kube-apiserver tier
	$(K8S_PYTEST) tests/k8s/apiserver -m k8s

k8s-apiserver-clean: ## remove the cached Kubernetes source, build cache and binaries
	rm -rf "$(JEEVES_CACHE)/k8s"
