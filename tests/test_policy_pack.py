"""The pack as a whole: every example stack passes it, every policy is documented and complete."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from pulumi_policy import Policy

from policies.pack import all_policies
from policies.rules import cilium, cilium_on_hetzner, gateway_api, node_images
from policies.rules.cilium_release import cilium_release
from policies.rules.types import HCLOUD_SERVER
from tests.helpers import EXAMPLE_STACKS, PROJECT_DIR
from tests.program_plans import example_plan
from tools.lib.engine import Plan
from tools.lib.policy_gate import evaluate, policy_settings

POLICIES = all_policies()
KEBAB = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)+$")


@pytest.fixture(scope="module", params=EXAMPLE_STACKS)
def example(request: pytest.FixtureRequest) -> tuple[str, Plan]:
    return request.param, example_plan(request.param)


# Advisories an example stack shows on purpose: its HA control plane has no S3 target for
# etcd snapshots, because an example file cannot carry working S3 keys (see docs/backups.md).
EXPECTED_ADVISORIES = {"gateway": {"k3s-etcd-snapshots-off-node"},
                       "apisix": {"k3s-etcd-snapshots-off-node"},
                       "private-ha": {"k3s-etcd-snapshots-off-node"}}


def test_every_example_stack_passes_the_pack(example: tuple[str, Plan]) -> None:
    stack, plan = example
    found = evaluate(plan)
    assert {v.policy for v in found} == EXPECTED_ADVISORIES.get(stack, set()), f"{stack}"
    assert all(v.enforcement_level == "advisory" for v in found), f"{stack}: whole program"


def test_the_example_plans_the_pack_checks_hold_servers_and_the_cilium_release(
        example: tuple[str, Plan]) -> None:
    # Otherwise "passes" would mean nothing for the server and Cilium policies.
    _, plan = example
    assert plan.by_type(HCLOUD_SERVER)
    assert [r for r in plan.resources if cilium_release(r.type, r.plain_inputs(), r.name, r.urn)]


def test_names_are_unique_stable_kebab_case_by_subject() -> None:
    names = [p.name for p in POLICIES]
    assert len(names) == len(set(names))
    for name in names:
        assert KEBAB.match(name), name
    cilium_modules = (gateway_api, cilium, cilium_on_hetzner, node_images)
    for policy in (p for module in cilium_modules for p in module.POLICIES):
        assert policy.name.startswith("cilium-"), policy.name


@pytest.mark.parametrize("policy", POLICIES, ids=lambda p: p.name)
def test_every_policy_says_what_why_how_bad_and_how_to_fix(policy: Policy) -> None:
    assert policy.description and policy.description.endswith(".")
    assert policy.enforcement_level is not None
    assert policy.severity is not None
    assert policy.remediation_steps


POLICIES_PAGE = PROJECT_DIR / "docs" / "policies.md"
POLICY_TABLE_HEADER = "| policy | level | catches, and why | upstream source | k3s-hcloud stack |"


def _policy_tables() -> str:
    """docs/policies.md's table plus the "## Policies" tables of topic pages under docs/."""
    lines = POLICIES_PAGE.read_text().splitlines()
    table = []
    for line in lines[lines.index(POLICY_TABLE_HEADER):]:
        if not line.startswith("|"):
            break
        table.append(line)
    sections = ["\n".join(table)]
    for page in sorted((PROJECT_DIR / "docs").glob("*.md")):
        text = page.read_text()
        if page != POLICIES_PAGE and "\n## Policies\n" in text:
            sections.append(text.split("\n## Policies\n", 1)[1].split("\n## ", 1)[0])
    return "\n".join(sections)


def _page_rows() -> dict[str, str]:
    rows = {}
    for line in _policy_tables().splitlines():
        match = re.match(r"^\| `([a-z0-9-]+)` \| (mandatory|advisory) \|", line)
        if match:
            rows[match.group(1)] = match.group(2)
    return rows


def test_the_policies_page_lists_every_policy_with_its_level() -> None:
    rows = _page_rows()
    pack = {p.name: p.enforcement_level.value for p in POLICIES}  # type: ignore[union-attr]
    undocumented = sorted(set(pack) - set(rows))
    assert not undocumented, f"add a row to docs/policies.md's table for: {undocumented}"
    assert rows == pack, "docs/policies.md rows name policies of the pack, each with its level"


def test_the_reachability_column_matches_the_stack_files() -> None:
    marked = {"pack": set(), "advisory": set()}
    for line in _policy_tables().splitlines():
        match = re.match(r"^\| `([a-z0-9-]+)` \|.*\| (pack|advisory) \|$", line)
        if match:
            marked[match.group(2)].add(match.group(1))
    tests = Path(__file__).resolve().parent
    bad = {p.stem.split("--")[0] for p in (tests / "bad_stacks").glob("*.yaml")}
    advisory = {p.stem for p in (tests / "advisory_stacks").glob("*.yaml")}
    assert marked == {"pack": bad, "advisory": advisory}


def test_the_example_pack_config_only_names_policies_and_their_settings() -> None:
    config = json.loads((PROJECT_DIR / "policies" / "config.example.json").read_text())
    by_name = {p.name: p for p in POLICIES}
    for key, entry in config.items():
        if key == "all":
            continue
        assert key in by_name, key
        if isinstance(entry, dict):
            schema = by_name[key].config_schema
            allowed = set(schema.properties) if schema else set()
            assert set(entry) - {"enforcementLevel"} <= allowed, key
            policy_settings(by_name[key], config)  # parses


def test_the_example_pack_config_keeps_each_policys_own_level() -> None:
    # The PR workflow passes this file: its "all" must not turn an advisory into a gate.
    config = json.loads((PROJECT_DIR / "policies" / "config.example.json").read_text())
    for policy in POLICIES:
        level, _ = policy_settings(policy, config)
        assert level == policy.enforcement_level.value, policy.name  # type: ignore[union-attr]


def test_the_analyzer_can_describe_the_pack() -> None:
    # What `pulumi preview --policy-pack` asks a pack first (GetAnalyzerInfo): every policy with
    # its level, severity and config schema must serialise. The servicer is the SDK's own
    # (private) class; constructing PolicyPack would start the gRPC server.
    from pulumi_policy import EnforcementLevel
    from pulumi_policy.policy import _PolicyAnalyzerServicer

    from policies.pack import PACK_NAME

    info = _PolicyAnalyzerServicer(PACK_NAME, "0.1.0", POLICIES,
                                   EnforcementLevel.MANDATORY).GetAnalyzerInfo(None, None)
    assert [p.name for p in info.policies] == [p.name for p in POLICIES]
    assert all(p.remediation_steps and p.url for p in info.policies
               if p.name.startswith("cilium-"))
