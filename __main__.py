"""k3s-hcloud: stack config → typed model → one K3sCluster → stack outputs."""

import pulumi

from components import cluster_identity
from cluster_plan import cluster_mesh, shared_network
from components.cluster import K3sCluster
from components.provider import hcloud_token
from components.runtime_tuning import relax_garbage_collector
from stack_config import load_cluster_spec

relax_garbage_collector()
spec = load_cluster_spec()
for advisory in spec.advisories():
    pulumi.log.warn(advisory)

# Refuses destructive edits of a running cluster; no Hetzner call happens before it passed.
identity = cluster_identity.checked_identity(spec)
cluster = K3sCluster(spec.cluster_name, spec, cluster_identity.gated(hcloud_token(), identity))

exports = {
    "kubeconfig": cluster.kubeconfig,
    "apiEndpoint": cluster.api_endpoint,
    "nodeAddresses": cluster.node_addresses,
    "bastionAddress": cluster.bastion_address,
    "sshCommands": cluster.ssh_commands,
    "sshKnownHosts": cluster.ssh_known_hosts,
    "sshPrivateKey": cluster.ssh_private_key,
    "gatewayName": cluster.gateway_name,
    "etcdSnapshots": cluster.etcd_snapshots,
    cluster_identity.OUTPUT: identity,
    # Read by the peers' StackReferences (cluster_plan/cluster_mesh.py).
    cluster_mesh.FACTS_OUTPUT: cluster.cluster_mesh_facts,
    cluster_mesh.CA_OUTPUT: cluster.cluster_mesh_ca,
    # Read by stacks that join this network (network.existing, cluster_plan/shared_network.py).
    shared_network.NETWORK_OUTPUT: cluster.network,
}
for output_name, value in exports.items():
    if value is not None:
        pulumi.export(output_name, value)
