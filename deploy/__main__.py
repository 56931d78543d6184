"""Pulumi Deployments settings for each k3s-hcloud stack: `pulumi up` on push, previews on PRs.

Deployments run remotely and reject `--policy-pack`, so they cannot run this repository's pack;
the policy gate for pull requests is the GitHub Actions workflow (.github/workflows), and org-wide
enforcement of `pulumi up` means publishing the pack to Pulumi Cloud (`pulumi policy publish`).
"""

import pulumi
import pulumi_pulumiservice as service

CLUSTER_PROJECT = "k3s-hcloud"

config = pulumi.Config()
organization = config.require("organization")
repository = config.require("repository")
branch = config.get("branch") or "main"
stacks: list[str] = config.require_object("stacks")

for stack in stacks:
    service.DeploymentSettings(
        f"{CLUSTER_PROJECT}-{stack}",
        organization=organization,
        project=CLUSTER_PROJECT,
        stack=stack,
        source_context=service.DeploymentSettingsSourceContextArgs(
            git=service.DeploymentSettingsGitSourceArgs(branch=f"refs/heads/{branch}", repo_dir="."),
        ),
        vcs=service.DeploymentSettingsVcsArgs(
            provider="github",
            repository=repository,
            deploy_commits=True,
            preview_pull_requests=True,
            pull_request_template=False,
            # Changes to the deployment program itself or to docs never redeploy clusters.
            paths=["*.py", "components/**", "stack_config/**", "upstream/**", "requirements.txt",
                   "Pulumi.yaml", f"Pulumi.{stack}.yaml"],
        ),
        operation_context=service.DeploymentSettingsOperationContextArgs(
            options=service.OperationContextOptionsArgs(skip_intermediate_deployments=True),
        ),
    )

pulumi.export("deployedStacks", stacks)
