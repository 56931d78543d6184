"""The pre-change snapshot and the restore, run for real on fake servers (tests/fake_etcd.py):
the command lines the program and tools/etcd_restore.py send, their order, and what each
failure in the middle leaves behind. (Both scripts are shellcheck-checked with the others in
test_bootstrap_scripts.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from components.bootstrap.remote_script import remote_script
from tests.fake_etcd import etcd_server, running, snapshots
from tests.fake_node import FakeNode
from tools import etcd_restore
from tools.etcd_restore import EXIT_FAILED, EXIT_OK, Outcome, run_restore
from upstream.k3s_etcd_snapshots import ETCD_DATA_DIR, SERVER_DATA_DIR

SNAPSHOT_ENV = {"SNAPSHOT_NAME": "before-cp-2-v1-35-4-k3s1", "ETCD_DATA_DIR": ETCD_DATA_DIR}
SERVERS = ("cp-1", "cp-2", "cp-3")
SNAPSHOT = "before-cp-2-v1-35-4-k3s1-node-1764480000"


def snapshot_line() -> str:
    return remote_script("etcd-snapshot.sh", SNAPSHOT_ENV)


# -- the pre-change snapshot -------------------------------------------------------------------

def test_a_server_with_etcd_data_takes_the_named_snapshot(tmp_path: Path) -> None:
    node = etcd_server(tmp_path)
    result = node.run_command_line(snapshot_line(), SNAPSHOT_INTERVAL="0")
    assert result.returncode == 0, result.stderr
    assert "k3s etcd-snapshot save --name before-cp-2-v1-35-4-k3s1" in node.calls()
    assert snapshots(node) == [SNAPSHOT]


def test_a_server_without_etcd_data_has_nothing_to_snapshot(tmp_path: Path) -> None:
    node = etcd_server(tmp_path, etcd_data=False)
    result = node.run_command_line(snapshot_line())
    assert result.returncode == 0
    assert "nothing to snapshot" in result.stdout
    assert not [call for call in node.calls() if call.startswith("k3s")]


def test_a_passing_failure_is_retried(tmp_path: Path) -> None:
    node = etcd_server(tmp_path)
    node.flag("snapshot-failures", "2")
    result = node.run_command_line(snapshot_line(), SNAPSHOT_INTERVAL="0")
    assert result.returncode == 0, result.stderr
    assert node.calls().count("k3s etcd-snapshot save --name before-cp-2-v1-35-4-k3s1") == 3


def test_a_snapshot_that_keeps_failing_stops_the_change(tmp_path: Path) -> None:
    node = etcd_server(tmp_path)
    node.flag("snapshot-failures", "9")
    result = node.run_command_line(snapshot_line(), SNAPSHOT_INTERVAL="0")
    assert result.returncode == 1
    assert "the change stops here" in result.stderr
    assert "k3s.etcdSnapshots.beforeChanges: false" in result.stderr
    assert snapshots(node) == []
    assert node.calls().count("k3s etcd-snapshot save --name before-cp-2-v1-35-4-k3s1") == 3


# -- the restore -------------------------------------------------------------------------------

@pytest.fixture
def cluster(tmp_path: Path) -> dict[str, FakeNode]:
    nodes = {key: etcd_server(tmp_path / key) for key in SERVERS}
    (nodes["cp-1"].state / "snapshots").mkdir()
    (nodes["cp-1"].state / "snapshots" / SNAPSHOT).touch()
    return nodes


def restore(cluster: dict[str, FakeNode], start: str | None = None,
            snapshot: str = SNAPSHOT) -> tuple[int, list[str], list[str]]:
    """Run the tool against the fake servers; returns (exit code, output, servers in order)."""
    said: list[str] = []
    order: list[str] = []

    def runner(server: str, line: str) -> Outcome:
        order.append(server)
        result = cluster[server].run_command_line(line, HEALTH_INTERVAL="0",
                                                  HEALTH_ATTEMPTS="3")
        return Outcome(result.returncode == 0, result.stdout + result.stderr)

    code = run_restore(list(SERVERS), snapshot, runner, sudo=False, start=start, say=said.append)
    return code, said, order


def test_a_restore_resets_the_first_server_then_the_others_rejoin(
        cluster: dict[str, FakeNode]) -> None:
    code, said, order = restore(cluster)
    assert code == EXIT_OK, said
    assert order == ["cp-1", "cp-2", "cp-3", "cp-1", "cp-1", "cp-2", "cp-3"]
    first = cluster["cp-1"]
    # Not in the local snapshot folder of the (fake) server: restored by name, i.e. from S3.
    assert (first.state / "restored-from").read_text().strip() == SNAPSHOT
    assert all(running(node) for node in cluster.values())
    for key in ("cp-2", "cp-3"):
        node = cluster[key]
        assert node.file(f"{SERVER_DATA_DIR}/db.before-restore/etcd/member").is_dir()
        assert not node.file(f"{ETCD_DATA_DIR}/member").exists()
    # The first server keeps its data directory: k3s itself moves the old data aside.
    assert first.file(f"{ETCD_DATA_DIR}/member").is_dir()


def test_a_local_snapshot_file_is_restored_from_disk(cluster: dict[str, FakeNode]) -> None:
    first = cluster["cp-1"]
    local = first.file(f"/var/lib/rancher/k3s/server/db/snapshots/{SNAPSHOT}")
    local.parent.mkdir(parents=True)
    local.touch()
    code, said, _ = restore(cluster)
    assert code == EXIT_OK, said
    reset = next(c for c in first.calls() if c.startswith("k3s server"))
    assert reset == ("k3s server --cluster-reset --cluster-reset-restore-path="
                     f"/var/lib/rancher/k3s/server/db/snapshots/{SNAPSHOT} --etcd-s3=false")


def test_an_unknown_snapshot_changes_nothing(cluster: dict[str, FakeNode]) -> None:
    code, said, order = restore(cluster, snapshot="before-nothing-1")
    assert code == EXIT_FAILED and order == ["cp-1"]
    assert "Nothing was changed" in "\n".join(said)
    assert all(running(node) for node in cluster.values())


def test_a_failed_reset_stops_with_every_server_down_and_resumes_from_the_reset(
        cluster: dict[str, FakeNode]) -> None:
    cluster["cp-1"].flag("reset-fails")
    code, said, order = restore(cluster)
    text = "\n".join(said)
    assert code == EXIT_FAILED
    assert order == ["cp-1", "cp-2", "cp-3", "cp-1", "cp-1"]  # no rejoin was attempted
    assert "FAILED at step reset on cp-1" in text and "the cluster is down" in text
    assert "--from reset" in text
    assert not any(running(node) for node in cluster.values())
    assert cluster["cp-2"].file(f"{ETCD_DATA_DIR}/member").is_dir()  # untouched

    (cluster["cp-1"].state / "reset-fails").unlink()
    code, said, order = restore(cluster, start="reset")
    assert code == EXIT_OK, said
    assert order == ["cp-1", "cp-2", "cp-3"]
    assert all(running(node) for node in cluster.values())


def test_a_failed_rejoin_stops_before_the_next_server(cluster: dict[str, FakeNode]) -> None:
    cluster["cp-2"].flag("start-fails")
    code, said, order = restore(cluster)
    text = "\n".join(said)
    assert code == EXIT_FAILED and order[-1] == "cp-2"
    assert "FAILED at step rejoin:cp-2" in text
    assert "runs on the restored data with cp-1; not yet rejoined: cp-2, cp-3" in text
    assert running(cluster["cp-1"]) and not running(cluster["cp-3"])
    assert cluster["cp-3"].file(f"{ETCD_DATA_DIR}/member").is_dir()  # cp-3 untouched

    (cluster["cp-2"].state / "start-fails").unlink()
    code, said, order = restore(cluster, start="rejoin:cp-2")
    assert code == EXIT_OK and order == ["cp-2", "cp-3"]
    assert all(running(node) for node in cluster.values())


def test_a_reset_refuses_while_k3s_runs(cluster: dict[str, FakeNode]) -> None:
    code, said, _ = restore(cluster, start="reset")
    assert code == EXIT_FAILED and "stop every server first" in "\n".join(said)
    assert not (cluster["cp-1"].state / "restored-from").exists()


def test_an_unknown_resume_step_is_a_usage_error(cluster: dict[str, FakeNode]) -> None:
    code, said, order = restore(cluster, start="rejoin:cp-9")
    assert code == etcd_restore.EXIT_USAGE and order == [] and "no such step" in said[0]


def test_the_tool_talks_ssh_with_options_before_the_destination() -> None:
    seen: list[list[str]] = []

    def fake_run(argv: list[str], **_: object) -> object:
        seen.append(argv)
        return type("Done", (), {"returncode": 0, "stdout": "", "stderr": ""})()

    runner = etcd_restore.ssh_runner({"cp-1": "ssh -J root@203.0.113.1 root@10.0.1.11"})
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(etcd_restore.subprocess, "run", fake_run)
        assert runner("cp-1", "env STEP=check bash -c x etcd-restore.sh").ok
    assert seen == [["ssh", "-o", "BatchMode=yes", "-J", "root@203.0.113.1", "root@10.0.1.11",
                     "env STEP=check bash -c x etcd-restore.sh"]]


def test_the_tool_reads_servers_and_ssh_paths_from_the_stack_outputs(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.program_plans import example_plan

    outputs = example_plan("private-ha").outputs
    servers = outputs["etcdSnapshots"].value["servers"]
    nodes = {key: etcd_server(tmp_path / key) for key in servers}
    (nodes[servers[0]].state / "snapshots").mkdir()
    (nodes[servers[0]].state / "snapshots" / SNAPSHOT).touch()
    ssh_paths: list[dict[str, str]] = []

    def runner_for(ssh: dict[str, str]):
        ssh_paths.append(ssh)

        def run(server: str, line: str) -> Outcome:
            result = nodes[server].run_command_line(line, HEALTH_INTERVAL="0")
            return Outcome(result.returncode == 0, result.stdout + result.stderr)
        return run

    monkeypatch.setattr(etcd_restore, "stack_output",
                        lambda stack, name: outputs[name].value)
    monkeypatch.setattr(etcd_restore, "ssh_runner", runner_for)
    assert etcd_restore.main(["--stack", "private-ha", "--snapshot", SNAPSHOT, "--yes"]) == EXIT_OK
    assert ssh_paths == [outputs["sshCommands"].value]
    assert (nodes[servers[0]].state / "restored-from").read_text().strip() == SNAPSHOT
    assert all(running(node) for node in nodes.values())


@pytest.mark.parametrize("snapshot", ["../etc/passwd", "a b", ""])
def test_the_tool_refuses_a_snapshot_that_is_not_a_name(snapshot: str) -> None:
    assert etcd_restore.main(["--stack", "x", "--snapshot", snapshot]) == etcd_restore.EXIT_USAGE
