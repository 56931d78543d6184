"""The plan diff predicts creates, deletes, in-place updates and replacements."""

from __future__ import annotations

from pathlib import Path

from tools.lib.engine import Plan, run_program
from tools.lib.plan_diff import changed_paths, diff_plans
from tools.lib.stack_files import StackConfig

PROGRAM = '''
import pulumi, pulumi_hcloud as hcloud, pulumi_command as command
cfg = pulumi.Config()
for name in cfg.require_object("servers"):
    hcloud.Server(name, server_type=cfg.get("type") or "cx23", image=cfg.get("image") or "ubuntu-24.04",
                  user_data=cfg.get("userData") or "#cloud-config\\n", labels={"n": name},
                  opts=pulumi.ResourceOptions(ignore_changes=cfg.get_object("ignore") or []))
command.remote.Command("step", connection=command.remote.ConnectionArgs(host="198.18.0.1"),
                       create="true", triggers=[cfg.get("trigger") or "a"])
'''


def plan(tmp_path: Path, **config: str) -> Plan:
    (tmp_path / "__main__.py").write_text(PROGRAM)
    values = {"p:servers": '["a", "b"]', **{f"p:{k}": v for k, v in config.items()}}
    return run_program(tmp_path, StackConfig(stack="s", project="p", values=values))


def test_changed_paths_walks_dicts_and_lists() -> None:
    assert changed_paths({"a": {"b": 1, "c": [1, 2]}}, {"a": {"b": 2, "c": [1, 3]}}) == ["a.b", "a.c[1]"]
    assert changed_paths({"a": 1}, {"b": 1}) == ["a", "b"]
    assert changed_paths([1], [1, 2]) == [""]


def test_identical_plans_have_no_changes(tmp_path: Path) -> None:
    assert diff_plans(plan(tmp_path), plan(tmp_path)).changes == []


def test_added_and_removed_resources(tmp_path: Path) -> None:
    diff = diff_plans(plan(tmp_path), plan(tmp_path, servers='["a", "c"]'))
    assert [c.name for c in diff.created] == ["c"] and [c.name for c in diff.deleted] == ["b"]
    assert diff.updated == [] and diff.replaced == []


def test_server_type_is_an_update_but_image_is_a_provider_replacement(tmp_path: Path) -> None:
    resized = diff_plans(plan(tmp_path), plan(tmp_path, type="cx33"))
    assert {c.name for c in resized.updated} == {"a", "b"} and resized.replaced == []
    assert resized.updated[0].changed_paths == ["serverType"]
    reimaged = diff_plans(plan(tmp_path), plan(tmp_path, image="debian-12"))
    assert {c.name for c in reimaged.replaced} == {"a", "b"}
    assert reimaged.replaced[0].replace_reasons == ["provider: image"]


def test_ignore_changes_hides_a_forcing_change(tmp_path: Path) -> None:
    before = plan(tmp_path, ignore='["userData"]')
    after = plan(tmp_path, ignore='["userData"]', userData="#cloud-config\\npackages: [jq]\\n")
    assert diff_plans(before, after).changes == []


def test_changed_triggers_replace_a_command(tmp_path: Path) -> None:
    diff = diff_plans(plan(tmp_path), plan(tmp_path, trigger="b"))
    [change] = diff.replaced
    assert change.name == "step" and change.replace_reasons == ["provider: triggers"]


