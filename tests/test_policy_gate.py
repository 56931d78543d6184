"""The offline policy gate runs the pack over what a program really registered."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.lib.engine import Plan, run_program
from tools.lib.policy_gate import evaluate
from tools.lib.stack_files import StackConfig

PROGRAM = '''
import pulumi_hcloud as hcloud
hcloud.Firewall("open", rules=[hcloud.FirewallRuleArgs(
    direction="in", protocol="tcp", port="22", source_ips=["0.0.0.0/0"], description="ssh")])
hcloud.Firewall("closed", rules=[hcloud.FirewallRuleArgs(
    direction="in", protocol="tcp", port="22", source_ips=["203.0.113.0/24"], description="ssh")])
'''


@pytest.fixture(scope="module")
def plan(tmp_path_factory: pytest.TempPathFactory) -> Plan:
    project = tmp_path_factory.mktemp("handwritten")
    (project / "__main__.py").write_text(PROGRAM)
    return run_program(project, StackConfig(stack="s", project="p"))


def test_a_hand_written_open_firewall_is_a_mandatory_violation(plan: Plan) -> None:
    [violation] = [v for v in evaluate(plan) if v.policy == "hcloud-firewall-disallow-public-ssh"]
    assert violation.enforcement_level == "mandatory"
    assert violation.urn == plan.get("hcloud:index/firewall:Firewall", "open").urn
    assert violation.message.startswith("Firewall 'open' opens SSH (TCP 22)")


def test_pack_config_sets_levels_and_policy_settings(plan: Plan) -> None:
    advisory = evaluate(plan, {"all": "advisory"})
    assert {v.enforcement_level for v in advisory} == {"advisory"}
    assert evaluate(plan, {"hcloud-firewall-disallow-public-ssh": {"allowPublicSsh": True}}) == []
    assert evaluate(plan, {"hcloud-firewall-disallow-public-ssh": "disabled"}) == []


def test_plan_cli_exits_2_on_a_mandatory_violation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  plan: Plan) -> None:
    from tools import plan as plan_cli

    monkeypatch.setattr(plan_cli, "run_program", lambda *_: plan)
    assert plan_cli.main(["--stack", "dev"]) == plan_cli.EXIT_POLICY
