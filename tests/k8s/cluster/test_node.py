"""The node itself, through public interfaces only (kubectl, a NodePort relay): Pods really run,
Services and cluster DNS resolve, a PersistentVolumeClaim is provisioned, and nothing of the node
shows on the host's iptables or mount table while it runs. Test image: Debian's busybox-static
(kubenode.oci.build_busybox). The session fixture checks the tear-down.
"""

from __future__ import annotations

import json
import textwrap
import time
import urllib.request
from pathlib import Path

import pytest

from kubenode import host, oci
from kubenode import node as kubenode
from kubenode.node import Node

pytestmark = pytest.mark.cluster

WEB = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: site}
data: {index.html: "hello from the node"}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      securityContext: {runAsUser: 10001, runAsGroup: 10001, runAsNonRoot: true}
      containers:
      - name: web
        image: %(image)s
        imagePullPolicy: Never
        command: [/bin/httpd, -f, -p, "8080", -h, /www]
        ports: [{name: http, containerPort: 8080}]
        readinessProbe: {httpGet: {path: /index.html, port: http}, periodSeconds: 1}
        securityContext:
          readOnlyRootFilesystem: true
          allowPrivilegeEscalation: false
          capabilities: {drop: [ALL]}
        volumeMounts: [{name: site, mountPath: /www}]
      volumes: [{name: site, configMap: {name: site}}]
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  type: NodePort
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: http}]
"""

CLIENT = """\
apiVersion: batch/v1
kind: Job
metadata: {name: client}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: client
        image: %(image)s
        imagePullPolicy: Never
        command:
        - /bin/sh
        - -c
        - |
          for i in $(seq 60); do
            timeout 3 wget -q -O - http://web.%(ns)s.svc.cluster.local/index.html && exit 0
            sleep 0.5
          done
          exit 1
"""

CLAIM = """\
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 64Mi}}
---
apiVersion: batch/v1
kind: Job
metadata: {name: writer}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      securityContext: {runAsUser: 10001}
      containers:
      - name: writer
        image: %(image)s
        imagePullPolicy: Never
        command: [/bin/sh, -c, "echo persisted > /data/proof && cat /data/proof"]
        volumeMounts: [{name: data, mountPath: /data}]
      volumes: [{name: data, persistentVolumeClaim: {claimName: data}}]
"""


@pytest.fixture(name="busybox", scope="module")
def fixture_busybox(node: Node) -> str:
    archive = oci.build_busybox(kubenode.cache_dir() / "images")
    node.import_images([archive])
    return oci.BUSYBOX_IMAGE


def _apply(node: Node, namespace: str, manifest: str) -> None:
    node.kubectl("apply", "-n", namespace, "-f", "-", input=manifest)


def test_a_pod_serves_a_service_reached_by_its_dns_name(
    node: Node, namespace: str, busybox: str
) -> None:
    _apply(node, namespace, WEB % {"image": busybox})
    node.kubectl("rollout", "status", "-n", namespace, "deployment/web", "--timeout=120s")
    _apply(node, namespace, CLIENT % {"image": busybox, "ns": namespace})
    node.kubectl(
        "wait", "-n", namespace, "--for=condition=complete", "job/client", "--timeout=120s"
    )
    logs = node.kubectl("logs", "-n", namespace, "job/client").stdout
    assert "hello from the node" in logs


def test_a_nodeport_is_reachable_from_the_host_through_a_relay(
    node: Node, namespace: str, busybox: str
) -> None:
    _apply(node, namespace, WEB % {"image": busybox})
    node.kubectl("rollout", "status", "-n", namespace, "deployment/web", "--timeout=120s")
    service = json.loads(node.kubectl("get", "-n", namespace, "service/web", "-o", "json").stdout)
    port = node.relay(int(service["spec"]["ports"][0]["nodePort"]), name="web")
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/index.html", timeout=3) as reply:
                assert reply.read() == b"hello from the node"
                break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_a_claim_gets_a_volume_a_pod_writes_to(node: Node, namespace: str, busybox: str) -> None:
    _apply(node, namespace, CLAIM % {"image": busybox})
    node.kubectl(
        "wait", "-n", namespace, "--for=condition=complete", "job/writer", "--timeout=120s"
    )
    claim = json.loads(node.kubectl("get", "-n", namespace, "pvc/data", "-o", "json").stdout)
    assert claim["status"]["phase"] == "Bound"
    volume = json.loads(node.kubectl("get", "pv", claim["spec"]["volumeName"], "-o", "json").stdout)
    assert Path(volume["spec"]["hostPath"]["path"], "proof").read_text() == "persisted\n"


def test_the_node_leaves_no_trace_on_the_hosts_iptables_or_mounts(node: Node) -> None:
    """kube-proxy and CNI wrote their rules (inside the node) and the host has none of them."""
    spec = node.state.spec
    inside = host.run([*host.nsenter(node.state.holder_pid), "iptables-save"]).stdout
    assert "KUBE-SERVICES" in inside
    assert host.host_iptables_mentions(host.node_signatures(spec)) == []
    assert host.host_mounts_under(node.layout.run_dir) == []
    mounts_inside = host.run(
        [*host.nsenter(node.state.holder_pid), "cat", "/proc/self/mountinfo"]
    ).stdout
    assert str(node.layout.run_dir) in mounts_inside, textwrap.shorten(mounts_inside, 300)
