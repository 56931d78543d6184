"""Destructive edits of a cluster that exists are refused at plan time unless acknowledged.

The program exports ``clusterIdentity`` and reads its previous value back through a
StackReference to its own stack; offline, the mock answers that reference with the previous
plan's outputs (``run_program(..., previous_outputs)``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from stack_config import ConfigError, validate_cluster_spec
from stack_config.identity import ACKNOWLEDGEMENTS, HAZARDS, check_identity, cluster_identity
from tests.helpers import example_config, write_stack_file
from tests.program_plans import example_plan
from tools import plan as plan_cli
from tools.lib.engine import run_program
from tools.lib.stack_files import load_stack_config
from tools.plan import PROJECT_DIR

SERVER = "hcloud:index/server:Server"


def spec_of(config: dict[str, Any]):
    return validate_cluster_spec({key.removeprefix("k3s-hcloud:"): value
                                  for key, value in config.items()
                                  if key.startswith("k3s-hcloud:")})


def refusal(previous: dict[str, Any], config: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ConfigError) as caught:
        check_identity(previous, spec_of(config), spec_of(config).acknowledge)
    return {problem.key: problem.message for problem in caught.value.problems}


EDITS = {
    "clusterName": ("rename-cluster", lambda c: c.update({"k3s-hcloud:clusterName": "dev2"})),
    "network.cidr": ("replace-network",
                     lambda c: c["k3s-hcloud:network"].update(cidr="10.1.0.0/16")),
    "network.privateOnly": ("readdress-nodes", lambda c: (
        c["k3s-hcloud:network"].update(privateOnly=True),
        c.update({"k3s-hcloud:bastion": {"enabled": True}}))),
    "k3s.hardening.enabled": ("toggle-hardening", lambda c: c.setdefault(
        "k3s-hcloud:k3s", {}).update(hardening={"enabled": True})),
    "k3s.clusterCidr": ("change-pod-network", lambda c: c.setdefault(
        "k3s-hcloud:k3s", {}).update(clusterCidr="10.52.0.0/16")),
    "location": ("move-nodes", lambda c: c.update({"k3s-hcloud:location": "fsn1"})),
    "workerPools[workers].location": ("move-nodes", lambda c: c[
        "k3s-hcloud:workerPools"][0].update(location="fsn1")),
    "controlPlane.serverType": ("resize-in-place", lambda c: c[
        "k3s-hcloud:controlPlane"].update(serverType="cx33")),
    "workerPools[workers].serverType": ("resize-in-place", lambda c: c[
        "k3s-hcloud:workerPools"][0].update(serverType="cx33")),
    "workerPools[workers].addressBlock": ("readdress-nodes", lambda c: c[
        "k3s-hcloud:workerPools"][0].update(addressBlock=7)),
}


@pytest.mark.parametrize("key", sorted(EDITS))
def test_a_destructive_edit_of_an_existing_cluster_is_refused_naming_key_effect_and_safe_way(
        key: str) -> None:
    acknowledgement, edit = EDITS[key]
    config = example_config("dev")
    previous = cluster_identity(spec_of(config))
    edit(config)
    problems = refusal(previous, config)
    assert key in problems, problems
    message = problems[key]
    assert "this cluster exists" in message and "Safe way:" in message
    assert f"add '{acknowledgement}' to acknowledge" in message


@pytest.mark.parametrize("key", sorted(EDITS))
def test_its_named_acknowledgement_lets_it_through(key: str) -> None:
    acknowledgement, edit = EDITS[key]
    config = example_config("dev")
    previous = cluster_identity(spec_of(config))
    edit(config)
    config["k3s-hcloud:acknowledge"] = [acknowledgement]
    spec = spec_of(config)
    assert check_identity(previous, spec, spec.acknowledge) == cluster_identity(spec)


def test_another_acknowledgement_does_not() -> None:
    config = example_config("dev")
    previous = cluster_identity(spec_of(config))
    EDITS["network.cidr"][1](config)
    config["k3s-hcloud:acknowledge"] = [a for a in ACKNOWLEDGEMENTS if a != "replace-network"]
    assert set(refusal(previous, config)) == {"network.cidr"}


def test_a_new_cluster_and_safe_edits_are_not_refused() -> None:
    config = example_config("dev")
    spec = spec_of(config)
    assert check_identity(None, spec, []) == cluster_identity(spec)
    previous = cluster_identity(spec)
    # New nodes in a new location (a new pool, a default location only new nodes use) are safe.
    config["k3s-hcloud:workerPools"].append({"name": "hel", "count": 1, "location": "hel1",
                                             "addressBlock": 2})
    config["k3s-hcloud:workerPools"][0]["count"] = 3
    config["k3s-hcloud:k3s"] = {"version": "v1.35.4+k3s1"}
    spec = spec_of(config)
    assert check_identity(previous, spec, [])["nodeLocations"]["dev-hel-1"] == "hel1"


def test_every_hazard_names_an_acknowledgement_that_the_config_accepts() -> None:
    assert {hazard.acknowledgement for hazard in HAZARDS.values()} <= set(ACKNOWLEDGEMENTS)
    config = example_config("dev")
    config["k3s-hcloud:acknowledge"] = ["replace-everything"]
    with pytest.raises(ConfigError) as caught:
        spec_of(config)
    assert caught.value.problems[0].key.startswith("acknowledge")


@pytest.mark.parametrize("stack", ["dev", "private-ha"])
def test_the_identity_output_is_plain_and_names_every_server_node(stack: str) -> None:
    plan = example_plan(stack)
    output = plan.outputs["clusterIdentity"]
    assert not output.secret
    nodes = {r.name for r in plan.by_type(SERVER)} - {f"{output.value['clusterName']}-bastion"}
    assert set(output.value["nodeLocations"]) == nodes


def outputs_json(stack: str, tmp_path: Path) -> Path:
    path = tmp_path / "previous.json"
    path.write_text(json.dumps({name: out.value
                                for name, out in example_plan(stack).outputs.items()
                                if not out.secret}))
    return path


def test_the_whole_program_refuses_a_cidr_edit_of_an_existing_cluster_with_exit_1(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    previous = outputs_json("dev", tmp_path)
    config = example_config("dev")
    config["k3s-hcloud:network"]["cidr"] = "10.1.0.0/16"
    stack_file = write_stack_file(tmp_path, config, "dev")
    code = plan_cli.main(["--stack-file", str(stack_file), "--previous-outputs", str(previous)])
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err
    assert "network.cidr: this cluster exists" in err and "'replace-network'" in err
    # The same edit on a stack never deployed is a new cluster: fine.
    assert plan_cli.main(["--stack-file", str(stack_file), "--json"]) == 0


def test_the_whole_program_accepts_the_acknowledged_edit(tmp_path: Path) -> None:
    config = example_config("dev")
    config["k3s-hcloud:network"]["cidr"] = "10.1.0.0/16"
    config["k3s-hcloud:acknowledge"] = ["replace-network"]
    stack_file = write_stack_file(tmp_path, config, "dev")
    previous = {name: out.value for name, out in example_plan("dev").outputs.items()}
    plan = run_program(PROJECT_DIR, load_stack_config(PROJECT_DIR, stack_file, "dev"), previous)
    assert plan.outputs["clusterIdentity"].value["network.cidr"] == "10.1.0.0/16"
