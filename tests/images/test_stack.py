"""Every Python service image started the way a cluster would start it, wired as `make dev`
wires the processes, and one message through the whole containerized pipeline.

Real: each `localhost/jeeves-X:<version>` image under podman (read-only root fs, tmpfs /tmp,
UID 10001, no capabilities), PostgreSQL and etcd from `jeeves.localstack`, the migrations and
the token dealer's set-up run from the images themselves, the Slack emulator image as Slack.
Nothing faked. Each service's cold start (`podman run` to its first 200 on /readyz) is measured.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from containers import Container, Podman, figure, imagestore

from jeeves.devstack.plan import DATABASES, SERVICES, Infrastructure, ServiceSpec, build_plan
from jeeves.devstack.seeding import seed_actions
from jeeves.localstack.etcd import EtcdServer
from jeeves.localstack.ports import free_port
from jeeves.localstack.postgres import PostgresServer
from support.services import http_json
from support.slack import SlackEmulator

pytestmark = [pytest.mark.images, pytest.mark.timeout(900)]  # ten cold starts in a row

USER = f"{imagestore.UID}:{imagestore.UID}"
READY_TIMEOUT_S = 60.0


@dataclass
class Stack:
    plan: list[ServiceSpec]
    containers: dict[str, Container]
    data_dir: Path

    def spec(self, name: str) -> ServiceSpec:
        return next(spec for spec in self.plan if spec.name == name)


NAMES = [name for name, _, _ in SERVICES]


def one_shot_commands(spec: ServiceSpec) -> list[list[str]]:
    """What `make dev` runs before starting the service: `migrate`, the dealer's set-up."""
    commands = [[spec.command, "migrate"]] if spec.migrate else []
    if spec.prepare:
        commands.append([spec.command, *spec.prepare])
    return commands


def ref(name: str) -> str:
    return f"{imagestore.REGISTRY}/jeeves-{name}:{imagestore.version()}"


@pytest.fixture(name="stack", scope="module")
def fixture_stack(
    podman: Podman,
    postgres_server: PostgresServer,
    etcd_server: EtcdServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Stack]:
    data_dir = tmp_path_factory.mktemp("stack")
    data_dir.chmod(0o777)  # the containers' user (10001) writes the token dealer's files here
    for database in DATABASES:
        postgres_server.create_database(database)
    ports = {name: free_port() for name in NAMES}
    infra = Infrastructure(postgres_server.port, etcd_server.endpoint, data_dir, ports)
    plan = build_plan(infra, ports)
    asyncio.run(seed_actions(infra, plan))
    volume = f"{data_dir}:{data_dir}"
    containers: dict[str, Container] = {}
    try:
        for spec in plan:
            env = {**spec.env, "JEEVES_BIND": f"127.0.0.1:{spec.port}"}
            image = ref(spec.name)
            for argv in one_shot_commands(spec):
                done = podman.run_once(image, *argv, env=env, user=USER, volumes=[volume])
                assert done.returncode == 0, f"{' '.join(argv)} in {image}: {done.stderr}"
            container = podman.start(image, env=env, user=USER, volumes=[volume], label=spec.name)
            containers[spec.name] = container
            ready = container.wait_ready(spec.url + "/readyz", timeout=READY_TIMEOUT_S)
            figure(f"jeeves-{spec.name}", ready_s=ready, probe="/readyz")
        yield Stack(plan, containers, data_dir)
    finally:
        for container in reversed(list(containers.values())):
            container.remove()


@pytest.mark.parametrize("name", NAMES)
def test_each_service_serves_its_endpoints_from_a_read_only_image(
    stack: Stack, podman: Podman, name: str
) -> None:
    container = stack.containers[name]
    url = stack.spec(name).url
    with urllib.request.urlopen(url + "/healthz", timeout=5) as response:
        assert response.status == 200
    with urllib.request.urlopen(url + "/metrics", timeout=5) as response:
        assert b"# TYPE" in response.read()
    assert container.ready_after is not None
    assert container.ready_after < READY_TIMEOUT_S
    whoami = podman("exec", container.name, "id", "-u").stdout.strip()
    assert whoami == str(imagestore.UID)
    denied = podman("exec", container.name, "touch", "/opt/jeeves/x", check=False)
    assert denied.returncode != 0, "the root file system is read-only"
    assert podman("exec", container.name, "touch", "/tmp/x", check=False).returncode == 0


def test_a_message_goes_through_the_containerized_pipeline(stack: Stack) -> None:
    slack = SlackEmulator(stack.spec("slack-emulator").url)
    channel = "C0IMAGES"
    since = time.time()
    slack.send_mention("echo hello from the images", channel=channel)
    messages = slack.wait_for_messages(1, channel=channel, timeout=30, since=since)
    assert [m["text"] for m in messages] == ["hello from the images"]


def test_the_dashboard_image_serves_its_built_frontend(stack: Stack) -> None:
    url = stack.spec("dashboard").url
    with urllib.request.urlopen(url + "/", timeout=5) as response:
        page = response.read().decode()
        assert response.status == 200, "503 would mean the frontend is missing from the image"
    (asset,) = re.findall(r'src="(/assets/[^"]+\.js)"', page)
    with urllib.request.urlopen(url + asset, timeout=5) as response:
        assert response.status == 200
        assert len(response.read()) > 10_000


def test_services_stop_cleanly_on_the_image_stop_signal(stack: Stack) -> None:
    """Last in this module: SIGTERM (the images' STOPSIGNAL) ends every service with 0."""
    codes = {}
    for name in reversed(NAMES):
        started = time.monotonic()
        codes[name] = stack.containers[name].stop(timeout=20)
        assert time.monotonic() - started < 20, f"{name} ignored SIGTERM until SIGKILL"
    assert codes == dict.fromkeys(codes, 0), codes
    assert os.listdir(stack.data_dir), "the token dealer's files were written by the image"


def test_the_dice_image_answers_a_roll(podman: Podman) -> None:
    """The sample action of the cluster test, alone: nothing it depends on."""
    port = free_port()
    container = podman.start(
        ref("dice"), env={"JEEVES_BIND": f"127.0.0.1:{port}"}, user=USER, label="dice"
    )
    try:
        url = f"http://127.0.0.1:{port}"
        figure("jeeves-dice", ready_s=container.wait_ready(url + "/readyz"), probe="/readyz")
        envelope = {
            "id": "roll-1",
            "action": "dice",
            "text": "2d6",
            "user": {"slack_id": "U0ALICE", "team_id": "T0TEAM"},
            "channel": "C0IMAGES",
        }
        status, answer = http_json("POST", url + "/v1/act", envelope)
        assert status == 200
        assert answer["reply"]["text"].startswith(":game_die: 2d6: ")
        assert container.stop() == 0
    finally:
        container.remove()
