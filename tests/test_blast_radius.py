"""tools/blast_radius.py: the diff of a config change, for users, from the real program."""

from __future__ import annotations

import json

import pytest

from tools import blast_radius


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = blast_radius.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_adding_a_worker_lists_only_the_new_node(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--stack", "dev", "--set", "workerPools[workers].count=3",
                       "--json")
    assert code == 0
    changes = [c for c in json.loads(out) if c["custom"]]
    assert {c["kind"] for c in changes} == {"create"}
    assert sorted(c["name"] for c in changes) == sorted(
        ["dev-workers-3", "dev-workers-3-host-key"] +
        [f"dev-workers-3-{step}" for step in ("boot", "pod-route", "secrets", "registration",
                                              "servers-at", "drain", "k3s", "uncordon",
                                              "membership",
                                              "node-metadata")])


def test_the_text_view_says_what_runs_and_that_no_server_is_replaced(
        capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--stack", "dev", "--set", "k3s.version=v1.35.4+k3s1")
    assert code == 0
    assert "+- replace command:remote:Command  dev-cp-1-k3s  (provider: triggers | runs create)" \
        in out
    assert out.rstrip().endswith("servers replaced: none; nodes re-addressed: none")
    assert "pulumi:providers:kubernetes" not in out


def test_preview_shows_the_provider_update_from_the_unknown_kubeconfig(
        capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--stack", "dev", "--set", "k3s.version=v1.35.4+k3s1",
                       "--preview")
    assert code == 0 and "as pulumi preview would show it" in out
    assert "~  update  pulumi:providers:kubernetes  dev-k8s  (kubeconfig)" in out


def test_an_invalid_result_is_a_config_error_without_traceback(
        capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--stack", "dev", "--set", "controlPlane.count=2")
    assert code == 1 and out == ""
    assert "controlPlane.count: 2 servers with embedded etcd cannot keep a quorum" in err
    assert "Traceback" not in err


def test_a_bad_path_names_the_entries_there_are(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "--stack", "dev", "--unset", "workerPools[gpu]")
    assert code == 1
    assert err.strip() == "error: workerPools[gpu]: no entry named 'gpu' (entries: ['workers'])"


def test_a_network_cidr_edit_replaces_network_and_subnet_and_re_addresses_every_node(
        capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--stack", "dev", "--set", "network.cidr=10.1.0.0/16")
    assert code == 0
    assert "+- replace hcloud:index/network:Network  dev-network  (provider: ipRange)" in out
    assert ("+- replace hcloud:index/networkSubnet:NetworkSubnet  dev-network-subnet  "
            "(provider: ipRange; provider: networkId)") in out
    assert out.rstrip().endswith("nodes re-addressed: dev-cp-1 (private), "
                                 "dev-workers-1 (private), dev-workers-2 (private)")


def test_leaving_private_only_mode_re_addresses_every_node(
        capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--stack", "private-ha", "--set", "network.privateOnly=false")
    assert code == 0
    readdressed = out.rstrip().rpartition("nodes re-addressed: ")[2].split(", ")
    assert len(readdressed) == 8 and all(n.endswith("(public)") for n in readdressed)


def test_a_destructive_edit_is_shown_as_refused_with_what_acknowledging_would_do(
        capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--stack", "dev", "--set", "clusterName=dev2")
    assert code == 0
    assert out.startswith("REFUSED on a running cluster without acknowledgement")
    assert "clusterName: this cluster exists" in out and "['rename-cluster']" in out
    assert "-  delete  hcloud:index/server:Server  dev-cp-1" in out
