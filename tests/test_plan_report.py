"""A plan a reviewer can read: the cluster summary, the --diff of two stack files, its Markdown."""

from __future__ import annotations

from pathlib import Path

import pytest
from pulumi.runtime import rpc

from tests.helpers import PROJECT_DIR, example_config, plan_config, write_stack_file
from tests.program_plans import example_plan
from tests.sentinels import HCLOUD_TOKEN, leaks
from tools import plan as plan_cli
from tools.lib.engine import RecordedResource
from tools.lib.plan_report import STAND_IN_NOTICE, summarize
from upstream.cilium import DEFAULT_VERSION
from tools.lib.plan_review import MAX_COMMENT_CHARS, _fit_comment, review, value_changes


@pytest.fixture(scope="module")
def private_ha_summary():
    return summarize(example_plan("private-ha"))


def test_summary_lists_each_pool_with_type_locations_count_labels_and_taints(
        private_ha_summary) -> None:
    pools = {p.name: p for p in private_ha_summary.pools}
    assert [p.name for p in private_ha_summary.pools] == ["control-plane", "arm", "general"]
    assert (pools["control-plane"].count, pools["control-plane"].server_type,
            pools["control-plane"].locations) == (3, "cx33", ("fsn1", "hel1", "nbg1"))
    assert (pools["arm"].count, pools["arm"].server_type) == (2, "cax21")
    assert pools["arm"].node_taints == ("kubernetes.io/arch=arm64:NoSchedule",)
    assert pools["general"].node_labels == ("node.kubernetes.io/pool=general",)
    assert not any(p.public for p in private_ha_summary.pools)
    assert private_ha_summary.bastion is not None and private_ha_summary.bastion.public


def test_summary_has_the_private_api_endpoint_firewall_and_cilium_features(
        private_ha_summary) -> None:
    assert private_ha_summary.api_endpoint == "https://10.4.1.2:6443"
    (api_lb,) = private_ha_summary.load_balancers
    assert (api_lb.purpose, api_lb.public, api_lb.private_address) == (
        "Kubernetes API", False, "10.4.1.2")
    # Private mode: the bastion's firewall is the only one, and nothing opens 6443.
    assert {row.firewall for row in private_ha_summary.firewall} == {"prod-firewall-bastion"}
    ssh = next(row for row in private_ha_summary.firewall if row.port == "22")
    assert ssh.sources == ("198.51.100.0/24",)
    assert not any(row.port == "6443" for row in private_ha_summary.firewall)
    assert {"Hubble UI", "kube-proxy replacement"} <= set(private_ha_summary.cilium.features)
    assert "Gateway API" not in private_ha_summary.cilium.features
    assert private_ha_summary.k3s.version == "v1.35.3+k3s1"
    assert {"embedded-registry", "secrets-encryption", "flannel-backend=none",
            "disable=traefik,servicelb"} <= set(private_ha_summary.k3s.flags)
    assert not any("token" in flag for flag in private_ha_summary.k3s.flags)


def test_gateway_load_balancer_comes_from_the_gateway_annotations() -> None:
    summary = summarize(example_plan("gateway"))
    (lb,) = summary.load_balancers
    assert (lb.purpose, lb.lb_type, lb.ports, lb.created_by) == (
        "Gateway", "lb11", (80,), "cloud controller")
    assert summary.gateway == "default/web" and "Gateway API" in summary.cilium.features


