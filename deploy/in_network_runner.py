"""InNetworkRunner: a stack's deploy runner installed on the cluster's bastion, over SSH.

The bastion is the one host of a private-mode cluster that is inside the private network and
reachable from an admin's range; a runner there reaches the nodes' SSH (the cluster program's
own jump connections through the bastion arrive on its loopback) and the private API load
balancer. After the first ``pulumi up`` of the cluster from a workstation, ``pulumi up`` of this
program (from the same workstation) installs the runner; from then on every push deploys from
inside the network.

Reads the cluster stack's outputs through a ``StackReference``: ``bastionAddress``,
``sshKnownHosts`` (the bastion's host key is pinned), ``sshPrivateKey`` (secret; absent when the
cluster uses your own keys, then your ssh-agent is used) and ``apiEndpoint``.

Creates one ``command.remote.Command`` ``<name>-install`` running ``runner/<script>`` as root on
the bastion. The registration token travels on stdin (secret), never in the command text.
"""

from __future__ import annotations

import ipaddress
import shlex
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

import pulumi
import pulumi_command as command

from delivery_settings import DeliverySettings, StackDelivery

RUNNER_DIR = Path(__file__).resolve().parent / "runner"
SCRIPTS = {"github-actions": "install-github-runner.sh",
           "pulumi-deployments": "install-pulumi-agent.sh"}
SSH_USER = "root"
_PRIVATE_RANGES = [ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12",
                                                     "192.168.0.0/16")]


def bastion_host_key(known_hosts: str, address: str) -> str:
    """The ``<type> <key>`` of ``address`` in an ssh known_hosts text."""
    for line in known_hosts.splitlines():
        parts = line.split()
        if len(parts) >= 3 and address in parts[0].split(","):
            return f"{parts[1]} {parts[2]}"
    raise ValueError(f"the cluster's sshKnownHosts has no key for the bastion {address}")


def private_api_forward(api_endpoint: str) -> str:
    """``address:port`` of a private API endpoint (to serve on the runner's loopback), else ''."""
    parts = urlsplit(api_endpoint)
    try:
        address = ipaddress.ip_address(parts.hostname or "")
    except ValueError:
        return ""
    if not any(address in network for network in _PRIVATE_RANGES):
        return ""
    return f"{address}:{parts.port or 6443}"


def script_command(script: str, env: Mapping[str, str]) -> str:
    """``env K=V … bash -c '<runner/script>' script``: inputs are plain values by type."""
    assignments = [f"{key}={shlex.quote(value)}" for key, value in env.items()]
    text = (RUNNER_DIR / script).read_text()
    return " ".join(["env", *assignments, "bash", "-c", shlex.quote(text), script])


class InNetworkRunner(pulumi.ComponentResource):
    install: command.remote.Command

    def __init__(self, name: str, settings: DeliverySettings, delivery: StackDelivery,
                 cluster: pulumi.StackReference, token: pulumi.Output[str],
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("k3s-hcloud-deployments:index:InNetworkRunner", name,
                         {"stack": delivery.stack, "path": settings.path}, opts)
        bastion = cluster.require_output("bastionAddress")
        host_key = pulumi.Output.all(cluster.require_output("sshKnownHosts"), bastion).apply(
            lambda values: bastion_host_key(str(values[0]), str(values[1])))
        release = settings.runner_release
        script = SCRIPTS[settings.path]

        def command_text(api_endpoint: str) -> str:
            version_key = "RUNNER" if settings.path == "github-actions" else "AGENT"
            env = {
                f"{version_key}_VERSION": release.version,
                # The script picks the digest of the bastion's architecture (`uname -m`).
                f"{version_key}_SHA256_X64": release.sha256.get("x64", ""),
                f"{version_key}_SHA256_ARM64": release.sha256.get("arm64", ""),
                "API_FORWARD": private_api_forward(api_endpoint),
            }
            if settings.path == "github-actions":
                env |= {"REPOSITORY": settings.repository,
                        "RUNNER_NAME": f"{delivery.label}-bastion",
                        "RUNNER_LABELS": delivery.label}
            return script_command(script, env)

        create = cluster.require_output("apiEndpoint").apply(lambda e: command_text(str(e)))
        self.install = command.remote.Command(
            f"{name}-install",
            connection=command.remote.ConnectionArgs(
                host=bastion, user=SSH_USER, host_key=host_key,
                private_key=cluster.get_output("sshPrivateKey")),
            create=create,
            stdin=pulumi.Output.secret(token).apply(lambda t: f"{t}\n"),
            # A new token alone must not re-register a running runner; the script keeps it.
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["stdin"],
                                        additional_secret_outputs=["stdout", "stderr"]))
        self.register_outputs({"bastion": bastion, "label": delivery.label})