# -- the Kubernetes provider, preview unknowns, command scripts ------------------------------------
CLUSTER_PROGRAM = '''
import pulumi, pulumi_command as command, pulumi_kubernetes as k8s
cfg = pulumi.Config()
ssh = command.remote.ConnectionArgs(host="198.18.0.1")
KUBECONFIG = """apiVersion: v1
kind: Config
clusters:
- {{name: one, cluster: {{server: "{server}", certificate-authority-data: Q0E=}}}}
users:
- {{name: admin, user: {{token: t}}}}
contexts:
- {{name: one, context: {{cluster: one, user: admin}}}}
current-context: one
"""
reader = command.remote.Command("reader", connection=ssh, create="cat k3s.yaml",
                                triggers=[cfg.get("readerTrigger") or "a"])
server = cfg.get("server") or "https://10.0.0.1:6443"
kubeconfig = reader.stdout.apply(lambda _: KUBECONFIG.format(server=server))
provider = k8s.Provider("k8s", kubeconfig=kubeconfig, cluster_identifier=cfg.get("identity"))
k8s.core.v1.ConfigMap("settings", data={"a": "b"}, opts=pulumi.ResourceOptions(provider=provider))
command.remote.Command("member", connection=ssh, create="await", delete="drain",
                       triggers=[cfg.get("memberTrigger") or "a"])
'''


def cluster_plan(tmp_path: Path, **config: str) -> Plan:
    (tmp_path / "__main__.py").write_text(CLUSTER_PROGRAM)
    values = {f"p:{k}": v for k, v in config.items()}
    return run_program(tmp_path, StackConfig(stack="s", project="p", values=values))


def by_name(diff) -> dict[str, tuple[str, list[str]]]:
    return {c.name: (c.kind, c.replace_reasons) for c in diff.changes}


def test_a_new_api_server_address_replaces_the_provider_and_everything_it_manages(
        tmp_path: Path) -> None:
    diff = diff_plans(cluster_plan(tmp_path), cluster_plan(tmp_path, server="https://lb:6443"))
    assert by_name(diff) == {
        "k8s": ("replace", ["provider: active cluster of the kubeconfig changed"]),
        "settings": ("replace", ["provider replaced: k8s"]),
    }


def test_a_fixed_cluster_identifier_makes_a_new_address_an_update(tmp_path: Path) -> None:
    before = cluster_plan(tmp_path, identity="ca-1")
    moved = diff_plans(before, cluster_plan(tmp_path, identity="ca-1", server="https://lb:6443"))
    assert by_name(moved) == {"k8s": ("update", [])}
    assert moved.changes[0].changed_paths == ["kubeconfig"]
    rebuilt = diff_plans(before, cluster_plan(tmp_path, identity="ca-2"))
    assert by_name(rebuilt) == {"k8s": ("replace", ["provider: clusterIdentifier changed"]),
                                "settings": ("replace", ["provider replaced: k8s"])}


def test_preview_treats_outputs_of_a_rerun_command_as_unknown(tmp_path: Path) -> None:
    before, after = cluster_plan(tmp_path), cluster_plan(tmp_path, readerTrigger="b")
    # pulumi up: the re-read kubeconfig is the same text, nothing else changes.
    assert by_name(diff_plans(before, after)) == {"reader": ("replace", ["provider: triggers"])}
    # pulumi preview: the kubeconfig is unknown, and the provider's heuristic replaces it all.
    assert by_name(diff_plans(before, after, preview=True)) == {
        "reader": ("replace", ["provider: triggers"]),
        "k8s": ("replace", ["provider: kubeconfig unknown during preview"]),
        "settings": ("replace", ["provider replaced: k8s"]),
    }


def test_preview_with_a_cluster_identifier_only_updates_the_provider(tmp_path: Path) -> None:
    diff = diff_plans(cluster_plan(tmp_path, identity="ca-1"),
                      cluster_plan(tmp_path, identity="ca-1", readerTrigger="b"), preview=True)
    assert by_name(diff) == {"reader": ("replace", ["provider: triggers"]),
                             "k8s": ("update", [])}


def test_command_changes_say_which_scripts_run(tmp_path: Path) -> None:
    before = cluster_plan(tmp_path)
    [member] = diff_plans(before, cluster_plan(tmp_path, memberTrigger="b")).changes
    assert member.kind == "replace" and member.scripts == ("create", "delete") and member.custom
    [reread] = diff_plans(before, cluster_plan(tmp_path, readerTrigger="b")).changes
    assert reread.scripts == ("create",)
