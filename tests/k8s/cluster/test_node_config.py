"""The pure parts of the one-node cluster (scripts/k8s/kubenode): addresses, rendered
configuration, DNS records, volume provisioning decisions and OCI archives. Nothing runs.
"""

from __future__ import annotations

import hashlib
import io
import ipaddress
import json
import tarfile
import tomllib
from pathlib import Path

import pytest

from kubenode import dns, node, oci, render, volumes
from kubenode.spec import PAUSE_IMAGE, POD_CIDR, Layout, NodeSpec, link_network

pytestmark = pytest.mark.unit

SPEC = NodeSpec("a1b2c3", link_network(5))
LAYOUT = Layout(Path("/tmp/jeeves-node-a1b2c3"))
BINARIES = render.Binaries(
    kube={name: Path(f"/cache/bin/{name}") for name in render.KUBE_BINARIES},
    etcd=Path("/venv/bin/etcd"),
    python=Path("/venv/bin/python"),
)


def test_link_networks_are_disjoint_thirties_of_the_pool() -> None:
    first, second = link_network(0), link_network(1)
    assert (str(first), str(second)) == ("10.213.0.0/30", "10.213.0.4/30")
    assert not first.overlaps(second)
    assert (SPEC.host_ip, SPEC.node_ip) == ("10.213.0.21", "10.213.0.22")
    with pytest.raises(ValueError, match="outside"):
        link_network(16384)


def test_names_carry_the_node_id_and_fit_an_interface_name() -> None:
    assert SPEC.cgroup == "jeeves-node-a1b2c3"
    assert SPEC.veth_host == "jvna1b2c3"
    assert len(SPEC.veth_host) <= 15
    assert (SPEC.apiserver_service_ip, SPEC.dns_ip) == ("10.96.0.1", "10.96.0.10")


def test_choose_link_avoids_every_host_network() -> None:
    taken = [str(link_network(i)) for i in range(16384) if i != 77] + ["192.0.2.0/24"]
    assert node.choose_link(taken) == link_network(77)


def test_choose_link_ignores_the_default_route() -> None:
    chosen = node.choose_link(["0.0.0.0/0", "default"])
    assert chosen.subnet_of(ipaddress.IPv4Network("10.213.0.0/16"))


def test_containerd_config_keeps_everything_in_the_run_dir() -> None:
    config = tomllib.loads(render.containerd_config(LAYOUT, BINARIES))
    cri = config["plugins"]["io.containerd.grpc.v1.cri"]
    assert cri["restrict_oom_score_adj"] is True  # root lacks CAP_SYS_RESOURCE here
    assert cri["netns_mounts_under_state_dir"] is True
    assert cri["sandbox_image"] == PAUSE_IMAGE
    assert cri["cni"]["conf_dir"].startswith(str(LAYOUT.run_dir))
    for path in (config["root"], config["state"], config["grpc"]["address"]):
        assert path.startswith(str(LAYOUT.run_dir) + "/")
    assert len(config["grpc"]["address"]) < 108  # unix socket path limit
    runc = cri["containerd"]["runtimes"]["runc"]
    assert runc["options"]["SystemdCgroup"] is False


def test_cni_keeps_ipam_state_in_the_run_dir() -> None:
    bridge, portmap = render.cni_conflist(LAYOUT)["plugins"]
    assert bridge["ipam"]["ranges"] == [[{"subnet": str(POD_CIDR)}]]
    assert bridge["ipam"]["dataDir"].startswith(str(LAYOUT.run_dir))
    assert portmap["type"] == "portmap"


def test_kubelet_runs_under_the_nodes_cgroup_and_never_collects_images() -> None:
    config = render.kubelet_config(SPEC, LAYOUT, render.Pki(LAYOUT.pki))
    assert config["cgroupDriver"] == "cgroupfs"
    assert config["cgroupRoot"] == f"/{SPEC.cgroup}"
    assert config["imageGCHighThresholdPercent"] == 100
    assert config["clusterDNS"] == [SPEC.dns_ip]
    assert config["authentication"]["anonymous"]["enabled"] is False
    assert config["volumePluginDir"].startswith(str(LAYOUT.run_dir))


def test_kube_proxy_leaves_host_wide_conntrack_settings_alone() -> None:
    config = render.kube_proxy_config(LAYOUT)
    assert config["conntrack"]["maxPerCore"] == 0
    assert config["conntrack"]["min"] == 0
    assert config["mode"] == "iptables"


