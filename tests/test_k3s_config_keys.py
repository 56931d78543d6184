"""serverConfig/agentConfig keys must be flags of the k3s command that reads them.

k3s only logs a config key its command does not define, so a typo, a server flag given to
agents, or a flag a newer k3s added silently does nothing on the node.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from stack_config import validate_cluster_spec
from tests.helpers import config_problems, example_config, minimal_config, write_stack_file
from tools import plan as plan_cli
from upstream import k3s as upstream_k3s


def one(raw: dict) -> str:
    [problem] = config_problems(raw)
    return problem


@pytest.mark.parametrize(("written", "meant"), [
    ("kubelet-args", "kubelet-arg"), ("kube-apiserver-args+", "kube-apiserver-arg"),
    ("--node-label", "node-label"), ("node_taint", "node-taint"),
    ("etcd-snapshot-retension", "etcd-snapshot-retention")])
def test_a_misspelt_server_key_is_refused_with_the_flag_meant(written: str, meant: str) -> None:
    problem = one(minimal_config(k3s={"serverConfig": {written: "x"}}))
    assert problem.startswith(f"k3s.serverConfig.{written}: ")
    assert "is not a flag of `k3s server`" in problem
    assert f"Fix: did you mean '{meant}'?" in problem


def test_a_key_like_no_flag_is_refused_without_a_guess_and_names_the_escape() -> None:
    problem = one(minimal_config(k3s={"agentConfig": {"zzzz-qqqq": True}}))
    assert problem.startswith("k3s.agentConfig.zzzz-qqqq: 'zzzz-qqqq' is not a flag of "
                              "`k3s agent`")
    assert "did you mean" not in problem
    assert "k3s.acceptUnknownFlags" in problem and "docs.k3s.io/cli/agent" in problem


@pytest.mark.parametrize("written", ["cluster-domain", "etcd-s3-bucket", "kube-apiserver-arg+",
                                     "helm-job-image"])
def test_a_server_flag_in_agent_config_is_sent_to_server_config(written: str) -> None:
    assert written.rstrip("+") in upstream_k3s.SERVER_FLAGS - upstream_k3s.AGENT_FLAGS
    problem = one(minimal_config(k3s={"agentConfig": {written: "x"}}))
    assert problem.startswith(f"k3s.agentConfig.{written}: '{written}'")
    assert "is a k3s server flag" in problem and "Fix: move it to k3s.serverConfig." in problem


def test_an_agent_only_flag_in_server_config_is_sent_to_agent_config() -> None:
    agent_only = sorted(upstream_k3s.AGENT_FLAGS - upstream_k3s.SERVER_FLAGS)
    assert agent_only, "the table has agent-only flags (e.g. disable-apiserver-lb)"
    problem = one(minimal_config(k3s={"serverConfig": {agent_only[0]: True}}))
    assert "is a k3s agent flag" in problem and "Fix: move it to k3s.agentConfig." in problem


@pytest.mark.parametrize(("block", "written"), [
    ("serverConfig", "kube-scheduler-arg+"), ("serverConfig", "l"), ("agentConfig", "l"),
    ("agentConfig", "kube-proxy-arg"), ("serverConfig", "cluster-domain"),
    ("agentConfig", "node-label+"), ("serverConfig", "supervisor-metrics")])
def test_flags_of_the_command_pass_also_through_aliases_and_append(block: str,
                                                                  written: str) -> None:
    value = True if written == "supervisor-metrics" else "x"
    spec = validate_cluster_spec(minimal_config(k3s={block: {written: value}}))
    assert written in (spec.k3s.server_config | spec.k3s.agent_config)


def test_a_flag_newer_than_the_table_passes_once_listed() -> None:
    newer = "etcd-s3-bucket-lookup-type"
    assert newer not in upstream_k3s.SERVER_FLAGS
    assert "is not a flag of `k3s server`" in one(
        minimal_config(k3s={"serverConfig": {newer: "path"}}))
    spec = validate_cluster_spec(minimal_config(k3s={"serverConfig": {newer: "path"},
                                                     "acceptUnknownFlags": [newer]}))
    assert spec.k3s.server_config == {newer: "path"}


def test_an_accepted_unknown_flag_still_meets_the_other_rules() -> None:
    # etcd-s3-session-token is newer than the table; once accepted it is still a credential.
    problem = one(minimal_config(k3s={"serverConfig": {"etcd-s3-session-token": "abc"},
                                      "acceptUnknownFlags": ["etcd-s3-session-token"]}))
    assert "is a credential given in plain text" in problem


def test_every_problem_key_is_reported_not_only_the_first() -> None:
    problems = config_problems(minimal_config(k3s={"serverConfig": {"kubelet-args": "x",
                                                                    "node-lable": "a=b"}}))
    assert sorted(p.split(":")[0] for p in problems) == ["k3s.serverConfig.kubelet-args",
                                                          "k3s.serverConfig.node-lable"]


def test_a_stack_file_with_a_misspelt_k3s_key_plans_with_exit_1_naming_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = example_config("dev")
    config.setdefault("k3s-hcloud:k3s", {})["agentConfig"] = {"kubelet-args": ["max-pods=200"]}
    code = plan_cli.main(["--stack-file", str(write_stack_file(tmp_path, config, "typo"))])
    captured = capsys.readouterr()
    assert code == plan_cli.EXIT_CONFIG
    assert ("k3s.agentConfig.kubelet-args: 'kubelet-args' is not a flag of `k3s agent`"
            in captured.err)
    assert "did you mean 'kubelet-arg'?" in captured.err
    assert "Traceback" not in captured.out + captured.err
