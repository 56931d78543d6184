"""The files the bootstrap manages on a node besides ``config.yaml``, decided in one place.

Both ways a node can join use this module, so they cannot drift apart: the SSH bootstrap
(``bootstrap.py``, for the nodes Pulumi creates) and the first-boot user data of the nodes the
cluster-autoscaler creates (``join_user_data.py``).
"""

from __future__ import annotations

from components.bootstrap import hardening, paths
from components.bootstrap.bundle import NodeFile, StagedFile
from components.bootstrap.registries import registries_yaml
from components.handles import Role
from stack_config import ClusterSpec

AGENT_TOKEN = StagedFile(paths.AGENT_TOKEN_FILE, "agent-token")
"""Every node holds the agent token; only servers also hold the cluster token."""


def plain_files(spec: ClusterSpec, role: Role, *, registries_staged: bool = False) -> list[NodeFile]:
    """registries.yaml (mirrors, embedded registry) and the hardening files of the role.

    ``registries_staged``: registries.yaml may carry a value set with ``--secret`` (mirror
    credentials); the SSH bootstrap then stages it as a secret instead of writing it in plain.
    """
    registries = [] if registries_staged else [NodeFile(paths.REGISTRIES_FILE,
                                                        registries_yaml(spec.k3s))]
    return [*registries, *hardening.node_files(spec.k3s.hardening, role)]
