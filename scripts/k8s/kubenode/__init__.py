"""A real one-node Kubernetes 1.20 on this machine, isolated in its own network namespace.

Owns bringing the node up and down for `make test-cluster` and for people (`python -m kubenode up
| down | status | images`): etcd, kube-apiserver, kube-controller-manager, kube-scheduler,
kubelet, kube-proxy (built by `make k8s-binaries`), containerd + runc + CNI bridge, dnsmasq as
cluster DNS, a small node agent (DNS records from Services, hostPath volumes for PVCs), and one
relay that makes the API server reachable on a random 127.0.0.1 port.

Modules, pure ones first: `spec` (addresses, names, paths of one node), `pki` (certificates),
`render` (every configuration file and command line, from a spec), `dns` and `volumes` (what the
agent derives from API objects), `oci` (OCI image archives: the pause image, test images);
then the I/O: `host` (namespaces, veth, cgroups, mounts), `api` (a tiny API client), `agent`
(the node agent process), `node` (up/down with timings) and `cli`.
See docs/testing-kubernetes.md.
"""