def test_components_in_dependency_order_and_only_the_relay_on_the_host() -> None:
    parts = render.components(SPEC, LAYOUT, BINARIES, relay_port=40123)
    names = [part.name for part in parts]
    assert names.index("etcd") < names.index("kube-apiserver") < names.index("kubelet")
    assert [part.name for part in parts if part.where == "host"] == ["relay"]
    argv = {part.name: part.argv for part in parts}
    assert "--use-service-account-credentials=true" in argv["kube-controller-manager"]
    assert f"--advertise-address={SPEC.node_ip}" in argv["kube-apiserver"]
    assert "TCP-LISTEN:40123,bind=127.0.0.1,reuseaddr,fork" in argv["relay"]
    assert f"TCP:{SPEC.node_ip}:6443" in argv["relay"]
    assert f"--listen-address={SPEC.node_ip}" in argv["dnsmasq"]


def test_apiserver_certificate_names_cover_every_way_to_reach_it() -> None:
    names = render.server_names(SPEC, "apiserver")
    for name in (SPEC.node_ip, "10.96.0.1", "127.0.0.1", "kubernetes.default.svc.cluster.local"):
        assert name in names
    assert render.server_names(SPEC, "admin") == []


def test_kubeconfig_embeds_certificates() -> None:
    text = render.kubeconfig(
        server="https://127.0.0.1:1", ca_pem=b"CA", cert_pem=b"C", key_pem=b"K", user="u"
    )
    config = json.loads(text)
    assert config["clusters"][0]["cluster"]["certificate-authority-data"] == "Q0E="
    assert config["users"][0]["name"] == "u"


def test_kube_dns_is_a_selectorless_service_at_the_dns_address() -> None:
    service, endpoints = render.kube_dns_objects(SPEC)
    assert service["spec"]["clusterIP"] == SPEC.dns_ip
    assert "selector" not in service["spec"]
    assert endpoints["subsets"][0]["addresses"] == [{"ip": SPEC.node_ip}]


# --- DNS records -----------------------------------------------------------------------------


def _service(name: str, cluster_ip: str, kind: str = "ClusterIP") -> dict[str, object]:
    return {
        "metadata": {"namespace": "jeeves", "name": name},
        "spec": {"clusterIP": cluster_ip, "type": kind},
    }


def test_dns_records_for_cluster_ip_headless_and_statefulset_pods() -> None:
    services = [
        _service("jeeves-gateway", "10.96.0.20"),
        _service("jeeves-postgres-hl", "None"),
        _service("external", "", "ExternalName"),
    ]
    endpoints = [
        {
            "metadata": {"namespace": "jeeves", "name": "jeeves-postgres-hl"},
            "subsets": [
                {
                    "addresses": [{"ip": "10.244.0.7", "hostname": "jeeves-postgres-0"}],
                    "notReadyAddresses": [{"ip": "10.244.0.8"}],
                }
            ],
        },
        {"metadata": {"namespace": "jeeves", "name": "jeeves-gateway"}, "subsets": []},
    ]
    assert dns.records(services, endpoints) == [
        ("10.244.0.7", "jeeves-postgres-0.jeeves-postgres-hl.jeeves.svc.cluster.local"),
        ("10.244.0.7", "jeeves-postgres-hl.jeeves.svc.cluster.local"),
        ("10.96.0.20", "jeeves-gateway.jeeves.svc.cluster.local"),
    ]


def test_hosts_file_lists_one_record_a_line() -> None:
    text = dns.hosts_file([("10.96.0.20", "a.b.svc.cluster.local")])
    assert text.splitlines()[1:] == ["10.96.0.20 a.b.svc.cluster.local"]
    assert dns.hosts_file([]).count("\n") == 1


# --- volumes ---------------------------------------------------------------------------------


def _claim(name: str, *, cls: str = volumes.CLASS_NAME, bound: str = "") -> dict[str, object]:
    return {
        "metadata": {"namespace": "jeeves", "name": name, "uid": f"uid-{name}-0123456789"},
        "spec": {
            "storageClassName": cls,
            "volumeName": bound,
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": "1Gi"}},
        },
        "status": {"phase": "Bound" if bound else "Pending"},
    }


