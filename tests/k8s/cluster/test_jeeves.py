"""The whole Jeeves stack on a real one-node Kubernetes, installed from its images and charts and
driven only through public interfaces: kubectl, Helm (the charts' engine), and the Slack
emulator's control API (a NodePort relayed to 127.0.0.1), sending as a person.

Real: every image (`make images`), both charts, the node. In-cluster stand-ins for what cannot
run here: the Slack and weather emulators. The tests run in file order on one installation
(module fixture `stack`): Ready → messages → a new action → upgrade → uninstall.
"""

from __future__ import annotations

import http.client
import json
import re
import sys
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.error import URLError

import pytest

from kubenode.node import Node
from support.slack import SlackEmulator

from .jeeves_stack import (
    ACTIONS,
    EMULATORS,
    MIGRATED,
    NAMESPACE,
    OPERATOR_NAMESPACE,
    PLATFORM,
    REPO,
    SERVICES,
    STATEFUL,
    Stack,
    image_archives,
    images_dir,
    job_complete,
    pod_ready,
    wait_until,
)

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(1800)]

REPLY_TIMEOUT = 60.0


def fresh_channel() -> str:
    return f"C0{uuid.uuid4().hex[:10].upper()}"


RELAY_ERRORS = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError, URLError)
RELAY_PATIENCE_S = 60.0


def mention(slack: SlackEmulator, text: str, channel: str, user: str = "U0ALICE") -> None:
    """Send a mention through the host's socat relay to the emulator's NodePort.

    The relay closes a connection without a response when its own connect to the NodePort
    fails, which happens for a while after kube-proxy rewrites its rules for a new Service (an
    action applied). The emulator never got such a request, so it is sent again, for up to a
    minute; a duplicate would still fail the exactly-once tests.
    """
    deadline = time.monotonic() + RELAY_PATIENCE_S
    while True:
        try:
            slack.send_mention(text, channel=channel, user=user)
            return
        except RELAY_ERRORS as exc:
            if time.monotonic() > deadline:
                raise
            print(f"[stack] relay dropped {text!r} ({exc!r}); sending it again", file=sys.stderr)
            time.sleep(2)


def ask(slack: SlackEmulator, text: str, channel: str, user: str = "U0ALICE") -> dict[str, Any]:
    """Mention the bot as `user` and return its one reply in `channel`."""
    since = time.time()
    mention(slack, text, channel=channel, user=user)
    [reply] = slack.wait_for_messages(1, channel=channel, since=since, timeout=REPLY_TIMEOUT)
    return reply


@pytest.fixture(name="stack", scope="module")
def fixture_stack(node: Node, say: Callable[[str], None], timings: dict[str, float]) -> Stack:
    """Images imported, both charts installed, every workload Ready, the first reply seen."""
    archives, missing = image_archives()
    if missing:
        pytest.fail(
            f"image archives missing in {images_dir()}: {', '.join(missing)}: run `make images`",
            pytrace=False,
        )
    stack = Stack(node)
    say(f"[stack] importing {len(archives)} images")
    timings["images loaded"] = node.import_images(archives, log=say)
    say(f"[stack] images loaded in {timings['images loaded']:.1f}s; installing both charts")
    t0 = time.monotonic()
    stack.install()
    expected = {f"deployment/jeeves-{name}" for name in (*PLATFORM, *ACTIONS)}
    expected |= {f"statefulset/jeeves-{name}" for name in STATEFUL}

    def all_there() -> bool:
        present = {f"deployment/{d['metadata']['name']}" for d in stack.get("deployments")}
        present |= {f"statefulset/{s['metadata']['name']}" for s in stack.get("statefulsets")}
        return expected <= present

    wait_until(all_there, timeout=300, what=f"{sorted(expected)} to exist")
    stack.wait_all_ready([OPERATOR_NAMESPACE, NAMESPACE], timeout=600)
    timings["install to all-Ready"] = time.monotonic() - t0
    say(f"[stack] all Ready {timings['install to all-Ready']:.1f}s after helm install began")
    slack = stack.connect_slack()
    try:
        reply = ask(slack, "echo first light", fresh_channel())
    except (TimeoutError, OSError) as error:
        raise AssertionError(
            f"no reply to the first message ({type(error).__name__}: {error}); "
            f"the gateway's deliveries: {stack.delivery_statuses()}\n"
            f"{stack.diagnose([NAMESPACE])}"
        ) from None
    assert reply["text"] == "first light"
    timings["install to first reply"] = time.monotonic() - t0
    say(f"[stack] first reply {timings['install to first reply']:.1f}s after install began")
    memory = node.memory_mib()
    say("[stack] memory (MiB): " + ", ".join(f"{k} {v:.0f}" for k, v in sorted(memory.items())))
    return stack


