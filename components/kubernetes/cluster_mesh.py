"""Cluster Mesh wiring: read each peer's published facts through a ``StackReference``, check the
prerequisites against them, and add the peers and the shared CA to the Cilium values.

Creates (only with ``cilium.clusterMesh``): one ``StackReference`` per peer and, on the CA
owner, a ``tls.PrivateKey`` + ``tls.SelfSignedCert`` — the mesh's shared CA.

Shared CA: the stack whose name sorts first among this stack and its peers owns the CA; it
generates it once (kept in its state) and publishes it as the secret output ``clusterMeshCa``.
Every other stack reads it from the owner. A non-owner deployed before the owner has no CA to
read yet: it installs Cilium with its own ephemeral CA and no peers and picks both up on the next
``pulumi up`` after the owner exists (docs/cluster-mesh.md).
"""

from __future__ import annotations

import base64
import dataclasses
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_tls as tls

from cluster_plan.cluster_mesh import (
    CA_OUTPUT, FACTS_OUTPUT, MeshFacts, MeshFactsMissing, mesh_values, peer_problems)
from components.stack_names import qualified
from stack_config import ClusterSpec
from stack_config.errors import ConfigError, ConfigProblem

CA_VALIDITY_HOURS = 10 * 365 * 24


@dataclass(frozen=True)
class MeshWiring:
    values: pulumi.Output[dict[str, Any]]
    """Secret: mesh values (peers, shared CA) to merge over the release values."""
    ca: pulumi.Output[dict[str, str]] | None
    """The CA this stack owns and publishes (secret), None when a peer owns it."""
    facts: pulumi.Output[dict[str, Any]]
    """This cluster's published ``clusterMesh`` output (plain), with its Hetzner network."""


def owns_ca(spec: ClusterSpec) -> bool:
    own = qualified(pulumi.get_stack())
    assert spec.cilium.cluster_mesh is not None
    return own <= min(qualified(p) for p in spec.cilium.cluster_mesh.peers)


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _generated_ca(name: str, spec: ClusterSpec, parent: pulumi.Resource | None
                  ) -> pulumi.Output[dict[str, str]]:
    opts = pulumi.ResourceOptions(parent=parent)
    key = tls.PrivateKey(f"{name}-clustermesh-ca-key", algorithm="ECDSA", ecdsa_curve="P256",
                         opts=opts)
    cert = tls.SelfSignedCert(
        f"{name}-clustermesh-ca", private_key_pem=key.private_key_pem, is_ca_certificate=True,
        validity_period_hours=CA_VALIDITY_HOURS,
        allowed_uses=["cert_signing", "crl_signing", "digital_signature", "key_encipherment"],
        subject=tls.SelfSignedCertSubjectArgs(common_name=f"{spec.cluster_name} Cluster Mesh CA"),
        opts=opts)
    return pulumi.Output.secret(pulumi.Output.all(cert.cert_pem, key.private_key_pem).apply(
        lambda pems: {"cert": _b64(pems[0]), "key": _b64(pems[1])}))


def _checked(own: MeshFacts, raw: dict[str, Any]) -> dict[str, MeshFacts]:
    # A peer not deployed yet is no error (either stack may go first); it joins on the next
    # `pulumi up` of this stack after its own.
    for stack in sorted(stack for stack, output in raw.items() if output is None):
        pulumi.log.warn(f"cilium.clusterMesh.peers: {stack} publishes no {FACTS_OUTPUT} yet "
                        "(not deployed, or not meshed); run `pulumi up` here again after it.")
    try:
        peers = {stack: MeshFacts.from_output(stack, output) for stack, output in raw.items()
                 if output is not None}
    except MeshFactsMissing as missing:
        raise ConfigError([ConfigProblem("cilium.clusterMesh.peers", str(missing))]) from None
    problems = peer_problems(own, peers)
    if problems:
        raise ConfigError([ConfigProblem(p.key, p.message) for p in problems])
    return peers


def _shared_ca(owner: str, read: Any) -> dict[str, str] | None:
    """The CA read from its owner; None (with a warning) while the owner has not published it."""
    if read is None:
        pulumi.log.warn(f"cilium.clusterMesh.peers: {owner} (the CA's owner: its name sorts "
                        f"first) publishes no {CA_OUTPUT} yet; Cilium gets a CA of its own until "
                        f"`pulumi up` runs here again after {owner}'s.")
        return None
    if not (isinstance(read, dict) and all(isinstance(read.get(k), str) and read[k]
                                           for k in ("cert", "key"))):
        raise ConfigError([ConfigProblem(
            "cilium.clusterMesh.peers", f"the {CA_OUTPUT} output of {owner} is not a CA "
            f"({{cert, key}}). Fix: run `pulumi up` on {owner} with this project's program.")])
    return {"cert": read["cert"], "key": read["key"]}


def wire_cluster_mesh(name: str, spec: ClusterSpec, network_id: pulumi.Input[Any],
                      parent: pulumi.Resource | None) -> MeshWiring | None:
    """``network_id``: the Hetzner network this cluster's nodes are in (peers must share it)."""
    mesh, config_facts = spec.cilium.cluster_mesh, spec.mesh_facts
    if mesh is None or config_facts is None:
        return None
    own_facts = pulumi.Output.from_input(network_id).apply(
        lambda network: dataclasses.replace(config_facts, network_id=str(network)))
    references = {peer: pulumi.StackReference(f"{name}-mesh-peer-{peer.replace('/', '-')}",
                                              stack_name=qualified(peer),
                                              opts=pulumi.ResourceOptions(parent=parent))
                  for peer in mesh.peers}
    facts = pulumi.Output.all(**{peer: ref.get_output(FACTS_OUTPUT)
                                 for peer, ref in references.items()})
    owned_ca = _generated_ca(name, spec, parent) if owns_ca(spec) else None
    if owned_ca is not None:
        ca: pulumi.Output[Any] = owned_ca
    else:
        owner = min(mesh.peers, key=qualified)
        ca = references[owner].get_output(CA_OUTPUT).apply(lambda read: _shared_ca(owner, read))
    annotations = spec.cilium_helm_values["clustermesh"]["apiserver"]["service"].get(
        "annotations")
    values = pulumi.Output.all(own_facts, facts, ca).apply(lambda args: mesh_values(
        args[0], _checked(args[0], args[1]), mesh.service_type, annotations, args[2] or None))
    return MeshWiring(pulumi.Output.secret(values), owned_ca,
                      own_facts.apply(lambda own: own.to_output()))
