"""The root of the stack config: one model per top-level key, and the rules that span keys."""

from __future__ import annotations

from datetime import date
from functools import cached_property
from ipaddress import IPv4Network

from pydantic import Field, PrivateAttr, ValidationInfo, model_validator

from cluster_plan import placement
from cluster_plan.resource_names import PoolNames, derived_names
from cluster_plan.address_plan import (
    AddressPlan,
    AddressPlanError,
    PoolBlockRequest,
    plan_addresses,
)
from stack_config.addons import AddonsConfig
from stack_config.apisix import ApisixSurroundings, apisix_problems
from stack_config.autoscaling_rules import (
    autoscaler_placement_groups,
    autoscaling_advisories,
    autoscaling_problems,
)
from stack_config.base import SECRET_KEYS_CONTEXT, DnsLabel, Location, StrictModel
from stack_config.cilium import CiliumConfig
from cluster_plan.cilium_values import (
    CiliumValueInputs,
    deep_merge,
    helm_values,
)
from cluster_plan.load_balancer_annotations import zone_problem
from cluster_plan.cluster_mesh import (
    APISERVER_NODE_PORT, APISERVER_PORT, MeshFacts, apiserver_load_balancer_annotations,
    mesh_values, own_problems)
from stack_config.errors import KeyedValueError, KeyedValueErrors
from stack_config.identity import Acknowledgement
from stack_config.k3s import K3sConfig
from stack_config.network import AccessConfig, BastionConfig, NetworkConfig
from stack_config.nodes import ControlPlaneConfig, WorkerPoolConfig
from upstream import hetzner, k3s
from upstream.cilium import line_of
from upstream.cilium_chart import VALUES_SCHEMA_RULE, ChartFinding, HelmValues, check_helm_values
from upstream.cilium_kernel import kernel_problems, newest_known_image
from upstream.cilium_on_hetzner import k3s_api_findings, native_routing_ipam_findings
from upstream.k3s import API_PORT
from upstream.k3s_support import end_of_life_note

# Top-level keys whose user values the program carries as secrets when the CLI marks the key
# secret: k3s's free-form parts (serverConfig, agentConfig, registries, datastoreEndpoint) and
# the Cilium release values. Other keys become names, addresses and plain resource inputs.
SECRET_CARRYING_KEYS = frozenset({"k3s", "cilium"})
# Names the program uses for its own servers; a worker pool may not take them.
RESERVED_POOL_NAMES = frozenset({"cp", "control-plane", "bastion"})
NAT_SHARED_NODES = 40
"""Private-only nodes beyond which the shared NAT's image pulls dominate a create (the modelled
3 + 20 create gains 4 s from the embedded registry mirror, 3 + 96 almost 3 minutes:
bench/results/critical_path.md)."""


