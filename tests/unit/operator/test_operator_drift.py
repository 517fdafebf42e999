"""Tests of `ownership`, how the operator finds what someone else added to the objects it owns:
from `managedFields` as the API server records them (entries written here in that format).
Pure; nothing faked.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from operator_samples import ref_for, sample_spec

from jeeves_operator import builders
from jeeves_operator.models import MANAGER
from jeeves_operator.ownership import foreign_paths, removal_patch
from jeeves_operator.settings import OperatorSettings

pytestmark = pytest.mark.unit
ACTION = 'k:{"name":"action"}'


@pytest.fixture(name="desired")
def fixture_desired(settings: OperatorSettings) -> dict[str, Any]:
    return builders.build_deployment(sample_spec("weather"), ref_for("weather"), settings)


def entry(manager: str, fields: dict[str, Any], operation: str = "Update") -> dict[str, Any]:
    return {
        "manager": manager,
        "operation": operation,
        "fieldsType": "FieldsV1",
        "fieldsV1": fields,
    }


def containers(fields: dict[str, Any]) -> dict[str, Any]:
    return {"f:spec": {"f:template": {"f:spec": {"f:containers": {ACTION: fields}}}}}


def test_our_own_fields_and_server_defaults_are_not_foreign(desired: dict[str, Any]) -> None:
    live = copy.deepcopy(desired)
    live["spec"]["progressDeadlineSeconds"] = 600  # defaulted: nobody owns it
    live["metadata"]["managedFields"] = [
        entry(MANAGER, {"f:spec": {"f:replicas": {}}}, "Apply"),
        entry("kube-controller-manager", {"f:status": {"f:replicas": {}}}),
    ]
    assert foreign_paths(live, desired, MANAGER) == []


def test_an_env_var_and_a_label_added_by_hand_are_foreign(desired: dict[str, Any]) -> None:
    live = copy.deepcopy(desired)
    env = live["spec"]["template"]["spec"]["containers"][0]["env"]
    env.append({"name": "DEBUG_BACKDOOR", "value": "1"})
    live["metadata"]["labels"]["added-by"] = "hand"
    backdoor = {'k:{"name":"DEBUG_BACKDOOR"}': {".": {}, "f:name": {}, "f:value": {}}}
    live["metadata"]["managedFields"] = [
        entry(MANAGER, {"f:spec": {"f:replicas": {}}}, "Apply"),
        entry(
            "kubectl-patch",
            {"f:metadata": {"f:labels": {"f:added-by": {}}}, **containers({"f:env": backdoor})},
        ),
    ]
    paths = foreign_paths(live, desired, MANAGER)
    index = len(env) - 1
    assert paths == [
        ("spec", "template", "spec", "containers", 0, "env", index),
        ("metadata", "labels", "added-by"),
    ]
    assert removal_patch(paths, "42") == [
        {"op": "test", "path": "/metadata/resourceVersion", "value": "42"},
        {"op": "remove", "path": f"/spec/template/spec/containers/0/env/{index}"},
        {"op": "remove", "path": "/metadata/labels/added-by"},
    ]


def test_a_value_we_also_set_is_ours_to_put_back_not_to_remove(desired: dict[str, Any]) -> None:
    live = copy.deepcopy(desired)
    live["spec"]["replicas"] = 5  # kubectl scale: SSA's forced apply sets it back
    image = {"f:image": {}}
    live["metadata"]["managedFields"] = [
        entry("kubectl", {"f:spec": {"f:replicas": {}}}),
        entry("kubectl-set", containers(image)),
    ]
    assert foreign_paths(live, desired, MANAGER) == []


def test_a_rollout_restart_is_left_alone(desired: dict[str, Any]) -> None:
    live = copy.deepcopy(desired)
    annotations = {"kubectl.kubernetes.io/restartedAt": "2026-01-01T00:00:00Z"}
    live["spec"]["template"]["metadata"]["annotations"] = annotations
    restart = {"f:kubectl.kubernetes.io/restartedAt": {}}
    fields = {"f:spec": {"f:template": {"f:metadata": {"f:annotations": restart}}}}
    live["metadata"]["managedFields"] = [entry("kubectl-rollout", fields)]
    assert foreign_paths(live, desired, MANAGER) == []


def test_several_hand_added_items_are_removed_last_index_first(desired: dict[str, Any]) -> None:
    live = copy.deepcopy(desired)
    env = live["spec"]["template"]["spec"]["containers"][0]["env"]
    first = len(env)
    env += [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]
    items = {f"k:{json.dumps({'name': n}, separators=(',', ':'))}": {".": {}} for n in ("A", "B")}
    live["metadata"]["managedFields"] = [entry("kubectl-edit", containers({"f:env": items}))]
    steps = [p[-1] for p in foreign_paths(live, desired, MANAGER)]
    assert steps == [first + 1, first]


def test_a_label_key_with_a_slash_is_escaped_in_the_pointer() -> None:
    patch = removal_patch([("metadata", "labels", "team.example/owner")], "7")
    assert patch[1]["path"] == "/metadata/labels/team.example~1owner"
