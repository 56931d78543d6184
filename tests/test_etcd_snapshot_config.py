"""``k3s.etcdSnapshots`` in the config model: what k3s accepts, what the program refuses."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from stack_config import validate_cluster_spec
from stack_config.cron import CronError, check_schedule
from tests.helpers import PROJECT_DIR, config_problems, example_config, minimal_config, write_stack_file

S3 = {"endpoint": "fsn1.your-objectstorage.com", "bucket": "k3s-backups",
      "accessKey": "AKIA-PLAIN", "secretKey": "PlainSecretValue"}


def snapshots(**fields: object) -> dict:
    return minimal_config(k3s={"etcdSnapshots": fields})


@pytest.mark.parametrize("schedule", ["0 */12 * * *", "*/30 2-4 * * MON-FRI", "0 0 1,15 * ?",
                                      "15 3 * jan,jul sun", "@daily", "@every 6h30m"])
def test_schedules_k3s_accepts(schedule: str) -> None:
    assert check_schedule(schedule) == schedule


@pytest.mark.parametrize(("schedule", "says"), [
    ("0 */12 * *", "has 4 field(s)"), ("60 * * * *", "minute '60' is outside 0-59"),
    ("0 0 0 * *", "day of month '0' is outside 1-31"), ("*/0 * * * *", "step '/0'"),
    ("0 5-2 * * *", "runs backwards"), ("? * * * *", "minute '?'"),
    ("@fortnightly", "not a cron descriptor"), ("0 0 * * 7", "day of week '7' is outside 0-6"),
    (" 0 * * * *", "blanks")])
def test_schedules_k3s_would_not_parse(schedule: str, says: str) -> None:
    with pytest.raises(CronError, match=re.escape(says)):
        check_schedule(schedule)


def test_a_bad_schedule_names_the_key_and_the_fix() -> None:
    problems = config_problems(snapshots(schedule="every day"))
    assert len(problems) == 1
    assert problems[0].startswith("k3s.etcdSnapshots.schedule: 'every day' is not a cron")
    assert "Fix: write five fields like '0 */6 * * *'" in problems[0]


@pytest.mark.parametrize(("s3", "key", "says"), [
    ({"endpoint": "https://fsn1.your-objectstorage.com"}, "endpoint", "has a scheme"),
    ({"endpoint": "bad host/x"}, "endpoint", "is not a host[:port]"),
    ({"bucket": "Bad_Bucket"}, "bucket", "is not an S3 bucket name"),
    ({"folder": "/leading"}, "folder", "is not a folder k3s can use"),
    ({"secretKey": ""}, "secretKey", "is empty"),
])
def test_bad_s3_settings_name_their_key(s3: dict, key: str, says: str) -> None:
    problems = config_problems(snapshots(s3={**S3, **s3}))
    assert [p for p in problems if p.startswith(f"k3s.etcdSnapshots.s3.{key}: ") and says in p]


def test_snapshots_are_refused_with_an_external_datastore_saying_why() -> None:
    problems = config_problems(minimal_config(k3s={
        "datastoreEndpoint": "postgres://db.internal:5432/k3s", "etcdSnapshots": {"s3": S3}}))
    assert len(problems) == 1 and problems[0].startswith("k3s.etcdSnapshots: k3s takes etcd "
                                                         "snapshots only of its embedded etcd")
    assert "Fix: back up the external datastore with its own tools" in problems[0]


@pytest.mark.parametrize("key", ["etcd-s3-bucket", "etcd-snapshot-retention", "etcd-s3+"])
def test_snapshot_flags_in_server_config_are_sent_to_the_dedicated_key(key: str) -> None:
    problems = config_problems(minimal_config(k3s={"serverConfig": {key: "x"},
                                                   "etcdSnapshots": {"retention": 3}}))
    assert any(p.startswith(f"k3s.serverConfig: sets {key}, which k3s.etcdSnapshots owns")
               for p in problems), problems
    assert all("pulumi config set --secret --path" in p for p in problems)


@pytest.mark.parametrize("key", ["etcd-s3-secret-key", "etcd-s3-access-key+"])
def test_s3_keys_in_plain_server_config_are_refused_as_credentials(key: str) -> None:
    problems = config_problems(minimal_config(k3s={"serverConfig": {key: "x"}}))
    assert len(problems) == 1 and problems[0].startswith(f"k3s.serverConfig.{key}: ")
    assert "credential given in plain text" in problems[0]
    assert "pulumi config set --secret --path" in problems[0]


def test_snapshot_flags_in_server_config_clash_only_with_the_dedicated_key() -> None:
    assert validate_cluster_spec(minimal_config(k3s={"serverConfig": {
        "etcd-snapshot-retention": 9}})).k3s.server_config == {"etcd-snapshot-retention": 9}
    problems = config_problems(minimal_config(k3s={"serverConfig": {
        "etcd-snapshot-retention": 9}, "etcdSnapshots": {"retention": 3}}))
    assert problems and "etcd-snapshot-retention" in problems[0]


def test_the_credentials_never_show_in_a_repr() -> None:
    spec = validate_cluster_spec(snapshots(s3=S3))
    assert "PlainSecretValue" not in repr(spec) and "AKIA-PLAIN" not in str(spec)
    assert spec.k3s.etcd_snapshots.s3.secret_key.get_secret_value() == "PlainSecretValue"


def test_keys_in_plain_text_are_refused_with_the_fix_and_without_echoing_them(
        tmp_path: Path) -> None:
    config = example_config("private-ha")
    config["k3s-hcloud:k3s"]["etcdSnapshots"] = {"s3": S3}
    stack_file = write_stack_file(tmp_path, config, "plain")
    result = subprocess.run([sys.executable, str(PROJECT_DIR / "tools" / "plan.py"),
                             "--stack-file", str(stack_file)], capture_output=True, text=True,
                            cwd=PROJECT_DIR, timeout=300)
    assert result.returncode == 1, result.stderr
    for key in ("accessKey", "secretKey"):
        assert (f"k3s.etcdSnapshots.s3.{key}: is in plain text" in result.stderr and
                f"Fix: pulumi config set --secret --path 'k3s.etcdSnapshots.s3.{key}' <value>"
                in result.stderr)
    assert "PlainSecretValue" not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr


def test_keys_set_as_secrets_are_accepted(tmp_path: Path) -> None:
    config = example_config("private-ha")
    config["k3s-hcloud:k3s"]["etcdSnapshots"] = {"s3": {
        **S3, "accessKey": {"secure": "v1:a"}, "secretKey": {"secure": "v1:b"}}}
    stack_file = write_stack_file(tmp_path, config, "secure")
    result = subprocess.run([sys.executable, str(PROJECT_DIR / "tools" / "plan.py"),
                             "--stack-file", str(stack_file)], capture_output=True, text=True,
                            cwd=PROJECT_DIR, timeout=300)
    assert result.returncode == 0, result.stderr
