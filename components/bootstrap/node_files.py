"""The files the bootstrap manages on a node besides ``config.yaml``, decided in one place.

Both ways a node can join use this module, so they cannot drift apart: the SSH bootstrap
(``bootstrap.py``, for the nodes Pulumi creates) and the first-boot user data of the nodes the
cluster-autoscaler creates (``join_user_data.py``).
"""

from __future__ import annotations

from components.bootstrap import hardening, k3s_config, paths
from components.bootstrap.bundle import NodeFile, StagedFile
from components.bootstrap.registries import registries_yaml
from components.handles import Role
from stack_config import ClusterSpec

AGENT_TOKEN = StagedFile(paths.AGENT_TOKEN_FILE, "agent-token")
"""Every node holds the agent token; only servers also hold the cluster token."""
USER_DROPIN = StagedFile(paths.USER_SECRETS_DROPIN, "k3s-user.yaml")
REGISTRIES = StagedFile(paths.REGISTRIES_FILE, "registries.yaml")


def registries_staged(spec: ClusterSpec) -> bool:
    """With part of ``k3s`` set --secret, registries.yaml may hold it: it travels as a secret."""
    return spec.is_secret("k3s")


def plain_files(spec: ClusterSpec, role: Role, *, registries_staged: bool = False) -> list[NodeFile]:
    """registries.yaml (mirrors, embedded registry) and the hardening files of the role.

    ``registries_staged``: registries.yaml may carry a value set with ``--secret`` (mirror
    credentials); the SSH bootstrap then stages it as a secret instead of writing it in plain.
    """
    registries = [] if registries_staged else [NodeFile(paths.REGISTRIES_FILE,
                                                        registries_yaml(spec.k3s))]
    return [*registries, *hardening.node_files(spec.k3s.hardening, role)]


def user_secret_files(spec: ClusterSpec, role: Role) -> dict[StagedFile, str]:
    """The secret files of a role besides tokens and datastore: the user's serverConfig /
    agentConfig drop-in and registries.yaml, when part of ``k3s`` is secret."""
    files: dict[StagedFile, str] = {}
    dropin = k3s_config.user_secret_dropin(spec, role)
    if dropin is not None:
        files[USER_DROPIN] = dropin
    if registries_staged(spec):
        files[REGISTRIES] = registries_yaml(spec.k3s)
    return files
