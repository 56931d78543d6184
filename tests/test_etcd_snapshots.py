"""Etcd snapshots on the whole program: S3 settings where k3s reads them, the S3 keys only as a
secret drop-in, a named snapshot before each server's k3s step, and the stack output."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
import yaml

from components.bootstrap import bundle, paths
from tests.program_plans import depends_on
from tests.helpers import PROJECT_DIR, example_config, write_stack_file
from tests.sentinels import (S3_ACCESS_KEY, S3_SECRET_KEY, leaks, plant_s3_keys,
                             with_planted_datastore, with_planted_etcd_s3)
from tools import plan as plan_cli
from tools.lib.engine import Plan, RecordedResource, run_program
from tools.lib.stack_files import load_stack_config

COMMAND = "command:remote:Command"
NODE = "k3s-hcloud:bootstrap:K3sNode"
SERVERS = ("prod-cp-1", "prod-cp-2", "prod-cp-3")


def plan_with_s3(directory: Path, stack: str = "private-ha") -> Plan:
    config = with_planted_etcd_s3(example_config(stack))
    stack_file = write_stack_file(directory, config, stack)
    return run_program(PROJECT_DIR, plant_s3_keys(load_stack_config(PROJECT_DIR, stack_file,
                                                                    stack)))


@pytest.fixture(scope="module")
def planned(tmp_path_factory: pytest.TempPathFactory) -> Plan:
    return plan_with_s3(tmp_path_factory.mktemp("s3"))


def command(plan: Plan, name: str) -> RecordedResource:
    return plan.get(COMMAND, name)


def test_every_server_reads_the_snapshot_settings_from_config_yaml(planned: Plan) -> None:
    for node in planned.by_type(NODE):
        config = node.plain_inputs()["k3sConfig"]
        if node.name in SERVERS:
            assert {key: config[key] for key in config if key.startswith("etcd-")} == {
                "etcd-snapshot-schedule-cron": "0 */6 * * *", "etcd-snapshot-retention": 20,
                "etcd-snapshot-compress": True, "etcd-s3": True,
                "etcd-s3-endpoint": "fsn1.your-objectstorage.com",
                "etcd-s3-bucket": "k3s-backups", "etcd-s3-folder": "clusters/test",
                # Hetzner Object Storage: the endpoint's location is the region.
                "etcd-s3-region": "fsn1"}, node.name
        else:
            assert not [key for key in config if key.startswith("etcd-")], node.name


def test_the_s3_keys_reach_servers_only_as_a_staged_secret_drop_in(planned: Plan) -> None:
    for server in SERVERS:
        files = bundle.decode_file_bundle(command(planned, f"{server}-k3s").plain_inputs()["stdin"])
        assert files[paths.ETCD_S3_DROPIN].staged_name == "etcd-s3.yaml"
        secrets = command(planned, f"{server}-secrets")
        assert "stdin" in secrets.secret_input_paths()
        staged = dict(line.split(" ") for line in secrets.plain_inputs()["stdin"].splitlines())
        assert yaml.safe_load(base64.b64decode(staged["etcd-s3.yaml"])) == {
            "etcd-s3-access-key": S3_ACCESS_KEY, "etcd-s3-secret-key": S3_SECRET_KEY}
    agent = command(planned, "prod-general-1-secrets").plain_inputs()["stdin"]
    assert "etcd-s3.yaml" not in agent


def test_no_s3_key_appears_in_clear_in_inputs_outputs_or_logs(planned: Plan) -> None:
    for resource in planned.resources:
        assert leaks(json.dumps(resource.masked_inputs())) == [], resource.urn
    for name, output in planned.outputs.items():
        if not output.secret:
            assert leaks(json.dumps(output.value)) == [], name
    assert all(leaks(message) == [] for _, message in planned.logs)
    # Positive control: the keys are in the plan (as secrets), so the checks above can fail.
    everything = json.dumps([r.plain_inputs() for r in planned.resources])
    assert {S3_ACCESS_KEY, S3_SECRET_KEY} <= {s.removesuffix(" (base64)")
                                              for s in leaks(everything)}


def test_each_server_step_waits_for_a_snapshot_named_after_it(planned: Plan) -> None:
    first_host = command(planned, "prod-cp-1-k3s").plain_inputs()["connection"]["host"]
    for server in SERVERS:
        snapshot = command(planned, f"{server}-etcd-snapshot")
        inputs = snapshot.plain_inputs()
        assert depends_on(planned, command(planned, f"{server}-k3s"), snapshot)
        assert f"SNAPSHOT_NAME=before-{server}-v1-35-3-k3s1 " in inputs["create"]
        assert inputs["create"].endswith(" etcd-snapshot.sh")
        # A version change, a replaced server, a changed etcd configuration: each re-runs it.
        assert inputs["triggers"][0] == "v1.35.3+k3s1" and len(inputs["triggers"]) == 3
        # The etcd-config digest covers the S3 keys: it stays secret, the rest is readable.
        assert "triggers[2]" in snapshot.secret_input_paths()
        assert "triggers[0]" not in snapshot.secret_input_paths()
        # On the first server, whose etcd holds the data whichever server is replaced.
        assert inputs["connection"]["host"] == first_host
        assert S3_SECRET_KEY not in json.dumps(inputs)


def test_a_snapshot_precedes_every_change_of_etcd_membership(planned: Plan) -> None:
    members = [r for r in planned.by_type(COMMAND) if r.name.endswith("-etcd-snapshot-members")]
    assert len(members) == 1
    assert members[0].plain_inputs()["triggers"] == list(SERVERS)
    for server in SERVERS[1:]:
        assert depends_on(planned, command(planned, f"{server}-membership"), members[0])
    # Not before the first server runs: there is nothing to snapshot yet.
    assert depends_on(planned, members[0], command(planned, "prod-cp-1-k3s"))


def test_the_output_says_where_snapshots_go_and_how_to_list_them(planned: Plan) -> None:
    output = planned.outputs["etcdSnapshots"]
    assert not output.secret
    assert output.value["s3"] == "https://fsn1.your-objectstorage.com/k3s-backups/clusters/test/"
    assert output.value["servers"] == list(SERVERS)
    ssh = planned.outputs["sshCommands"].value["prod-cp-1"]
    assert output.value["list"] == f"{ssh} k3s etcd-snapshot ls"


def test_an_external_datastore_has_no_snapshot_steps_or_output(tmp_path: Path) -> None:
    config = with_planted_datastore(example_config("private-ha"))
    plan = run_program(PROJECT_DIR, load_stack_config(
        PROJECT_DIR, write_stack_file(tmp_path, config, "private-ha"), "private-ha"))
    assert not [r.name for r in plan.by_type(COMMAND) if "etcd-snapshot" in r.name]
    assert "etcdSnapshots" not in plan.outputs


def test_before_changes_false_removes_only_the_snapshot_steps(tmp_path: Path) -> None:
    config = example_config("private-ha")
    config["k3s-hcloud:k3s"]["etcdSnapshots"] = {"beforeChanges": False}
    plan = run_program(PROJECT_DIR, load_stack_config(
        PROJECT_DIR, write_stack_file(tmp_path, config, "private-ha"), "private-ha"))
    assert not [r.name for r in plan.by_type(COMMAND) if "etcd-snapshot" in r.name]
    assert plan.outputs["etcdSnapshots"].value["beforeChanges"] is False


# -- the plan CLI: text, --json and --out with the S3 keys planted -------------------------------

@pytest.fixture
def s3_stack_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    original = plan_cli.load_stack_config
    monkeypatch.setattr(plan_cli, "load_stack_config",
                        lambda *args, **kwargs: plant_s3_keys(original(*args, **kwargs)))
    config = with_planted_etcd_s3(example_config("private-ha"))
    return write_stack_file(tmp_path, config, "private-ha")


@pytest.mark.parametrize("mode", ["text", "json", "out"])
def test_a_stack_with_s3_snapshots_plans_cleanly_with_every_secret_secret(
        mode: str, s3_stack_file: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    out_dir = tmp_path / "machine-files"
    args = ["--stack-file", str(s3_stack_file)]
    args += {"text": [], "json": ["--json"], "out": ["--out", str(out_dir)]}[mode]
    assert plan_cli.main(args) == plan_cli.EXIT_OK
    captured = capsys.readouterr()
    shown = captured.out + captured.err
    assert leaks(shown) == []
    if mode == "text":
        assert "etcdSnapshots:" in captured.out
    if mode == "json":
        document = json.loads(captured.out)
        assert document["outputs"]["etcdSnapshots"]["s3"].startswith("https://fsn1.")
    if mode == "out":
        written = [path for path in out_dir.rglob("*") if path.is_file()]
        assert written
        for path in written:
            assert leaks(path.read_text(errors="replace")) == [], path


def test_the_registered_snapshot_command_runs_on_a_server(planned: Plan, tmp_path: Path) -> None:
    from tests.fake_etcd import etcd_server, snapshots

    line = command(planned, "prod-cp-2-etcd-snapshot").plain_inputs()["create"]
    node = etcd_server(tmp_path / "cp-1")
    result = node.run_command_line(line, SNAPSHOT_INTERVAL="0")
    assert result.returncode == 0, result.stderr
    assert snapshots(node) == ["before-prod-cp-2-v1-35-3-k3s1-node-1764480000"]
