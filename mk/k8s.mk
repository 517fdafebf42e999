# mk/k8s.mk — owns the targets of the real Kubernetes tiers for tests: the Kubernetes 1.20.2
# binaries built once from Debian's `kubernetes` source package (cached in $(JEEVES_CACHE)/k8s,
# never in the repository), the API-server tier and the one-node cluster (scripts/k8s/kubenode).
# Included by the top Makefile. See docs/testing-kubernetes.md.

JEEVES_CACHE ?= $(HOME)/.cache/jeeves
K8S_BIN_DIR := $(JEEVES_CACHE)/k8s/bin
K8S_PYTEST ?= .venv/bin/pytest
KUBENODE := PYTHONPATH=scripts/k8s .venv/bin/python -m kubenode

.PHONY: k8s-binaries k8s-apiserver k8s-clean k8s-apiserver-clean test-k8s-apiserver \
	k8s-node-deps k8s-node-images k8s-node-up k8s-node-down test-cluster

k8s-binaries: ## build kube-apiserver, -controller-manager, -scheduler, kubelet, kube-proxy, kubectl 1.20 into ~/.cache/jeeves/k8s (once, ~20 min cold)
	JEEVES_CACHE="$(JEEVES_CACHE)" scripts/k8s/build-binaries.sh

k8s-apiserver: k8s-binaries ## (old name of k8s-binaries)

test-k8s-apiserver: k8s-binaries ## run the tests against the real kube-apiserver tier
	$(K8S_PYTEST) tests/k8s/apiserver -m k8s

k8s-node-deps: ## install the node's Debian packages (containerd, runc, CNI plugins, iptables, conntrack, socat, dnsmasq, busybox-static)
	@scripts/k8s/install-node-deps.sh

k8s-node-images: k8s-binaries k8s-node-deps ## build the node's own images (pause from Kubernetes' pause.c, busybox) into the cache
	@$(KUBENODE) images

k8s-node-up: k8s-node-images ## start a one-node cluster in its own network namespace, leave it running (KUBECONFIG printed)
	@$(KUBENODE) up $(foreach a,$(wildcard $(JEEVES_CACHE)/images/jeeves-*.tar),--image $(a))

k8s-node-down: ## tear the one-node cluster of k8s-node-up down and check nothing is left
	@$(KUBENODE) down

test-cluster: k8s-node-images ## the whole stack on a real one-node Kubernetes (images + charts; slow, own tier)
	$(K8S_PYTEST) tests/k8s/cluster -m cluster -p no:cacheprovider

k8s-clean: ## remove the cached Kubernetes source, build cache, binaries and node images
	rm -rf "$(JEEVES_CACHE)/k8s"

k8s-apiserver-clean: k8s-clean ## (old name of k8s-clean)