class ClusterSpec(StrictModel):
    """Everything under the ``k3s-hcloud:`` namespace of ``Pulumi.<stack>.yaml``."""

    cluster_name: DnsLabel
    """Lowercase DNS label naming the cluster; prefixes every Hetzner resource name."""
    location: Location = "nbg1"
    """Default Hetzner location of every server and load balancer (one network zone per
    cluster)."""
    network: NetworkConfig = NetworkConfig()
    """The Hetzner private network every node joins."""
    access: AccessConfig = AccessConfig()
    """Who may reach the servers from the internet (empty lists mean closed) and with which SSH
    keys."""
    bastion: BastionConfig = BastionConfig()
    """Jump host and NAT gateway; required with ``network.privateOnly``."""
    control_plane: ControlPlaneConfig = ControlPlaneConfig()
    """The k3s servers and the optional load balancer in front of their API."""
    worker_pools: list[WorkerPoolConfig] = Field(default_factory=list)
    """Named pools of k3s agents; the name is the pool's stable identity (never a list
    position)."""
    k3s: K3sConfig = K3sConfig()
    """The k3s release and what it is configured with on every node."""
    cilium: CiliumConfig = CiliumConfig()
    """The Cilium release: its version, Helm values and Cilium resources."""
    addons: AddonsConfig = AddonsConfig()
    """What runs in the cluster besides Cilium."""
    acknowledge: list[Acknowledgement] = Field(default_factory=list)
    """Destructive edits of a running cluster the user accepts (see stack_config/identity.py)."""
    _secret_keys: frozenset[str] = PrivateAttr(default_factory=frozenset)

    def is_secret(self, key: str) -> bool:
        """True when the CLI marks top-level ``key`` secret (a value under it set --secret)."""
        return key in self._secret_keys

    # -- derived values the components share ------------------------------------------------
    @property
    def control_plane_locations(self) -> list[str]:
        return list(self.control_plane.locations) or [self.location]

    @property
    def bastion_location(self) -> str:
        return self.bastion.location or self.location

    def pool_location(self, pool: WorkerPoolConfig) -> str:
        return pool.location or self.location

    @property
    def all_locations(self) -> list[str]:
        locations = list(self.control_plane_locations)
        locations += [self.pool_location(pool) for pool in self.worker_pools]
        if self.bastion.enabled:
            locations.append(self.bastion_location)
        return locations

    @property
    def network_zone(self) -> str:
        return hetzner.network_zone(self.location)

    @property
    def uses_embedded_etcd(self) -> bool:
        return self.k3s.datastore_endpoint is None

    @cached_property
    def address_plan(self) -> AddressPlan:
        """Every planned private address (see ``cluster_plan/address_plan.py``), computed once:
        the validator and every component read the same frozen plan. (The spec is frozen; a
        ``model_copy(update=...)`` would keep the cached plan, so validate a new spec instead.)"""
        pools = [PoolBlockRequest(pool.name, pool.count, pool.address_block)
                 for pool in self.worker_pools]
        return plan_addresses(self.network.cidr, self.control_plane.count, pools,
                              self.network.ip_range)

    @property
    def server_count(self) -> int:
        """The most servers the stack can have: autoscaled pools count at ``autoscaling.max``."""
        workers = sum(pool.max_size for pool in self.worker_pools)
        return self.control_plane.count + workers + (1 if self.bastion.enabled else 0)

    def advisories(self) -> list[str]:
        """Non-fatal findings the program reports with ``pulumi.log.warn``."""
        notes = []
        lb = self.control_plane.load_balancer
        if lb.enabled and lb.public_interface:
            notes.append(
                "controlPlane.loadBalancer.publicInterface is true: the API load balancer is "
                "reachable from the whole internet. Hetzner firewalls do not apply to load "
                "balancers, so access.apiAllowedCidrs does NOT protect it.")
        if self.network.private_only and self.access.api_allowed_cidrs:
            notes.append(
                "access.apiAllowedCidrs has no effect with network.privateOnly: no server has a "
                f"public interface to open {API_PORT} on. Reach the API through the bastion "
                f"(ssh -L {API_PORT}:<api address>:{API_PORT}) or a public API load balancer.")
        if not self.api_reachable_from_internet and self.access.kubernetes_api_server is None:
            notes.append(
                "The Kubernetes layer (CCM, Cilium, add-ons) is applied from the machine running "
                "`pulumi up`, and this stack gives the API no address it can reach from the "
                "internet. Run pulumi inside the network, or open a tunnel (`ssh -N -L "
                f"{API_PORT}:<api address>:{API_PORT} root@<bastion or node>`) and set "
                f"access.kubernetesApiServer: https://127.0.0.1:{API_PORT}.")
        eol = end_of_life_note(self.k3s.parsed_version.kubernetes_minor, date.today())
        if eol:
            notes.append(eol)
        line = line_of(self.cilium.version)
        if line and self.cilium.allow_untested_kubernetes and not _k8s_in_range(self):
            notes.append(
                f"k3s {self.k3s.version} is outside Cilium {line.minor}'s tested Kubernetes "
                "range (allowed by cilium.allowUntestedKubernetes).")
        values = self.cilium_helm_values
        if self.cilium.load_balancer_ip_pools and values.get("defaultLBServiceIPAM") == "none":
            notes.append(
                "cilium.loadBalancerIPPools: LoadBalancer Services without a loadBalancerClass "
                "belong to hcloud-ccm (defaultLBServiceIPAM: none); only Services with "
                "loadBalancerClass io.cilium/l2-announcer or io.cilium/bgp-control-plane get "
                "addresses from these pools.")
        if self.cilium.value("l2announcements.enabled"):
            notes.append(
                "cilium.values.l2announcements.enabled: Hetzner Cloud networks are routed (L3; "
                "servers ARP only for the gateway), so L2 announcements only work on vSwitch or "
                "on-prem L2 segments the nodes share.")
        nodes = self.server_count - (1 if self.bastion.enabled else 0)
        if (self.network.private_only and nodes > NAT_SHARED_NODES
                and not self.k3s.embedded_registry_mirror.enabled
                and k3s.has_embedded_registry(self.k3s.parsed_version)):
            notes.append(
                f"network.privateOnly with up to {nodes} nodes: every node pulls its images "
                "(Cilium's alone are a few hundred MB) through the bastion's NAT, which the "
                "create then waits on. Set k3s.embeddedRegistryMirror.enabled: true and nodes "
                "fetch images their peers already hold (docs/benchmarks.md, bootstrap critical "
                "path).")
        notes += autoscaling_advisories(self.cluster_name, self.worker_pools)
        return notes

    @property
    def api_reachable_from_internet(self) -> bool:
        """A public API LB, or servers with public IPs that some range may reach on 6443."""
        lb = self.control_plane.load_balancer
        if lb.enabled and lb.public_interface:
            return True
        return not self.network.private_only and bool(self.access.api_allowed_cidrs)

    @property
    def cilium_helm_values(self) -> dict:
        """The Cilium release's values: computed defaults under ``cilium.values``.

        With ``cilium.clusterMesh`` this includes the mesh settings that need no peer (own
        identity, apiserver Service); peers and the shared CA are added at deploy time.
        """
        values = helm_values(CiliumValueInputs(
            cluster_cidr=self.k3s.cluster_cidr, control_plane_count=self.control_plane.count,
            ccm_enabled=self.addons.ccm.enabled,
            gateway_api_enabled=bool(self.cilium.value("gatewayAPI.enabled")),
            user_values=self.cilium.values))
        mesh = self.cilium.cluster_mesh
        if mesh is None or self.mesh_facts is None:
            return values
        annotations = None
        if mesh.service_type == "LoadBalancer":
            annotations = apiserver_load_balancer_annotations(
                f"{self.cluster_name}-clustermesh", self.location,
                self.address_plan.clustermesh_load_balancer)
        return deep_merge(mesh_values(self.mesh_facts, {}, mesh.service_type, annotations),
                          values)

    @property
    def mesh_facts(self) -> MeshFacts | None:
        """This cluster's Cluster Mesh facts (no apiserver address yet), or None if not meshed."""
        if self.cilium.cluster_mesh is None:
            return None
        cluster_id = self.cilium.value("cluster.id")
        if not isinstance(cluster_id, int) or isinstance(cluster_id, bool):
            return None
        values = helm_values(CiliumValueInputs(
            cluster_cidr=self.k3s.cluster_cidr, control_plane_count=self.control_plane.count,
            ccm_enabled=False, gateway_api_enabled=False, user_values=self.cilium.values))
        native = values.get("ipv4NativeRoutingCIDR")
        try:
            native_cidr = IPv4Network(str(native)) if native else None
        except ValueError:
            native_cidr = None  # the chart checks report it with the key
        # Peers reach the apiserver at private addresses planned before anything exists: the
        # load balancer's (pinned by annotation), or the node port on the control-plane servers.
        addresses: tuple[str, ...] = (self.address_plan.clustermesh_load_balancer,)
        port = APISERVER_PORT
        if self.cilium.cluster_mesh.service_type == "NodePort":
            addresses = tuple(self.address_plan.control_plane(i)
                              for i in range(1, self.control_plane.count + 1))
            port = APISERVER_NODE_PORT
        return MeshFacts(name=str(self.cilium.value("cluster.name", self.cluster_name)),
                         apiserver_addresses=addresses, apiserver_port=port,
                         cluster_id=cluster_id, pod_cidr=self.k3s.cluster_cidr,
                         node_cidr=self.network.cidr,
                         routing_mode=str(values.get("routingMode", "tunnel")),
                         native_routing_cidr=native_cidr)

    @property
    def cilium_chart_values(self) -> HelmValues:
        """The release's values as the chart reads them (the line's defaults where unset): the
        one way the components read a Cilium setting such as kubeProxyReplacement."""
        line = line_of(self.cilium.version)
        assert line is not None, "the config model accepts supported Cilium lines only"
        return HelmValues(self.cilium_helm_values, line)

    @property
    def gateway_load_balancer_name(self) -> str:
        """Name of the Hetzner LB hcloud-ccm creates for the default Gateway."""
        return f"{self.cluster_name}-{self.addons.gateway.name}"

    # -- rules that span keys ------------------------------------------------------------------
    @model_validator(mode="after")
    def _secrets_only_where_carried(self, info: ValidationInfo) -> "ClusterSpec":
        secret = frozenset((info.context or {}).get(SECRET_KEYS_CONTEXT, frozenset()))
        self._secret_keys = secret
        refused = sorted(secret - SECRET_CARRYING_KEYS)
        if refused:
            raise KeyedValueErrors([KeyedValueError(
                key, "holds a value set with --secret, but the program turns this key into "
                "resource names and plain inputs, where a secret would show in clear.",
                f"set the value without --secret (pulumi config set --path {key}... <value>); "
                "secrets belong under k3s (serverConfig, agentConfig, registries, "
                "datastoreEndpoint) or cilium.values.") for key in refused])
        return self

    @model_validator(mode="after")
    def _private_only_needs_bastion(self) -> "ClusterSpec":
        if self.network.private_only and not self.bastion.enabled:
            raise KeyedValueError(
                "bastion.enabled", "network.privateOnly is true but no bastion is enabled; "
                "private nodes would have no way out and no SSH path.",
                "set bastion.enabled: true (it becomes the NAT gateway and SSH jump host).")
        return self

    @model_validator(mode="after")
    def _etcd_quorum(self) -> "ClusterSpec":
        count = self.control_plane.count
        if self.uses_embedded_etcd and count not in k3s.EMBEDDED_ETCD_SERVER_COUNTS:
            raise KeyedValueError(
                "controlPlane.count", f"{count} servers with embedded etcd cannot keep a quorum.",
                f"use {k3s.embedded_etcd_counts_text()}, or set k3s.datastoreEndpoint for an "
                "external datastore.")
        return self

    @model_validator(mode="after")
    def _snapshots_need_embedded_etcd(self) -> "ClusterSpec":
        if "etcd_snapshots" in self.k3s.model_fields_set and not self.uses_embedded_etcd:
            raise KeyedValueError(
                "k3s.etcdSnapshots", "k3s takes etcd snapshots only of its embedded etcd; with "
                "k3s.datastoreEndpoint the data lives in the external datastore, which k3s "
                "neither snapshots nor restores.",
                "back up the external datastore with its own tools and remove k3s.etcdSnapshots, "
                "or remove k3s.datastoreEndpoint to use embedded etcd.")
        return self

    @model_validator(mode="after")
    def _one_network_zone(self) -> "ClusterSpec":
        zones = {loc: hetzner.network_zone(loc) for loc in self.all_locations}
        if len(set(zones.values())) > 1:
            listing = ", ".join(f"{loc} ({zone})" for loc, zone in sorted(zones.items()))
            raise KeyedValueError(
                "location", f"locations span several network zones: {listing}.",
                "one Hetzner network lives in one zone; keep every location in the zone of "
                f"'{self.location}' ({self.network_zone}).")
        return self

    @model_validator(mode="after")
    def _cidrs_do_not_overlap(self) -> "ClusterSpec":
        ranges = {
            "network.cidr": self.network.cidr,
            "k3s.clusterCidr": self.k3s.cluster_cidr,
            "k3s.serviceCidr": self.k3s.service_cidr,
        }
        names = list(ranges)
        for i, first in enumerate(names):
            for second in names[i + 1:]:
                if ranges[first].overlaps(ranges[second]):
                    raise KeyedValueError(
                        second, f"{ranges[second]} overlaps {first} ({ranges[first]}).",
                        "pick non-overlapping ranges (defaults: network 10.0.0.0/16, "
                        "pods 10.42.0.0/16, services 10.43.0.0/16).")
        network_range = self.network.ip_range
        for key in ("k3s.clusterCidr", "k3s.serviceCidr"):
            # The network's range is where other stacks' subnets go (network.existing), and the
            # policy pack keeps pod and service ranges out of a Hetzner network's range
            # (k3s-cluster-ranges-outside-hetzner-network): refused here first, with the key.
            if network_range is not None and ranges[key].overlaps(network_range):
                raise KeyedValueError(
                    key, f"{ranges[key]} overlaps network.ipRange ({network_range}), which "
                    "holds the subnets of every stack sharing the network: pod or Service "
                    "addresses would shadow those servers.", "pick a range outside network.ipRange.")
        return self

    @model_validator(mode="after")
    def _unique_pool_names(self) -> "ClusterSpec":
        seen: set[str] = set()
        for index, pool in enumerate(self.worker_pools):
            if pool.name in RESERVED_POOL_NAMES:
                raise KeyedValueError(f"workerPools[{index}].name",
                                      f"'{pool.name}' is reserved for the program's own servers.",
                                      "choose another pool name.")
            if pool.name in seen:
                raise KeyedValueError(f"workerPools[{index}].name",
                                      f"pool name '{pool.name}' is used twice.",
                                      "pool names are stable node identities; make them unique.")
            seen.add(pool.name)
        return self

    @model_validator(mode="after")
    def _embedded_registry_exists(self) -> "ClusterSpec":
        if self.k3s.embedded_registry_mirror.enabled and not k3s.has_embedded_registry(
                self.k3s.parsed_version):
            raise KeyedValueError(
                "k3s.embeddedRegistryMirror.enabled",
                f"k3s {self.k3s.version} has no embedded registry mirror; it first shipped in "
                f"{k3s.embedded_registry_minimums()} (GA from "
                f"{k3s.embedded_registry_ga_releases()}).",
                "raise k3s.version to one of those releases or newer, or set "
                "k3s.embeddedRegistryMirror.enabled: false.")
        return self

    @model_validator(mode="after")
    def _kubernetes_tested_by_cilium(self) -> "ClusterSpec":
        line = line_of(self.cilium.version)
        if line and not self.cilium.allow_untested_kubernetes and not _k8s_in_range(self):
            low, high = line.tested_kubernetes
            raise KeyedValueError(
                "k3s.version",
                f"Kubernetes {self.k3s.parsed_version.major}.{self.k3s.parsed_version.minor} is "
                f"outside Cilium {line.minor}'s tested range {low[0]}.{low[1]}–{high[0]}.{high[1]}.",
                "pick a k3s release in that range, another cilium.version, or set "
                "cilium.allowUntestedKubernetes: true to accept the risk.")
        return self

    @model_validator(mode="after")
    def _servers_fit_one_network(self) -> "ClusterSpec":
        if self.server_count > hetzner.MAX_SERVERS_PER_NETWORK:
            raise KeyedValueError(
                "workerPools", f"{self.server_count} servers (autoscaled pools counted at "
                f"autoscaling.max) exceed the ~{hetzner.MAX_SERVERS_PER_NETWORK} servers one "
                "Hetzner network can attach.",
                "lower autoscaling.max or count, or split the workload over several clusters "
                "(one stack each).")
        return self

    @model_validator(mode="after")
    def _joined_network_has_no_autoscaled_pools(self) -> "ClusterSpec":
        # The cluster-autoscaler's servers get an address Hetzner picks, possibly in another
        # stack's subnet of the shared network, whose range this stack does not know when it
        # renders their user data (write-node-ip.sh looks for the node's address in it).
        if self.network.existing is None:
            return self
        for index, pool in enumerate(self.worker_pools):
            if pool.autoscaling is not None:
                raise KeyedValueError(
                    f"workerPools[{index}].autoscaling", "a cluster in another stack's network "
                    "(network.existing) cannot autoscale: Hetzner may give the new servers an "
                    "address in another stack's subnet.", "use a fixed count here, or autoscale "
                    "in the stack that owns the network.")
        return self

    @model_validator(mode="after")
    def _cluster_mesh_prerequisites(self) -> "ClusterSpec":
        # What a meshed cluster needs on its own; what it needs with its peers is checked when
        # their facts are read (cluster_plan/cluster_mesh.py peer_problems).
        if self.cilium.cluster_mesh is None:
            return self
        if self.mesh_facts is None:
            raise KeyedValueError(
                "cilium.values.cluster.id", "cilium.clusterMesh needs this cluster's mesh id "
                "(an integer).", "set cilium.values.cluster.id to an id between 1 and 255 that "
                "no peer uses.")
        problems = own_problems(self.mesh_facts)
        if problems:
            raise KeyedValueErrors([KeyedValueError(p.key, *p.parts) for p in problems])
        return self

    @model_validator(mode="after")
    def _cilium_values_accepted(self) -> "ClusterSpec":
        # The values the release will get (defaults included), checked the way the chart and the
        # agent check them; the policy pack runs the same checks on the registered release.
        # The chart's schema first: the other rules read values as the types it promises.
        findings = check_helm_values(self.cilium_helm_values, self.cilium.version,
                                     rules=[VALUES_SCHEMA_RULE])
        if not findings:
            findings = check_helm_values(self.cilium_helm_values, self.cilium.version,
                                         pod_cidr=self.k3s.cluster_cidr)
        if findings:
            raise KeyedValueErrors([
                KeyedValueError(f"cilium.values.{f.path}", _effect_text(f.effect) + f.message,
                                f.fix) for f in findings])
        return self

    @model_validator(mode="after")
    def _cilium_reaches_the_k3s_api(self) -> "ClusterSpec":
        # The policy pack runs the same check on any registered Cilium release.
        line = line_of(self.cilium.version)
        if line is not None:
            _raise_cilium_findings(k3s_api_findings(HelmValues(self.cilium_helm_values, line)))
        return self

    @model_validator(mode="after")
    def _cilium_resources_have_their_feature(self) -> "ClusterSpec":
        # Cilium ignores these resources when the feature is off: refuse instead of silence.
        needs = (("l2AnnouncementPolicies", self.cilium.l2_announcement_policies,
                  "l2announcements.enabled"),
                 ("egressGatewayPolicies", self.cilium.egress_gateway_policies,
                  "egressGateway.enabled"))
        for key, resources, feature in needs:
            if resources and not self.cilium.value(feature):
                raise KeyedValueError(
                    f"cilium.{key}", f"Cilium ignores these policies while {feature} is off.",
                    f"set cilium.values.{feature}: true, or remove cilium.{key}.")
        return self

    @model_validator(mode="after")
    def _gateway_has_what_it_needs(self) -> "ClusterSpec":
        gateway = self.addons.gateway
        if not gateway.enabled:
            return self
        if not self.cilium.value("gatewayAPI.enabled"):
            raise KeyedValueError(
                "addons.gateway.enabled", "the default Gateway needs Cilium's Gateway API "
                "support, which is off.", "set cilium.values.gatewayAPI.enabled: true (the "
                "Gateway API CRDs are then installed before Cilium).")
        if not self.addons.ccm.enabled:
            raise KeyedValueError(
                "addons.gateway.enabled", "only hcloud-ccm gives the Gateway's Service a Hetzner "
                "load balancer, and addons.ccm.enabled is false.",
                "set addons.ccm.enabled: true, or addons.gateway.enabled: false.")
        if self.network.private_only and not gateway.load_balancer.use_private_ip:
            raise KeyedValueError(
                "addons.gateway.loadBalancer.usePrivateIp", "nodes have no public IPs "
                "(network.privateOnly), so the load balancer could not reach them.",
                "set addons.gateway.loadBalancer.usePrivateIp: true.")
        if len(self.gateway_load_balancer_name) > hetzner.MAX_RESOURCE_NAME:
            raise KeyedValueError(
                "addons.gateway.name", f"the load balancer name "
                f"'{self.gateway_load_balancer_name}' is longer than "
                f"{hetzner.MAX_RESOURCE_NAME} characters.", "use a shorter gateway name.")
        if any(listener.protocol == "TLS" for listener in gateway.listeners):
            line = line_of(self.cilium.version)
            kinds = {kind for kind, _ in line.gateway_api.required_kinds} if line else set()
            if "TLSRoute" not in kinds:
                raise KeyedValueError(
                    "addons.gateway.listeners", f"TLS listeners need TLSRoute, which Cilium "
                    f"{line.minor if line else self.cilium.version} only reads from the "
                    "experimental Gateway API channel (not installed).",
                    "use Cilium 1.20 (TLSRoute v1 is standard there), or HTTP/HTTPS listeners.")
        return self

    @property
    def installs_gateway_api_crds(self) -> bool:
        """Cilium's Gateway API or APISIX's Gateway role needs the Gateway API CRDs: the
        program installs the Cilium line's bundle (one copy of the kinds in the cluster)."""
        apisix = self.addons.apisix
        return bool(self.cilium.value("gatewayAPI.enabled")) or (
            apisix.enabled and apisix.serves_gateway)

    @model_validator(mode="after")
    def _apisix_fits_the_stack(self) -> "ClusterSpec":
        others = {}
        if self.addons.gateway.enabled:
            others[self.gateway_load_balancer_name] = "addons.gateway.name"
        problems = apisix_problems(self.addons.apisix, ApisixSurroundings(
            cluster_name=self.cluster_name, location=self.location,
            network_zone=self.network_zone, private_only=self.network.private_only,
            ccm_enabled=self.addons.ccm.enabled, k3s_disable=tuple(self.k3s.disable),
            cilium_gateway_api=bool(self.cilium.value("gatewayAPI.enabled")),
            cilium_ingress=bool(self.cilium.value("ingressController.enabled")),
            cilium_ingress_default=bool(self.cilium.value("ingressController.default")),
            other_load_balancer_names=others))
        if problems:
            raise KeyedValueErrors(problems)
        return self

    @model_validator(mode="after")
    def _gateway_api_crds_fit_kubernetes(self) -> "ClusterSpec":
        line = line_of(self.cilium.version)
        if not line or not self.installs_gateway_api_crds:
            return self
        bundle = line.gateway_api
        if self.k3s.parsed_version.kubernetes_minor < bundle.min_kubernetes:
            low = ".".join(map(str, bundle.min_kubernetes))
            raise KeyedValueError(
                "k3s.version", f"the Gateway API {bundle.version} CRDs Cilium {line.minor} needs "
                f"validate only on Kubernetes {low} or newer.",
                f"use a k3s release of Kubernetes {low} or newer.")
        return self

    @model_validator(mode="after")
    def _addresses_fit_the_plan(self) -> "ClusterSpec":
        try:
            self.address_plan
        except AddressPlanError as error:
            raise KeyedValueError(error.key, error.message, error.fix) from None
        return self

    @model_validator(mode="after")
    def _placement_groups_within_project_limit(self) -> "ClusterSpec":
        needed = placement.groups_needed(self.control_plane.count, self.control_plane_locations,
                                         [pool.count for pool in self.worker_pools])
        needed += autoscaler_placement_groups(self.worker_pools)
        if needed > hetzner.MAX_PLACEMENT_GROUPS:
            raise KeyedValueError(
                "workerPools", f"the servers need {needed} spread placement groups (one per "
                f"{hetzner.MAX_SERVERS_PER_PLACEMENT_GROUP} servers of a pool, of the control "
                f"plane per location, and one per autoscaled node group); a Hetzner project "
                f"holds at most {hetzner.MAX_PLACEMENT_GROUPS}.",
                "use fewer, larger worker pools. Other stacks in the same project count too.")
        return self

    @model_validator(mode="after")
    def _autoscaled_pools_are_possible(self) -> "ClusterSpec":
        problems = autoscaling_problems(
            self.cluster_name, self.worker_pools, ccm=self.addons.ccm.enabled,
            kubernetes_minor=self.k3s.parsed_version.kubernetes_minor)
        if problems:
            raise KeyedValueErrors(problems)
        return self

    @model_validator(mode="after")
    def _api_load_balancer_takes_every_server(self) -> "ClusterSpec":
        lb = self.control_plane.load_balancer
        limits = hetzner.LOAD_BALANCER_LIMITS.get(lb.type)
        if lb.enabled and limits and self.control_plane.count > limits[0]:
            raise KeyedValueError(
                "controlPlane.loadBalancer.type",
                f"{lb.type} takes at most {limits[0]} targets; the API load balancer needs "
                f"{self.control_plane.count} (one per control-plane server).",
                "pick a larger type or run fewer control-plane servers.")
        return self


    @model_validator(mode="after")
    def _server_types_offered(self) -> "ClusterSpec":
        servers = [("controlPlane.serverType", self.control_plane.server_type, location)
                   for location in self.control_plane_locations]
        servers += [(f"workerPools[{index}].serverType", pool.server_type,
                     self.pool_location(pool)) for index, pool in enumerate(self.worker_pools)]
        if self.bastion.enabled:
            servers.append(("bastion.serverType", self.bastion.server_type,
                            self.bastion_location))
        problems: dict[str, KeyedValueError] = {}
        for key, server_type, location in servers:
            found = hetzner.server_type_problem(server_type, location)
            if found and key not in problems:
                problems[key] = KeyedValueError(key, *found)
        if problems:
            raise KeyedValueErrors(list(problems.values()))
        return self

    @model_validator(mode="after")
    def _derived_names_fit(self) -> "ClusterSpec":
        problems: dict[str, KeyedValueError] = {}
        pools = [PoolNames(f"workerPools[{index}].name", pool.name, pool.count)
                 for index, pool in enumerate(self.worker_pools)]
        for key, name in derived_names(self.cluster_name, self.control_plane.count,
                                       self.control_plane_locations, self.bastion.enabled, pools):
            if len(name) > hetzner.MAX_RESOURCE_NAME and key not in problems:
                problems[key] = KeyedValueError(
                    key, f"the derived name '{name}' has {len(name)} characters; Hetzner and "
                    f"Kubernetes take at most {hetzner.MAX_RESOURCE_NAME}.",
                    "shorten clusterName" + (" or this pool's name." if key != "clusterName"
                                             else "."))
        if problems:
            raise KeyedValueErrors(list(problems.values()))
        return self

    @model_validator(mode="after")
    def _gateway_load_balancer_in_the_network_zone(self) -> "ClusterSpec":
        gateway = self.addons.gateway
        location = gateway.load_balancer.location
        problem = zone_problem(location, self.network_zone) if location else None
        if gateway.enabled and problem:
            raise KeyedValueError(
                "addons.gateway.loadBalancer.location", problem,
                f"use a location in {self.network_zone}, or remove the key (default: "
                f"{self.location}).")
        return self

    @model_validator(mode="after")
    def _native_routing_has_its_routes(self) -> "ClusterSpec":
        # Hetzner networks are routed (L3): with native routing, pod CIDRs reach other nodes only
        # through network routes, which hcloud-ccm's route controller creates.
        line = line_of(self.cilium.version)
        if line is None or self.addons.ccm.enabled:
            return self
        if HelmValues(self.cilium_helm_values, line).routing_mode == "native":
            raise KeyedValueError(
                "addons.ccm.enabled", "Cilium routes natively (routingMode: native), and only "
                "hcloud-ccm creates the Hetzner network routes that carry pod traffic between "
                "nodes.", "set addons.ccm.enabled: true, or cilium.values.routingMode: tunnel.")
        return self

    @model_validator(mode="after")
    def _node_kernels_run_the_cilium_features(self) -> "ClusterSpec":
        # Every node runs the agent: its image's kernel must have what the enabled features need
        # (upstream.cilium_kernel; the policy pack runs the same check on registered servers).
        line = line_of(self.cilium.version)
        if line is None:
            return self
        values = HelmValues(self.cilium_helm_values, line)
        images = [("controlPlane.image", self.control_plane.image)] + [
            (f"workerPools[{index}].image", pool.image)
            for index, pool in enumerate(self.worker_pools)]
        problems = [KeyedValueError(key, problem.text(line), _kernel_fix(problem.path))
                    for key, image in images for problem in kernel_problems(values, image)]
        if problems:
            raise KeyedValueErrors(problems)
        return self

    @model_validator(mode="after")
    def _native_routing_uses_node_pod_cidrs(self) -> "ClusterSpec":
        # Why, in upstream.cilium_on_hetzner; the policy pack runs the same check.
        line = line_of(self.cilium.version)
        if line is not None:
            _raise_cilium_findings(native_routing_ipam_findings(
                HelmValues(self.cilium_helm_values, line)))
        return self

    @model_validator(mode="after")
    def _pod_range_has_a_block_per_node(self) -> "ClusterSpec":
        mask = _node_cidr_mask(self.k3s.server_config)
        prefix = self.k3s.cluster_cidr.prefixlen
        blocks = 2 ** (mask - prefix) if mask >= prefix else 0
        # Autoscaled pools count at autoscaling.max: every node the autoscaler adds needs a block.
        nodes = self.control_plane.count + sum(pool.max_size for pool in self.worker_pools)
        if blocks < nodes:
            raise KeyedValueError(
                "k3s.clusterCidr", f"{self.k3s.cluster_cidr} holds {blocks} /{mask} pod "
                f"block(s), one per node, for {nodes} nodes: nodes without a block get no pods.",
                f"use a larger range (a /{max(0, mask - (nodes - 1).bit_length())} or larger), "
                "e.g. 10.42.0.0/16.")
        return self

    @model_validator(mode="after")
    def _k3s_installer_can_run(self) -> "ClusterSpec":
        # Last: a release refused for other reasons (Cilium's range, the autoscaler) is reported
        # for those first; its missing install-script pin only once the release is possible.
        install = self.k3s.install
        problems = [KeyedValueError(f"k3s.{p.path}", p.message, p.fix)
                    for p in install.version_problems(self.k3s.version)]
        images = {"controlPlane.image": self.control_plane.image}
        images |= {f"workerPools[{index}].image": pool.image
                   for index, pool in enumerate(self.worker_pools)}
        problems += install.image_problems(images)
        if problems:
            raise KeyedValueErrors(problems)
        return self


