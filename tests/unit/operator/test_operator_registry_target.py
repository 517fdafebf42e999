"""The operator's gRPC target for its etcd endpoints (a Service name must work, as in the
cluster: etcd3aio alone builds an `ipv4:` target gRPC refuses for names). Pure.
"""

from __future__ import annotations

import pytest

from jeeves_operator.registry import channel_target

pytestmark = pytest.mark.unit


def test_addresses_keep_the_ipv4_list() -> None:
    assert channel_target(["127.0.0.1:2379", "localhost:2380"]) == (
        "ipv4:127.0.0.1:2379,127.0.0.1:2380"
    )


def test_one_service_name_uses_grpc_dns() -> None:
    assert channel_target(["jeeves-etcd.jeeves.svc:2379"]) == "dns:///jeeves-etcd.jeeves.svc:2379"


def test_several_names_are_refused() -> None:
    with pytest.raises(ValueError, match="IPv4 addresses"):
        channel_target(["a.etcd:2379", "b.etcd:2379"])
