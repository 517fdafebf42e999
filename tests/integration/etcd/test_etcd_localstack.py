"""The test etcd itself (`jeeves.localstack.etcd`): a restart on ports someone else holds for a
moment waits them out instead of timing out, as the restart tests need."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest

from jeeves.localstack.etcd import EtcdServer

pytestmark = pytest.mark.integration


def test_a_restart_waits_out_a_port_held_elsewhere_for_a_moment(tmp_path: Path) -> None:
    server = EtcdServer(tmp_path / "etcd")
    try:
        server.start()
        server.stop()
        squatter = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        squatter.bind(("127.0.0.1", server.client_port))
        squatter.listen()
        threading.Timer(1.5, squatter.close).start()
        server.start(timeout=60)
        assert server.healthy()
        log = (tmp_path / "etcd.log").read_text(errors="replace")
        assert "address already in use" in log, "the first try should have met the squatter"
    finally:
        server.close()


def test_an_etcd_that_cannot_start_fails_at_once_with_its_log(tmp_path: Path) -> None:
    server = EtcdServer(tmp_path / "etcd")
    (server.data_dir / "member-data").write_text("not a directory")  # etcd refuses it
    # RuntimeError from the exit, not wait_until's TimeoutError after the minute.
    with pytest.raises(RuntimeError, match="exited"):
        server.start(timeout=60)
    server.close()
