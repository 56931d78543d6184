"""The plan diff predicts creates, deletes, in-place updates and replacements."""

from __future__ import annotations

from pathlib import Path

from tools.engine import Plan, run_program
from tools.plan_diff import changed_paths, diff_plans
from tools.stack_files import StackConfig

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
    assert change.name == "step" and change.replace_reasons == ["triggers: triggers"]