def test_every_platform_pod_is_ready_and_the_migrations_completed(stack: Stack) -> None:
    # Polled, not asserted at one instant: a probe may miss on a loaded 2-core machine.
    stack.wait_all_ready([OPERATOR_NAMESPACE, NAMESPACE], timeout=120)
    for name in (*PLATFORM, *ACTIONS, *STATEFUL):
        pods = stack.pods(NAMESPACE, f"app.kubernetes.io/name=jeeves-{name}")
        assert pods, f"no Pod of jeeves-{name}"
        assert all(p["status"]["phase"] == "Running" for p in pods), f"jeeves-{name} not running"
    [operator] = stack.pods(OPERATOR_NAMESPACE, "app.kubernetes.io/name=jeeves-operator")
    assert pod_ready(operator)
    jobs = {j["metadata"]["name"]: j for j in stack.get("jobs")}
    for name in MIGRATED:
        job = jobs[f"jeeves-{name}-migrate-install"]
        assert job_complete(job), f"{name}'s migration Job did not complete"


def test_actions_run_in_pods_the_operator_created(stack: Stack) -> None:
    for name in ACTIONS:
        [deployment] = [
            d for d in stack.get("deployments") if d["metadata"]["name"] == f"jeeves-{name}"
        ]
        [owner] = deployment["metadata"]["ownerReferences"]
        assert (owner["kind"], owner["name"]) == ("JeevesAction", name)
        action = json.loads(stack.node.kubectl("get", "ja", name, "-n", NAMESPACE,
                                               "-o", "json").stdout)  # fmt: skip
        conditions = {c["type"]: c["status"] for c in action["status"]["conditions"]}
        assert conditions.get("Ready") == "True", conditions


def test_a_message_reaches_each_action_and_each_reply_is_posted_once(stack: Stack) -> None:
    assert stack.slack is not None
    slack, channel, user = stack.slack, fresh_channel(), "U0CLUSTER1"
    assert ask(slack, "echo hello from the cluster", channel, user)["text"] == (
        "hello from the cluster"
    )
    assert "Porto" in ask(slack, "remember my location is Porto", channel, user)["text"]
    assert ask(slack, "weather", channel, user)["text"].startswith("Porto")
    assert ask(slack, "weather in Lisbon", channel, user)["text"].startswith("Lisbon")
    # A last message through the same queue and channel; once its reply is there, nothing
    # sent earlier may show up a second time.
    assert ask(slack, "echo the end", channel, user)["text"] == "the end"
    posted = slack.messages(channel)
    assert len(posted) == 5, [m["text"] for m in posted]
    sent = slack.messages(channel, source="user")
    assert len(sent) == 5
    for event in slack.deliveries():
        if event["summary"].get("channel") == channel:
            assert event["acked"], event


def _help(slack: SlackEmulator, channel: str) -> str:
    return str(ask(slack, "help", channel)["text"])


def test_a_new_action_is_applied_listed_used_and_removed(
    stack: Stack, timings: dict[str, float]
) -> None:
    assert stack.slack is not None
    slack, channel = stack.slack, fresh_channel()
    sample = REPO / "manifests" / "samples" / "dice.yaml"
    assert "*roll*" not in _help(slack, channel)
    t0 = time.monotonic()
    stack.node.kubectl("apply", "-n", NAMESPACE, "-f", str(sample))
    wait_until(
        lambda: "*roll*" in _help(slack, channel),
        timeout=60,
        what="help to list roll",
        every=1.0,
    )
    timings["dice listed in help after apply"] = time.monotonic() - t0
    wait_until(
        lambda: [
            p for p in stack.pods(NAMESPACE, "app.kubernetes.io/name=jeeves-dice") if pod_ready(p)
        ],
        timeout=180,
        what="the dice Pod to run and be Ready",
    )
    timings["dice Pod Ready after apply"] = time.monotonic() - t0
    rolled = ask(slack, "roll 2d6", channel)["text"]
    assert re.search(r"2d6: \d \+ \d = \*\d+\*", rolled), rolled
    stack.node.kubectl("delete", "-n", NAMESPACE, "-f", str(sample), "--wait=true")
    wait_until(
        lambda: "*roll*" not in _help(slack, channel),
        timeout=60,
        what="help to stop listing roll",
        every=1.0,
    )
    wait_until(
        lambda: not stack.pods(NAMESPACE, "app.kubernetes.io/name=jeeves-dice"),
        timeout=120,
        what="the dice Pods to go",
    )