def _node_cidr_mask(server_config: dict) -> int:
    """kube-controller-manager's per-node block size, as serverConfig may set it."""
    args = server_config.get("kube-controller-manager-arg", [])
    args = args if isinstance(args, list) else [args]
    mask = k3s.DEFAULT_NODE_CIDR_MASK
    for arg in args:
        name, _, value = str(arg).partition("=")
        if name.lstrip("-") in ("node-cidr-mask-size", "node-cidr-mask-size-ipv4") and \
                value.isdigit():
            mask = int(value)
    return mask if 0 < mask <= 32 else k3s.DEFAULT_NODE_CIDR_MASK


def _k8s_in_range(spec: ClusterSpec) -> bool:
    line = line_of(spec.cilium.version)
    if line is None:
        return True
    low, high = line.tested_kubernetes
    return low <= spec.k3s.parsed_version.kubernetes_minor <= high



def _kernel_fix(path: str) -> str:
    image = f"use an image with a newer kernel (e.g. {newest_known_image()})"
    return f"{image}, or turn cilium.values.{path} off." if path else f"{image}."


def _raise_cilium_findings(findings: list[ChartFinding]) -> None:
    if findings:
        raise KeyedValueErrors([
            KeyedValueError(f"cilium.values.{f.path}", _effect_text(f.effect) + f.message, f.fix)
            for f in findings])


def _effect_text(effect: str) -> str:
    return "(silently ignored by Cilium) " if effect == "silent" else ""
