"""The real Kubernetes API tier tests (kube-apiserver + kube-controller-manager + etcd)."""