def test_default_text_output_has_the_summary_and_says_values_are_stand_ins(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert plan_cli.main(["--stack", "dev"]) == plan_cli.EXIT_OK
    out = capsys.readouterr().out
    assert "workers: 2 × cx23 in nbg1 (agent, public IPv4); labels node.kubernetes.io/pool=workers" in out
    assert "dev-firewall-nodes  tcp  6443  203.0.113.0/24" in out
    assert "API endpoint: https://" in out and \
        f"Cilium {DEFAULT_VERSION}: kube-proxy replacement" in out
    assert STAND_IN_NOTICE in out


# ---- --diff ----------------------------------------------------------------------------------

def test_diff_shows_created_nodes_and_in_place_type_change(tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    config = example_config("dev")
    config["k3s-hcloud:workerPools"][0]["count"] = 3
    config["k3s-hcloud:workerPools"][0]["serverType"] = "cx33"
    head = write_stack_file(tmp_path, config, "dev")
    markdown = tmp_path / "comment.md"
    code = plan_cli.main(["--stack-file", str(head), "--diff", str(PROJECT_DIR / "Pulumi.dev.yaml"),
                          "--markdown", str(markdown)])
    out = capsys.readouterr().out
    assert code == plan_cli.EXIT_OK
    assert "+  hcloud:index/server:Server  dev-workers-3" in out
    assert "~  hcloud:index/server:Server  dev-workers-1" in out
    assert "serverType: cx23 → cx33" in out
    assert "DISRUPTIVE: Hetzner powers the server off to change its type" in out
    assert "dev-cp-1" not in out  # the control plane's type did not change
    text = markdown.read_text()
    assert text.startswith("### Offline plan diff: stack `dev`")
    assert "| ~ update | `dev-workers-1` |" in text and "`serverType`: `cx23` → `cx33`" in text
    assert "+ Pool workers: 3 × cx33 in nbg1" in text and STAND_IN_NOTICE in text


def test_diff_flags_a_location_change_as_destructive(tmp_path: Path) -> None:
    base = example_plan("dev")
    config = example_config("dev")
    config["k3s-hcloud:workerPools"][0]["location"] = "fsn1"
    head_plan = plan_config(tmp_path, config, "dev")
    result = review(base, head_plan)
    replaced = {c.change.name for c in result.flagged("destructive")}
    assert {"dev-workers-1", "dev-workers-2"} <= replaced
    server = next(c for c in result.changes if c.change.name == "dev-workers-1"
                  and c.change.type == "hcloud:index/server:Server")
    assert server.change.kind == "replace"
    assert any("disk" in f.reason for f in server.flags)
    assert any(v.path == "location" and (v.before, v.after) == ("nbg1", "fsn1")
               for v in server.values)


def test_diff_masks_a_changed_secret_and_never_prints_it(tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    base_config, head_config = example_config("dev"), example_config("dev")
    base_config["hcloud:token"] = HCLOUD_TOKEN + "Old"
    head_config["hcloud:token"] = HCLOUD_TOKEN + "New"
    base = write_stack_file(tmp_path, base_config, "dev")
    (tmp_path / "head").mkdir()
    head = write_stack_file(tmp_path / "head", head_config, "dev")
    markdown = tmp_path / "comment.md"
    assert plan_cli.main(["--stack-file", str(head), "--diff", str(base),
                          "--markdown", str(markdown)]) == plan_cli.EXIT_OK
    out = capsys.readouterr().out
    assert "token: [secret] → [secret] (changed)" in out
    assert leaks(out) == [] and leaks(markdown.read_text()) == []


def test_value_changes_mask_secret_subtrees() -> None:
    secret = {rpc._special_sig_key: rpc._special_secret_sig, "value": "hunter2"}
    changed = {rpc._special_sig_key: rpc._special_secret_sig, "value": "hunter3"}

    def resource(inputs):
        return RecordedResource("urn:x", "t:index:T", "x", None, True, inputs, [], {}, None, {})

    values = value_changes(resource({"a": 1, "s": secret}), resource({"a": 2, "s": changed}), [])
    shown = {v.path: (v.before, v.after) for v in values}
    assert shown == {"a": ("1", "2"), "s": ("[secret]", "[secret] (changed)")}


def test_diff_against_an_invalid_base_exits_1_naming_the_base_file(tmp_path: Path,
                                                                  capsys) -> None:
    config = example_config("dev")
    config["k3s-hcloud:controlPlane"]["count"] = 2
    base = write_stack_file(tmp_path, config, "dev")
    code = plan_cli.main(["--stack", "dev", "--diff", str(base)])
    err = capsys.readouterr().err
    assert code == plan_cli.EXIT_CONFIG
    assert "in the base stack file" in err and "controlPlane.count" in err


def test_replacing_the_bastion_warns_that_the_deploy_runner_lives_there(tmp_path: Path) -> None:
    config = example_config("private-ha")
    config["k3s-hcloud:bastion"]["location"] = "nbg1"
    result = review(example_plan("private-ha"), plan_config(tmp_path, config, "private-ha"))
    bastion = next(c for c in result.changes if c.change.name == "prod-bastion"
                   and c.change.type == "hcloud:index/server:Server")
    assert bastion.change.kind == "replace"
    assert any("deploy runner" in f.reason for f in bastion.flags)


def test_diff_comment_lists_policy_findings_and_the_exit_code_stays_2(tmp_path: Path) -> None:
    config = example_config("dev")
    config["k3s-hcloud:access"]["sshAllowedCidrs"] = ["0.0.0.0/0"]
    head = write_stack_file(tmp_path, config, "dev")
    markdown = tmp_path / "comment.md"
    code = plan_cli.main(["--stack-file", str(head), "--diff",
                          str(PROJECT_DIR / "Pulumi.dev.yaml"), "--markdown", str(markdown)])
    assert code == plan_cli.EXIT_POLICY
    text = markdown.read_text()
    assert "#### Policy findings" in text
    assert "mandatory: [hcloud-firewall-disallow-public-ssh]" in text
    assert "`rules[0].sourceIps[0]`: `203.0.113.0/24` → `0.0.0.0/0`" in text


def test_an_unwritable_markdown_file_exits_1_without_traceback(tmp_path: Path, capsys) -> None:
    target = tmp_path / "missing-dir" / "comment.md"
    assert plan_cli.main(["--stack", "dev", "--markdown", str(target)]) == plan_cli.EXIT_CONFIG
    assert f"error: cannot write {target}" in capsys.readouterr().err


def test_autoscaled_pools_show_what_the_autoscaler_may_add_even_with_no_servers_yet() -> None:
    pools = {p.name: p for p in summarize(example_plan("autoscale")).pools}
    assert (pools["batch"].count, pools["batch"].server_type, pools["batch"].autoscaled) == (
        0, "cax21", (0, 5))
    assert (pools["general"].count, pools["general"].autoscaled) == (2, (0, 4))
    assert pools["system"].autoscaled is None


def test_json_with_diff_carries_the_change_with_secrets_masked(tmp_path: Path, capsys) -> None:
    import json

    base_config, head_config = example_config("dev"), example_config("dev")
    base_config["hcloud:token"] = HCLOUD_TOKEN + "Old"
    head_config["hcloud:token"] = HCLOUD_TOKEN + "New"
    head_config["k3s-hcloud:workerPools"][0]["count"] = 3
    base = write_stack_file(tmp_path, base_config, "dev")
    (tmp_path / "head").mkdir()
    head = write_stack_file(tmp_path / "head", head_config, "dev")
    assert plan_cli.main(["--stack-file", str(head), "--diff", str(base), "--json"]) == 0
    text = capsys.readouterr().out
    diff = json.loads(text)["diff"]
    assert diff["counts"]["create"] >= 2
    provider = next(c for c in diff["changes"] if c["type"] == "pulumi:providers:hcloud")
    assert provider["values"] == [{"path": "token", "before": "[secret]",
                                   "after": "[secret] (changed)", "lineDiff": []}]
    assert leaks(text) == []


def test_a_comment_over_githubs_limit_is_cut_at_a_line_and_closes_its_section() -> None:
    short = "<details>\n- a\n</details>\n"
    assert _fit_comment(short) == short
    long = "<details>\n" + "".join(f"- line {n}\n" for n in range(MAX_COMMENT_CHARS // 8))
    cut = _fit_comment(long)
    kept, _, tail = cut.partition("\n\n</details>\n\n")
    assert len(kept) <= MAX_COMMENT_CHARS and long.startswith(kept + "\n")
    assert tail == "… truncated: the full diff is in the job log (`tools/plan.py --diff`).\n"