def test_helm_upgrade_rolls_every_deployment_without_losing_a_message(
    stack: Stack, timings: dict[str, float]
) -> None:
    """A changed value (a Pod annotation) rolls every service while a person keeps writing.

    The emulators are left alone: the Slack emulator stands in for Slack, whose memory of what
    was sent and posted must outlive the upgrade for the count to mean anything.
    """
    assert stack.slack is not None
    slack, channel = stack.slack, fresh_channel()
    generation = {
        d["metadata"]["name"]: d["metadata"]["generation"] for d in stack.get("deployments")
    }
    changed = {
        f"jeeves-{name}": {"podAnnotations": {"jeeves.dev/rollout": "2"}} for name in SERVICES
    }
    errors: list[BaseException] = []

    def upgrade() -> None:
        try:
            stack.upgrade(changed)
        except BaseException as error:  # reported below
            errors.append(error)

    t0 = time.monotonic()
    worker = threading.Thread(target=upgrade, name="helm-upgrade")
    worker.start()
    sent = 0
    while worker.is_alive():  # a message every 2 s for as long as the upgrade runs
        mention(slack, f"echo during the upgrade {sent}", channel=channel)
        sent += 1
        worker.join(timeout=2.0)
    timings["helm upgrade"] = time.monotonic() - t0
    assert not errors, errors
    stack.wait_all_ready([NAMESPACE], timeout=300)
    after = {d["metadata"]["name"]: d["metadata"]["generation"] for d in stack.get("deployments")}
    for name in SERVICES:
        assert after[f"jeeves-{name}"] > generation[f"jeeves-{name}"], f"{name} was not rolled"
    for name in EMULATORS:
        assert after[f"jeeves-{name}"] == generation[f"jeeves-{name}"]
    # The poster posts 1 message/s per channel; a message's delivery may have waited out a retry.
    replies = slack.wait_for_messages(sent, channel=channel, timeout=REPLY_TIMEOUT + 2 * sent)
    texts = sorted(m["text"] for m in replies)
    assert texts == sorted(f"during the upgrade {n}" for n in range(sent)), texts


def test_helm_uninstall_leaves_nothing_but_the_volume_claims(stack: Stack) -> None:
    """Both releases uninstalled (platform first, as docs/deploying.md says) leave the PVCs.

    The built-in JeevesActions are deleted first, while the in-chart etcd still runs: the
    operator keeps each action's finalizer until it has unregistered it from etcd, and a plain
    `helm uninstall jeeves` deletes that etcd in the same breath, so the actions (and their
    Deployments) would stay Terminating for good (seen here; reported to the charts stream).
    """
    stack.node.kubectl(
        "delete", "jeevesactions", "-n", NAMESPACE, "-l", "app.kubernetes.io/instance=jeeves",
        "--wait=true", timeout=180,
    )  # fmt: skip
    stack.uninstall()
    stack.uninstall_operator()
    kinds = stack.node.kubectl(
        "api-resources", "--verbs=list", "--namespaced", "-o", "name"
    ).stdout.split()
    kept = {"events", "events.events.k8s.io", "persistentvolumeclaims"}
    # What every namespace has without anyone installing anything.
    default = {"serviceaccount/default", "configmap/kube-root-ca.crt"}

    def leftovers() -> list[str]:
        found = []
        for kind in sorted(set(kinds) - kept):
            out = stack.node.kubectl("get", kind, "-n", NAMESPACE, "-o", "name", check=False)
            found += [
                line
                for line in out.stdout.split()
                if line not in default and not _default_token(line)
            ]
        return found

    try:
        wait_until(lambda: not leftovers(), timeout=120, what="the namespace to empty")
    except AssertionError as exc:
        raise AssertionError(f"{exc}; still there: {', '.join(leftovers())}") from None
    claims = [c["metadata"]["name"] for c in stack.get("persistentvolumeclaims")]
    for name in STATEFUL:
        assert any(f"jeeves-{name}" in claim for claim in claims), claims
    labelled = stack.node.kubectl(
        "get", "clusterroles,clusterrolebindings,jeevesactions", "-A",
        "-l", "app.kubernetes.io/part-of=jeeves", "-o", "name", check=False,
    ).stdout.split()  # fmt: skip
    assert labelled == []


def _default_token(name: str) -> bool:
    """The `default` ServiceAccount's token Secret (Kubernetes 1.20 still creates one)."""
    return bool(re.fullmatch(r"secret/default-token-[a-z0-9]+", name))
