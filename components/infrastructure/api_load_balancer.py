"""ApiLoadBalancer: an optional Hetzner load balancer in front of the Kubernetes API (TCP 6443).

Off by default (like hetzner-k3s's ``create_load_balancer_for_the_kubernetes_api``); without it
the kubeconfig gets one context per control-plane server. It joins the private network at the
address plan's API address and reaches the servers by their private IPs. Whether it also has a
public address is ``controlPlane.loadBalancer.publicInterface``. Hetzner firewalls never apply to
load balancers: a public one is open to the whole internet on 6443, whatever
``access.apiAllowedCidrs`` says (the plan warns; see ``ClusterSpec.advisories``).

Creates:
- ``hcloud.LoadBalancer`` ``<name>``;
- ``hcloud.LoadBalancerNetwork`` ``<name>-network`` (planned private IP, public interface on/off);
- ``hcloud.LoadBalancerService`` ``<name>-6443``: TCP 6443 → 6443, created by :meth:`serve` once
  every server answers the readiness check (``cluster_plan/api_readiness.py``: HTTP ``/readyz``
  on each server's private address, so a joining or restarting server takes no API traffic) and
  after the network attachment has settled the public interface;
- ``hcloud.LoadBalancerTarget`` ``<name>-target-<n>`` per control-plane server (private IP).
"""

from __future__ import annotations

import pulumi
import pulumi_hcloud as hcloud

from cluster_plan import api_readiness
from components.handles import NodeHandle
from upstream.k3s import API_PORT


class ApiLoadBalancer(pulumi.ComponentResource):
    load_balancer: hcloud.LoadBalancer
    private_ip: str
    public_ipv4: pulumi.Output[str] | None
    ready: list[pulumi.Resource]

    def __init__(self, name: str, *, load_balancer_type: str, location: str, public: bool,
                 private_ip: str, network_id: pulumi.Input[int], subnet: pulumi.Resource,
                 servers: list[NodeHandle], labels: dict[str, str],
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("k3s-hcloud:infrastructure:ApiLoadBalancer", name,
                         {"type": load_balancer_type, "public": public}, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.private_ip = private_ip
        self.load_balancer = hcloud.LoadBalancer(
            name, name=name, load_balancer_type=load_balancer_type, location=location,
            labels={**labels, "role": "api-load-balancer"}, opts=child)
        lb_id = self.load_balancer.id.apply(int)
        attachment = hcloud.LoadBalancerNetwork(
            f"{name}-network", load_balancer_id=lb_id, network_id=network_id, ip=private_ip,
            enable_public_interface=public,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[subnet]))
        targets = []
        for index, node in enumerate(servers, start=1):
            targets.append(hcloud.LoadBalancerTarget(
                f"{name}-target-{index}", load_balancer_id=lb_id, type="server",
                server_id=node.server.id.apply(int), use_private_ip=True,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[attachment])))
        self.public_ipv4 = self.load_balancer.ipv4 if public else None
        self._name, self._attachment = name, attachment
        self.ready = [attachment, *targets]
        self.register_outputs({"privateIp": private_ip, "publicIpv4": self.public_ipv4})

    def serve(self, answering: list[pulumi.Resource]) -> hcloud.LoadBalancerService:
        """The API service, after ``answering``: every server's answer to the readiness check.

        Created here rather than with the load balancer so that on a running cluster the switch
        to the readiness check waits until every server can pass it (a check no server answers
        would take the API down). Same name and parent as before: an update in place."""
        return hcloud.LoadBalancerService(
            f"{self._name}-{API_PORT}", load_balancer_id=self.load_balancer.id, protocol="tcp",
            listen_port=API_PORT, destination_port=API_PORT,
            health_check=hcloud.LoadBalancerServiceHealthCheckArgs(
                protocol="http", port=api_readiness.PORT, **api_readiness.health_check(),
                http=hcloud.LoadBalancerServiceHealthCheckHttpArgs(
                    path=api_readiness.PATH, status_codes=list(api_readiness.STATUS_CODES))),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self._attachment, *answering]))
