"""The bastion admits the automation that builds the cluster, and still limits every source."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.sizes import private_cluster
from cluster_plan.bastion_admission import (
    BASTION_ADMISSION,
    MARGIN,
    REMOTE_COMMANDS_PER_NODE,
    ssh_admission,
)
from tests.helpers import EXAMPLE_STACKS, plan_config
from tests.program_plans import example_plan

COMMAND = "command:remote:Command"
SERVER = "hcloud:index/server:Server"
BASTION_RULESET = "/etc/k3s-hcloud/bastion.nft"


def _admission_in(plan) -> tuple[int, int] | None:
    """(per minute, burst) written into the bastion's ruleset, or None without a bastion."""
    import yaml

    for server in plan.by_type(SERVER):
        user_data = server.plain_inputs().get("userData", "")
        if BASTION_RULESET not in user_data:
            continue
        files = {f["path"]: f["content"] for f in yaml.safe_load(user_data)["write_files"]}
        line = next(l for l in files[BASTION_RULESET].splitlines() if "limit rate over" in l)
        rate = line.split("limit rate over ")[1]
        per_minute, burst = rate.split("/minute burst ")
        return int(per_minute), int(burst.split()[0])
    return None


def test_the_limit_grows_with_the_nodes_behind_the_bastion():
    assert ssh_admission(0).burst == MARGIN
    assert ssh_admission(99).burst > ssh_admission(5).burst >= 5 * REMOTE_COMMANDS_PER_NODE
    with pytest.raises(ValueError):
        ssh_admission(-1)


def test_the_largest_private_cluster_fits_the_bastion_admission(tmp_path: Path):
    """3 + 96 through the bastion: every remote command of the create may start at once."""
    plan = plan_config(tmp_path, {k.removeprefix("k3s-hcloud:"): v
                                  for k, v in private_cluster(96).items()}, "big")
    commands = len(plan.by_type(COMMAND))
    nodes = len(plan.by_type(SERVER)) - 1
    admitted = _admission_in(plan)
    assert admitted is not None
    per_minute, burst = admitted
    assert commands <= burst and commands <= per_minute
    # The bound the admission is sized with holds for the program as planned.
    assert commands <= nodes * REMOTE_COMMANDS_PER_NODE


@pytest.mark.parametrize("stack", EXAMPLE_STACKS)
def test_every_example_with_a_bastion_admits_its_own_commands(stack: str):
    plan = example_plan(stack)
    admitted = _admission_in(plan)
    if admitted is None:
        pytest.skip(f"{stack} has no bastion")
    assert len(plan.by_type(COMMAND)) <= min(admitted)


def test_one_admission_for_every_size_so_pools_can_grow_without_touching_the_bastion(tmp_path):
    small = _admission_in(plan_config(tmp_path, {k.removeprefix("k3s-hcloud:"): v
                                                 for k, v in private_cluster(2).items()}, "s"))
    assert small == (BASTION_ADMISSION.per_minute, BASTION_ADMISSION.burst)
