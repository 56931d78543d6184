"""A value set --secret under k3s (e.g. k3s.serverConfig.etcd-s3-secret-key) stays secret end to
end: not in config.yaml, the component inputs or any plain command input; on the node it arrives
as a staged config.yaml.d drop-in, next to the tokens."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import yaml

from components.bootstrap import paths
from components.bootstrap.bundle import decode_file_bundle
from tests.program_plans import NODE, commands, plan_config
from tests.helpers import example_config

S3_SECRET = "s3-secret-for-the-drop-in-test"


def test_user_config_moves_to_a_staged_drop_in_when_k3s_is_secret(tmp_path: Path) -> None:
    config = example_config("dev")
    config["k3s-hcloud:k3s"] = {"serverConfig": {"etcd-s3": True,
                                                 "etcd-s3-secret-key": {"secure": "v1:x"}},
                                "agentConfig": {"node-label": ["tier=web"]}}

    def reveal(values: dict[str, str]) -> None:
        document = json.loads(values["k3s-hcloud:k3s"])
        document["serverConfig"]["etcd-s3-secret-key"] = S3_SECRET
        values["k3s-hcloud:k3s"] = json.dumps(document)

    plan = plan_config(tmp_path, config, reveal=reveal)
    cmds = commands(plan)
    for resource in plan.resources:
        assert S3_SECRET not in json.dumps(resource.masked_inputs()), resource.name

    server_files = decode_file_bundle(cmds["dev-cp-1-k3s"].plain_inputs()["stdin"])
    assert server_files[paths.USER_SECRETS_DROPIN].staged_name == "k3s-user.yaml"
    assert "etcd-s3" not in yaml.safe_load(server_files[paths.CONFIG_FILE].content)
    staged = dict(line.split(" ") for line in
                  cmds["dev-cp-1-secrets"].plain_inputs()["stdin"].splitlines())
    assert yaml.safe_load(base64.b64decode(staged["k3s-user.yaml"])) == {
        "etcd-s3": True, "etcd-s3-secret-key": S3_SECRET}
    assert "dev-cp-1-secrets" in cmds and "stdin" in cmds["dev-cp-1-secrets"].secret_input_paths()

    # A list the program also sets is appended to (node-label+), not replaced.
    agent = dict(line.split(" ") for line in
                 cmds["dev-workers-1-secrets"].plain_inputs()["stdin"].splitlines())
    assert yaml.safe_load(base64.b64decode(agent["k3s-user.yaml"])) == {"node-label+": ["tier=web"]}
    node = next(r for r in plan.by_type(NODE) if r.name == "dev-workers-1")
    assert "tier=web" not in json.dumps(node.masked_inputs())


def test_user_config_stays_in_config_yaml_when_nothing_is_secret(tmp_path: Path) -> None:
    config = example_config("dev")
    config["k3s-hcloud:k3s"] = {"serverConfig": {"etcd-snapshot-retention": 7}}
    plan = plan_config(tmp_path, config)
    files = decode_file_bundle(commands(plan)["dev-cp-1-k3s"].plain_inputs()["stdin"])
    assert yaml.safe_load(files[paths.CONFIG_FILE].content)["etcd-snapshot-retention"] == 7
    assert paths.USER_SECRETS_DROPIN not in files


def test_autoscaled_nodes_get_the_same_secret_drop_in() -> None:
    from components.bootstrap import node_files
    from components.bootstrap.join_user_data import join_cloud_config
    from stack_config import validate_cluster_spec

    spec = validate_cluster_spec(
        {"clusterName": "dev", "workerPools": [{"name": "w", "autoscaling": {"min": 0, "max": 3}}],
         "k3s": {"agentConfig": {"node-label": ["tier=web"], "vpn-auth": "secret-auth-key"}}},
        secret_keys=frozenset({"k3s"}))
    cloud = join_cloud_config(spec, spec.worker_pools[0], join_url="https://10.0.0.2:6443",
                              agent_token="K10abc::node:pw", egress=None)
    files = {f["path"]: f["content"] for f in cloud["write_files"]}
    staged = files[f"/var/lib/k3s-hcloud/secrets/{node_files.USER_DROPIN.name}"]
    assert yaml.safe_load(staged) == {"node-label+": ["tier=web"], "vpn-auth": "secret-auth-key"}
    inline = [base64.b64decode(line.split("inline:")[1]).decode(errors="replace")
              for line in files["/var/lib/k3s-hcloud/join-bundle"].splitlines() if "inline:" in line]
    assert inline and not any("secret-auth-key" in text for text in inline)
