"""The Cilium chart's values.schema.json, checked at plan time (upstream/cilium_schema.py).

A value the chart's schema refuses makes ``helm install`` fail after the servers exist; the
config check must refuse it first, naming the key under ``cilium.values`` and the fix.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from policies.rules import cilium
from policies.rules.types import HELM_RELEASE
from tests.helpers import (
    EXAMPLE_STACKS,
    PROJECT_DIR,
    config_problems,
    example_config,
    minimal_config,
    write_stack_file,
)
from tests.policy_fixtures import check_resource
from tools.plan import main as plan_main
from stack_config import validate_cluster_spec
from upstream.cilium import SUPPORTED_LINES
from upstream.cilium_schema import schema_problems, values_schema

LINES = {minor: line.newest_verified_patch for minor, line in SUPPORTED_LINES.items()}


def cilium_problems(values: dict[str, Any], version: str = "1.20.0") -> list[str]:
    problems = config_problems(minimal_config(cilium={
        "version": version, "values": values, "allowUntestedKubernetes": True}))
    return [p for p in problems if p.startswith("cilium.values.")]


# -- what a new user runs into (the issue's cases) --------------------------------------------------
@pytest.mark.parametrize("version", LINES.values())
def test_a_quoted_number_is_refused_naming_the_key(version: str) -> None:
    assert cilium_problems({"MTU": "1450"}, version) == [
        'cilium.values.MTU: "1450" is a string; the chart wants an integer. '
        "Fix: write 1450 without quotes."]


@pytest.mark.parametrize("version", LINES.values())
def test_yes_is_not_a_boolean(version: str) -> None:
    [problem] = cilium_problems({"hubble": {"relay": {"enabled": "yes"}}}, version)
    assert problem.startswith('cilium.values.hubble.relay.enabled: "yes" is a string; the chart '
                              "wants a boolean. Fix: write true without quotes")


def test_the_string_false_is_refused_not_read_as_true(tmp_path: Path) -> None:
    # Go templates read "false" as true: the Gateway API CRDs would be installed.
    config = example_config("dev")
    config["k3s-hcloud:cilium"] = {**config.get("k3s-hcloud:cilium", {}),
                                   "values": {"gatewayAPI": {"enabled": "false"}}}
    stack = write_stack_file(tmp_path, config, "quoted")
    assert plan_main(["--stack-file", str(stack)]) == 1


def test_the_plan_names_the_key_and_the_fix(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    config = example_config("dev")
    config["k3s-hcloud:cilium"] = {**config.get("k3s-hcloud:cilium", {}), "values": {"MTU": "1450"}}
    stack = write_stack_file(tmp_path, config, "quoted")
    assert plan_main(["--stack-file", str(stack)]) == 1
    error = capsys.readouterr().err
    assert "cilium.values.MTU: \"1450\" is a string; the chart wants an integer. Fix: " in error
    assert "Traceback" not in error


def test_extra_args_that_is_not_a_list_is_a_clean_error() -> None:
    assert cilium_problems({"extraArgs": "--enable-wireguard"}) == [
        'cilium.values.extraArgs: "--enable-wireguard" is a string; the chart wants a list. '
        "Fix: write it as a YAML list (one item per line starting with '- ')."]


def test_extra_args_that_is_not_a_list_is_a_clean_violation_in_the_policy_pack() -> None:
    props = {"chart": "cilium", "version": "1.20.0", "values": {"extraArgs": 7.0}}
    for policy in cilium.POLICIES:  # none of them may crash on it
        found = check_resource(policy, HELM_RELEASE, props, name="cilium")
        if policy is cilium.valid_enums:
            assert found == ["Helm release 'cilium' (Cilium 1.20.0), value extraArgs: 7 is an "
                             "integer; the chart wants a list. Fix: write it as a YAML list (one "
                             "item per line starting with '- ')."]


def test_enumerations_and_ranges_of_the_schema_are_refused() -> None:
    assert cilium_problems({"identityManagementMode": "everyone"}) == [
        'cilium.values.identityManagementMode: "everyone" is not one of "agent", "operator", '
        '"both". Fix: use one of the values listed.']
    assert cilium_problems({"bpf": {"monitorTraceIPOption": 256}}) == [
        "cilium.values.bpf.monitorTraceIPOption: 256 is above the maximum 255. Fix: use a number "
        "inside the range the chart allows."]


def test_list_items_are_named_by_position() -> None:
    [problem] = cilium_problems({"ipam": {"operator": {"clusterPoolIPv4PodCIDRList": [7]}}})
    assert problem.startswith("cilium.values.ipam.operator.clusterPoolIPv4PodCIDRList[0]: 7 is")


# -- Helm's semantics ------------------------------------------------------------------------------
def test_numbers_as_pulumi_sends_them_are_integers() -> None:
    assert schema_problems({"MTU": 1450.0, "operator": {"replicas": 2.0}}, "1.20.0") == []
    assert [p.path for p in schema_problems({"MTU": 1450.5}, "1.20.0")] == ["MTU"]


def test_a_boolean_is_not_a_number() -> None:
    assert [p.path for p in schema_problems({"MTU": True}, "1.20.0")] == ["MTU"]


def test_null_removes_a_value_so_the_chart_default_applies() -> None:
    # Ref: helm coalesce.go: a null user value deletes the key before validation.
    assert schema_problems({"MTU": None, "hubble": {"relay": {"enabled": None}}}, "1.20.0") == []


def test_keys_the_schema_does_not_know_are_left_to_the_chart() -> None:
    # The chart's schema has no additionalProperties: false; Helm renders unknown keys.
    assert schema_problems({"notAnOption": "x", "hubble": {"madeUp": 1}}, "1.20.0") == []


@pytest.mark.parametrize("stack", EXAMPLE_STACKS)
def test_every_example_stacks_values_pass_the_schema(stack: str) -> None:
    raw = {key.removeprefix("k3s-hcloud:"): value for key, value in example_config(stack).items()
           if key.startswith("k3s-hcloud:")}
    spec = validate_cluster_spec(raw)
    assert schema_problems(spec.cilium_helm_values, spec.cilium.version) == []


# -- our validator agrees with a reference JSON-schema implementation ------------------------------
def _leaf_paths(schema: dict[str, Any], prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = []
    for key, sub in (schema.get("properties") or {}).items():
        paths.append((*prefix, key))
        paths += _leaf_paths(sub, (*prefix, key))
    return paths


_SAMPLES: list[Any] = [True, False, "true", "false", "", "x", 0, 1, 1.0, 1.5, -3, 300, [], ["a"],
                       [1], {}, {"a": 1}, "Local", "agent", "info", "loud"]


@pytest.mark.parametrize("minor", LINES)
def test_the_offline_validator_agrees_with_jsonschema_draft7(minor: str) -> None:
    schema = dict(values_schema(SUPPORTED_LINES[minor]))
    reference = jsonschema.Draft7Validator(schema)
    rng = random.Random(20261130)
    paths = _leaf_paths(schema)
    disagreements = []
    for path in paths:
        for sample in rng.sample(_SAMPLES, 6):
            values: dict[str, Any] = {}
            node = values
            for part in path[:-1]:
                node = node.setdefault(part, {})
            node[path[-1]] = sample
            ours = not schema_problems(values, LINES[minor])
            theirs = reference.is_valid(values)
            if ours != theirs:
                disagreements.append((".".join(path), json.dumps(sample), ours, theirs))
    assert len(paths) > 300
    assert disagreements == []
