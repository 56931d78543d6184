"""Test harness for K3sBootstrap: stands in for the infrastructure layer.

It registers real ``hcloud.Server`` (and, when configured, ``hcloud.LoadBalancer``) resources,
builds the handles contract from them (``NodeHandle``, ``SshAccess``, ``ApiEndpoint``) and hands
them to ``K3sBootstrap`` — the shape the Hetzner layer will produce, not its implementation.
Run it with ``tools.lib.engine.run_program`` and a stack config of this project.

Harness-only config (namespace ``harness``): ``sshUser`` (default root).
"""

import sys
from ipaddress import IPv4Network
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import pulumi  # noqa: E402
import pulumi_hcloud as hcloud  # noqa: E402
import pulumi_tls as tls  # noqa: E402

from components.bootstrap import K3sBootstrap  # noqa: E402
from components.handles import ApiEndpoint, JumpHost, NodeHandle, SshAccess  # noqa: E402
from components.provider import hcloud_provider, hcloud_token  # noqa: E402
from stack_config import load_cluster_spec  # noqa: E402

spec = load_cluster_spec()
cluster = spec.cluster_name
provider = hcloud_provider(f"{cluster}-hcloud", hcloud_token())
on_hetzner = pulumi.ResourceOptions(provider=provider)
private = spec.network.private_only
subnet = list(IPv4Network(spec.network.cidr).subnets(new_prefix=24))
network = hcloud.Network(f"{cluster}-network", ip_range=str(spec.network.cidr), opts=on_hetzner)


def server(key: str, *, public: bool) -> tuple[hcloud.Server, tls.PrivateKey]:
    host_key = tls.PrivateKey(f"{key}-host-key", algorithm="ED25519")
    machine = hcloud.Server(
        key, server_type="cx23", image="ubuntu-24.04", location=spec.location,
        public_nets=[hcloud.ServerPublicNetArgs(ipv4_enabled=public, ipv6_enabled=public)],
        opts=on_hetzner)
    return machine, host_key


def node(key: str, role: str, pool: str, private_ip: str, **extra) -> NodeHandle:
    machine, host_key = server(key, public=not private)
    return NodeHandle(key=key, role=role, pool=pool, private_ip=private_ip,
                      public_ipv4=None if private else machine.ipv4_address,
                      host_public_key=host_key.public_key_openssh, server=machine, **extra)


nodes = [node(f"{cluster}-cp-{i}", "server", "control-plane", str(subnet[1][i]))
         for i in range(1, spec.control_plane.count + 1)]
for pool_index, pool in enumerate(spec.worker_pools, start=2):
    nodes += [node(f"{cluster}-{pool.name}-{n}", "agent", pool.name, str(subnet[pool_index][n]),
                   labels=dict(pool.labels),
                   taints=[f"{t.key}={t.value}:{t.effect}" for t in pool.taints])
              for n in range(1, pool.count + 1)]

jump_host = None
if spec.bastion.enabled:
    bastion, bastion_key = server(f"{cluster}-bastion", public=True)
    jump_host = JumpHost(public_ipv4=bastion.ipv4_address,
                         host_public_key=bastion_key.public_key_openssh)

ssh_key = tls.PrivateKey(f"{cluster}-ssh", algorithm="ED25519")
ssh = SshAccess(user=pulumi.Config("harness").get("sshUser") or "root",
                private_key=None if spec.access.ssh_public_keys else ssh_key.private_key_openssh,
                jump_host=jump_host)

lb_config = spec.control_plane.load_balancer
if lb_config.enabled:
    lb = hcloud.LoadBalancer(f"{cluster}-api", load_balancer_type=lb_config.type,
                             location=spec.location, opts=on_hetzner)
    lb_private_ip = str(subnet[0][254])
    api = ApiEndpoint(servers=[n for n in nodes if n.role == "server"],
                      load_balancer_ip=lb_private_ip,
                      load_balancer_public_ipv4=lb.ipv4 if lb_config.public_interface else None)
else:
    api = ApiEndpoint(servers=[n for n in nodes if n.role == "server"])

bootstrap = K3sBootstrap(f"{cluster}-k3s", spec, nodes, ssh, api, depends_on=[network])
pulumi.export("kubeconfig", bootstrap.kubeconfig)
pulumi.export("readyUrns", [resource.urn for resource in bootstrap.ready])
pulumi.export("nodeNames", list(bootstrap.nodes))
