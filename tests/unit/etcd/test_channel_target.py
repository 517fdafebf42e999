"""The gRPC target built for JEEVES_ETCD_ENDPOINTS (etcd3aio alone only takes addresses, so a
Kubernetes Service name failed with "invalid ipv4 address" in the cluster). Pure; the client is
built, never connected.
"""

from __future__ import annotations

import pytest

from jeeves.kit.etcd import channel_target, make_client, parse_endpoints

pytestmark = pytest.mark.unit


def test_addresses_keep_the_ipv4_list() -> None:
    endpoints = parse_endpoints("127.0.0.1:2379,10.0.0.7:2379")
    assert channel_target(endpoints) == "ipv4:127.0.0.1:2379,10.0.0.7:2379"


def test_localhost_is_an_address() -> None:
    assert channel_target([("localhost", 2379)]) == "ipv4:127.0.0.1:2379"


def test_one_service_name_is_resolved_by_grpc_dns() -> None:
    endpoints = parse_endpoints("http://jeeves-etcd.jeeves.svc:2379")
    assert channel_target(endpoints) == "dns:///jeeves-etcd.jeeves.svc:2379"


def test_several_names_are_refused_with_a_reason() -> None:
    with pytest.raises(ValueError, match="one DNS name only"):
        channel_target(parse_endpoints("etcd-0.etcd:2379,etcd-1.etcd:2379"))


def test_the_client_connects_to_that_target() -> None:
    client = make_client("jeeves-etcd.jeeves.svc:2379")
    assert client._manager.target == "dns:///jeeves-etcd.jeeves.svc:2379"
