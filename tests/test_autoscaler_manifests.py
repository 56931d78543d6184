"""The cluster-autoscaler's rendered node groups, cluster config and manifests, checked against the
Hetzner provider's own facts (upstream/cluster_autoscaler.json) and Kubernetes' schemas."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from components.kubernetes import autoscaler
from stack_config import ClusterSpec, validate_cluster_spec
from tests.helpers import GIT_MIRROR_DIR, PROJECT_DIR, example_config
from tools import cluster_autoscaler_upstream
from upstream import cluster_autoscaler as upstream

MINOR = (1, 35)


def example_spec() -> ClusterSpec:
    raw = {key.removeprefix("k3s-hcloud:"): value
           for key, value in example_config("autoscale").items() if key.startswith("k3s-hcloud:")}
    return validate_cluster_spec(raw)


def test_one_node_group_per_autoscaled_pool_holds_only_the_autoscalers_share() -> None:
    groups = autoscaler.node_groups(example_spec())
    assert [g.nodes_flag for g in groups] == [
        "--nodes=0:4:cx33:nbg1:scale-general",   # count 2 of max 6 belong to Pulumi
        "--nodes=0:5:cax21:nbg1:scale-batch",    # count defaults to min 0
    ]


def test_a_pool_pulumi_already_fills_to_max_gets_no_node_group() -> None:
    spec = validate_cluster_spec({"clusterName": "dev", "workerPools": [
        {"name": "full", "count": 3, "autoscaling": {"min": 1, "max": 3}}]})
    assert autoscaler.node_groups(spec) == []


def test_nodes_flags_parse_the_way_the_provider_parses_them() -> None:
    # createNodePoolSpec: SplitN(spec, ":", 5) → min, max, type, region, name.
    for group in autoscaler.node_groups(example_spec()):
        minimum, maximum, server_type, region, name = group.nodes_flag.removeprefix(
            "--nodes=").split(":", 4)
        assert int(minimum) == 0 and int(maximum) == group.max_size
        assert (server_type, region, name) == (group.pool.server_type, group.location, group.id)


def test_cluster_config_carries_labels_taints_image_and_spread_per_group() -> None:
    groups = autoscaler.node_groups(example_spec())
    config = autoscaler.cluster_config(groups, {g.id: f"#cloud-config for {g.id}" for g in groups},
                                       {"scale-general": "42"})
    general, batch = config["nodeConfigs"]["scale-general"], config["nodeConfigs"]["scale-batch"]
    assert general["placementGroup"] == "42" and "placementGroup" not in batch
    assert batch["taints"] == [{"key": "workload", "value": "batch", "effect": "NoSchedule"}]
    assert batch["labels"] == {"node.kubernetes.io/pool": "batch"}
    assert batch["imagesForArch"] == {"amd64": "ubuntu-24.04", "arm64": "ubuntu-24.04"}
    assert batch["cloudInit"] == "#cloud-config for scale-batch"
    assert json.loads(base64.b64decode(autoscaler.encoded_cluster_config(config))) == config


def _fields(value: dict[str, Any]) -> set[str]:
    return {key.lower() for key in value}


def test_cluster_config_keys_are_fields_the_provider_reads() -> None:
    # Go's encoding/json matches keys to struct fields case-insensitively; an unknown key would
    # be dropped without a word, so every key must be a field of the release's structs.
    groups = autoscaler.node_groups(example_spec())
    config = autoscaler.cluster_config(groups, {g.id: "x" for g in groups}, {"scale-general": "1"})
    fields = upstream.hetzner_config_fields(MINOR)
    assert _fields(config) <= {f.lower() for f in fields["clusterConfig"]}
    for node in config["nodeConfigs"].values():
        assert _fields(node) <= {f.lower() for f in fields["nodeConfig"]}
        assert _fields(node["imagesForArch"]) == {f.lower() for f in fields["imageList"]}


@pytest.mark.parametrize("private_only", [False, True])
def test_environment_names_are_ones_the_provider_reads(private_only: bool) -> None:
    targets = autoscaler.ProviderTargets(network="7", ssh_key="9",
                                         firewall=None if private_only else "3")
    env = autoscaler.provider_environment(targets, private_only=private_only)
    names = {item["name"] for item in env}
    assert names <= set(upstream.hetzner_environment(MINOR))
    values = {item["name"]: item.get("value") for item in env}
    expected_public = "false" if private_only else "true"
    assert values["HCLOUD_PUBLIC_IPV4"] == values["HCLOUD_PUBLIC_IPV6"] == expected_public
    assert ("HCLOUD_FIREWALL" in names) is not private_only
    assert values["HCLOUD_SSH_KEY"] == "9" and values["HCLOUD_NETWORK"] == "7"
    legacy = autoscaler.provider_environment(targets, private_only=private_only,
                                             config_file=False)
    assert {item["name"] for item in legacy} <= set(upstream.hetzner_environment((1, 32)))
    for variables, secret_name in ((env, "HCLOUD_TOKEN"), (legacy, "HCLOUD_TOKEN"),
                                   (legacy, "HCLOUD_CLUSTER_CONFIG")):
        item = next(i for i in variables if i["name"] == secret_name)
        assert "value" not in item and item["valueFrom"]["secretKeyRef"]["name"] == \
            autoscaler.SECRET_NAME


def test_scale_down_is_configured_with_drain_timings() -> None:
    args = autoscaler.autoscaler_args(autoscaler.node_groups(example_spec()))
    assert "--scale-down-enabled=true" in args
    assert "--scale-down-unneeded-time=10m" in args
    assert "--max-graceful-termination-sec=600" in args
    assert args[0] == "--cloud-provider=hetzner"


def test_the_deployment_runs_on_control_plane_nodes_as_non_root() -> None:
    manifest = autoscaler.deployment("img", ["--a"], [])
    pod = manifest["spec"]["template"]["spec"]
    assert pod["nodeSelector"] == {"node-role.kubernetes.io/control-plane": "true"}
    container = pod["containers"][0]
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["args"] == ["--a"]


def test_the_image_is_the_release_of_the_clusters_kubernetes_minor() -> None:
    assert upstream.image_for(MINOR) == \
        f"registry.k8s.io/autoscaling/cluster-autoscaler:v{upstream.release_for(MINOR)}"
    assert upstream.release_for(MINOR).startswith("1.35.")
    assert upstream.release_for((1, 20)) is None


def test_rbac_comes_from_upstreams_chart_and_lets_the_autoscaler_drain_and_lead() -> None:
    cluster_rules, role_rules = upstream.rbac_rules(MINOR)
    granted = {(group, resource, verb) for rule in cluster_rules
               for group in rule["apiGroups"] for resource in rule["resources"]
               for verb in rule["verbs"]}
    assert ("", "pods/eviction", "create") in granted
    assert ("", "nodes", "update") in granted
    assert ("coordination.k8s.io", "leases", "create") in granted
    manifests = autoscaler.rbac_manifests(cluster_rules, role_rules)
    assert [m["kind"] for m in manifests] == ["ServiceAccount", "ClusterRole",
                                              "ClusterRoleBinding", "Role", "RoleBinding"]


def test_rendered_manifests_pass_kubernetes_schema_validation(tmp_path: Path) -> None:
    validate = pytest.importorskip("kubernetes_validate")
    documents = [*autoscaler.rbac_manifests(*upstream.rbac_rules(MINOR)),
                 autoscaler.deployment("registry.k8s.io/autoscaling/cluster-autoscaler:v1.35.2",
                                       ["--cloud-provider=hetzner"], [])]
    for document in documents:
        validate.validate(document, "1.35.0", strict=True)


# -- upstream facts are derived, not transcribed ---------------------------------------------------

def test_the_upstream_facts_regenerate_from_a_kubernetes_autoscaler_clone() -> None:
    git_dir = Path(os.environ.get(cluster_autoscaler_upstream.GIT_DIR_VARIABLE)
                   or GIT_MIRROR_DIR / "kubernetes+autoscaler" / "repo")
    if not git_dir.exists():
        pytest.skip(f"no kubernetes/autoscaler clone at {git_dir} (set AUTOSCALER_GIT_DIR)")
    result = subprocess.run([sys.executable, str(PROJECT_DIR / "tools" /
                                                 "cluster_autoscaler_upstream.py"),
                             "--git-dir", str(git_dir), "--check"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr


def test_template_rules_drop_conditional_blocks() -> None:
    template = ("{{- if .Values.rbac.create -}}\nkind: Role\nrules:\n  - apiGroups: ['']\n"
                "    resources: [pods]\n    verbs:\n      - get\n"
                "{{- if .Values.other }}\n      - delete\n{{- end }}\n{{- end -}}\n")
    assert cluster_autoscaler_upstream.template_rules(template) == [
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]


def test_the_config_is_mounted_from_the_secret_for_releases_that_read_a_file() -> None:
    env = autoscaler.provider_environment(
        autoscaler.ProviderTargets(network="1", ssh_key="2", firewall="3"), private_only=False)
    values = {item["name"]: item.get("value") for item in env}
    assert values["HCLOUD_CLUSTER_CONFIG_FILE"] == "/etc/cluster-autoscaler/cluster-config.json"
    assert "HCLOUD_CLUSTER_CONFIG" not in values
    pod = autoscaler.deployment("img", [], env)["spec"]["template"]["spec"]
    [volume] = pod["volumes"]
    assert volume["secret"]["secretName"] == autoscaler.SECRET_NAME
    assert volume["secret"]["defaultMode"] == 0o440 and pod["securityContext"]["fsGroup"] == 65534
    assert pod["containers"][0]["volumeMounts"][0]["mountPath"] == autoscaler.CONFIG_MOUNT
    assert "HCLOUD_CLUSTER_CONFIG_FILE" not in upstream.hetzner_environment((1, 32))
    assert "HCLOUD_CLUSTER_CONFIG_FILE" in upstream.hetzner_environment(MINOR)


def test_an_environment_variable_too_large_for_linux_is_refused() -> None:
    assert autoscaler.check_environment_size("e30=") == "e30="
    with pytest.raises(ValueError, match="more than one environment variable holds"):
        autoscaler.check_environment_size("A" * autoscaler.MAX_ENVIRONMENT_STRING)
