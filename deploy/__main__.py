"""Push-to-deploy for the k3s-hcloud stacks, without opening SSH or the API to the internet.

For each cluster stack in ``stacks`` (docs/delivery.md has the walk-through):
- ``path: pulumi-deployments`` (Pulumi Cloud Enterprise / Business Critical): an ``AgentPool``
  named for the stack and ``DeploymentSettings`` that run ``pulumi up`` on push to ``branch``
  and previews of pull requests on that pool's agents. The pool's token is a secret output.
- ``path: github-actions`` (any edition): nothing in Pulumi Cloud; a self-hosted GitHub Actions
  runner labelled ``k3s-hcloud-<stack>`` runs ``.github/workflows/deploy.yml`` on push. Its
  registration token is the secret config ``githubRunnerToken``.
- ``runner: bastion``: the runner (or agent) is installed on the cluster's bastion by
  ``InNetworkRunner`` over SSH, reading the cluster stack's outputs. ``runner: self-managed``:
  you install it (``runner/*.sh``) on a host in the stack's allowed ranges.

Deployments run remotely and reject ``--policy-pack``; the pull-request workflow is the policy
gate, and ``pulumi policy publish policies`` enforces the pack on every ``pulumi up``.
"""

import pulumi
import pulumi_pulumiservice as service

from delivery_settings import SettingsError, parse_settings
from in_network_runner import InNetworkRunner, private_api_forward

CLUSTER_PROJECT = "k3s-hcloud"
# Changes to the deployment program itself or to docs never redeploy clusters.
CLUSTER_PATHS = ["*.py", "components/**", "stack_config/**", "cluster_plan/**", "upstream/**",
                 "requirements.txt", "Pulumi.yaml"]


def private_api_commands(api_endpoint: pulumi.Output[str]) -> pulumi.Output[list[str]]:
    """Deployments run in a container on the agent's host, where 127.0.0.1 is the container:
    point this run's Kubernetes provider at the private API itself (the stack file's
    ``access.kubernetesApiServer`` is for a workstation's tunnel). Only this run's working copy
    changes. Nothing to do for a public endpoint."""
    def commands(endpoint: str) -> list[str]:
        forward = private_api_forward(endpoint)
        if not forward:
            return []
        return [f"pulumi config set --path '{CLUSTER_PROJECT}:access.kubernetesApiServer' "
                f"'https://{forward}'"]
    return api_endpoint.apply(commands)


config = pulumi.Config()
raw = {key: config.get_object(key) if key in ("stacks", "runnerRelease") else config.get(key)
       for key in ("organization", "repository", "branch", "path", "stacks", "runnerRelease")}
try:
    settings = parse_settings(raw)
except SettingsError as error:
    raise pulumi.RunError(f"k3s-hcloud-deployments:{error}") from None

github_token = (config.require_secret("githubRunnerToken")
                if settings.path == "github-actions"
                and any(s.runner == "bastion" for s in settings.stacks) else None)
agent_tokens: dict[str, pulumi.Output[str]] = {}

for delivery in settings.stacks:
    stack_name = f"{CLUSTER_PROJECT}-{delivery.stack}"
    token = github_token
    cluster = None
    if delivery.runner == "bastion":
        cluster = pulumi.StackReference(
            f"{delivery.label}-cluster",
            stack_name=f"{settings.organization}/{CLUSTER_PROJECT}/{delivery.stack}")
    if settings.path == "pulumi-deployments":
        pool = service.AgentPool(
            delivery.label, name=delivery.label, organization_name=settings.organization,
            description=f"Deploys {CLUSTER_PROJECT}/{delivery.stack} from inside its network "
                        f"({delivery.runner})")
        token = agent_tokens[delivery.stack] = pool.token_value
        service.DeploymentSettings(
            stack_name,
            organization=settings.organization,
            project=CLUSTER_PROJECT,
            stack=delivery.stack,
            agent_pool_id=pool.agent_pool_id,
            source_context=service.DeploymentSettingsSourceContextArgs(
                git=service.DeploymentSettingsGitSourceArgs(
                    branch=f"refs/heads/{settings.branch}", repo_dir=".")),
            vcs=service.DeploymentSettingsVcsArgs(
                provider="github",
                repository=settings.repository,
                deploy_commits=True,
                # Previews of pull requests run on the same in-network agent: they can read the
                # live cluster. The policy gate stays in the pull-request workflow.
                preview_pull_requests=True,
                pull_request_template=False,
                paths=[*CLUSTER_PATHS, f"Pulumi.{delivery.stack}.yaml"],
            ),
            operation_context=service.DeploymentSettingsOperationContextArgs(
                options=service.OperationContextOptionsArgs(skip_intermediate_deployments=True),
                pre_run_commands=(None if cluster is None else
                                  private_api_commands(cluster.require_output("apiEndpoint"))),
            ),
        )
    if cluster is not None and token is not None:
        InNetworkRunner(delivery.label, settings, delivery, cluster, token)

pulumi.export("deliveryPath", settings.path)
pulumi.export("runners", {d.stack: {"label": d.label, "placement": d.runner}
                          for d in settings.stacks})
if agent_tokens:
    # For self-managed agents: `pulumi stack output agentTokens --show-secrets`.
    pulumi.export("agentTokens", pulumi.Output.secret(agent_tokens))