def test_a_pending_claim_of_our_class_gets_a_prebound_hostpath_volume() -> None:
    root = Path("/run/vols")
    created = volumes.to_create(
        [_claim("data"), _claim("other", cls="gp2"), _claim("done", bound="pv-1")], [], root
    )
    assert [v["metadata"]["name"] for v in created] == ["pvc-uid-data-0123456789"]
    volume = created[0]
    assert volume["spec"]["claimRef"]["uid"] == "uid-data-0123456789"
    assert volume["spec"]["capacity"] == {"storage": "1Gi"}
    assert volume["spec"]["hostPath"]["path"] == "/run/vols/jeeves-data-uid-data"


def test_a_claim_is_provisioned_once() -> None:
    claim = _claim("data")
    first = volumes.to_create([claim], [], Path("/v"))
    assert volumes.to_create([claim], first, Path("/v")) == []


def test_only_our_released_volumes_are_deleted() -> None:
    ours = {"pv.kubernetes.io/provisioned-by": render.PROVISIONER}
    listed = [
        {"metadata": {"name": "a", "annotations": ours}, "status": {"phase": "Released"}},
        {"metadata": {"name": "b", "annotations": ours}, "status": {"phase": "Bound"}},
        {"metadata": {"name": "c", "annotations": {}}, "status": {"phase": "Released"}},
    ]
    assert volumes.to_delete(listed) == ["a"]


# --- OCI archives ----------------------------------------------------------------------------


def _members(archive: bytes) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        return {
            m.name: tar.extractfile(m).read()  # type: ignore[union-attr]
            for m in tar.getmembers()
            if m.isfile()
        }


def test_oci_archive_is_a_valid_named_layout_with_matching_digests() -> None:
    entries = [oci.Entry("bin", kind="dir", mode=0o755), oci.Entry("bin/x", b"#!", mode=0o755)]
    archive = oci.image_archive("localhost/x:1.0", entries, oci.ImageConfig(cmd=["/bin/x"]))
    files = _members(archive)
    index = json.loads(files["index.json"])
    descriptor = index["manifests"][0]
    assert descriptor["annotations"]["io.containerd.image.name"] == "localhost/x:1.0"
    assert descriptor["annotations"]["org.opencontainers.image.ref.name"] == "1.0"
    for blob_name, data in files.items():
        if blob_name.startswith("blobs/sha256/"):
            assert hashlib.sha256(data).hexdigest() == blob_name.rsplit("/", 1)[1]
    manifest = json.loads(files[f"blobs/sha256/{descriptor['digest'].split(':')[1]}"])
    config = json.loads(files[f"blobs/sha256/{manifest['config']['digest'].split(':')[1]}"])
    assert config["config"]["Cmd"] == ["/bin/x"]
    layer = files[f"blobs/sha256/{manifest['layers'][0]['digest'].split(':')[1]}"]
    assert config["rootfs"]["diff_ids"] == [manifest["layers"][0]["digest"]]
    assert _members(layer) == {"bin/x": b"#!"}


def test_oci_archive_is_deterministic() -> None:
    entries = [oci.Entry("f", b"data")]
    first = oci.image_archive("localhost/y:2", entries, oci.ImageConfig())
    assert first == oci.image_archive("localhost/y:2", entries, oci.ImageConfig())


def test_merged_archives_hold_every_image_and_each_blob_once(tmp_path: Path) -> None:
    entries = [oci.Entry("lib/big", b"x" * 4096)]  # the same content: every blob is shared
    paths = []
    for name in ("one", "two"):
        paths.append(tmp_path / f"{name}.tar")
        paths[-1].write_bytes(oci.image_archive(f"localhost/{name}:1", entries, oci.ImageConfig()))
    names = oci.merge_archives(paths, tmp_path / "merged.tar")
    assert names == ["localhost/one:1", "localhost/two:1"]
    merged = _members((tmp_path / "merged.tar").read_bytes())
    index = json.loads(merged["index.json"])
    assert [m["annotations"]["io.containerd.image.name"] for m in index["manifests"]] == names
    blobs = {n for n in merged if n.startswith("blobs/")}
    assert blobs == {n for n in _members(paths[0].read_bytes()) if n.startswith("blobs/")}
    assert len(blobs) == 3  # layer, config, manifest: once, not twice
    for blob in blobs:
        assert hashlib.sha256(merged[blob]).hexdigest() == blob.rsplit("/", 1)[1]
    assert oci.is_oci_archive(tmp_path / "merged.tar")
