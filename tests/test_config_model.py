"""Each config rule: one accepted case and one refused case with its exact message."""

from __future__ import annotations

from typing import Any

import pytest

from stack_config import validate_cluster_spec
from tests.helpers import config_problems, minimal_config
from upstream.k3s import DEFAULT_VERSION


problems = config_problems
base = minimal_config


def test_minimal_config_gets_documented_defaults() -> None:
    spec = validate_cluster_spec(base())
    assert str(spec.network.cidr) == "10.0.0.0/16"
    assert spec.access.ssh_allowed_cidrs == [] and spec.access.api_allowed_cidrs == []
    assert spec.control_plane.count == 1
    assert spec.k3s.disable == ["traefik", "servicelb"]
    assert spec.location == "nbg1"


def test_cluster_name_must_be_a_dns_label() -> None:
    assert problems(base(clusterName="Dev_1")) == [
        "clusterName: 'Dev_1' is not a DNS label. Fix: use 1-63 lowercase letters, digits and "
        "'-', starting and ending with a letter or digit."]


def test_cluster_name_is_required() -> None:
    assert problems({}) == ["clusterName: required key is missing. Fix: set it in Pulumi.<stack>.yaml."]


def test_unknown_key_is_named_with_its_path() -> None:
    assert problems(base(controlPlane={"cuont": 3})) == [
        "controlPlane.cuont: unknown key. Fix: did you mean 'count'? Known keys here: count, "
        "serverType, image, locations, loadBalancer, protect."]


def test_unknown_top_level_key_is_refused() -> None:
    [message] = problems(base(workerPool=[]))
    assert message.startswith("workerPool: unknown key. Fix: did you mean 'workerPools'? Known "
                              "keys here: clusterName, location, network,")


def test_location_must_be_a_hetzner_location() -> None:
    [message] = problems(base(location="fra1"))
    assert message.startswith("location: Input should be 'fsn1', 'nbg1', 'hel1', 'ash', 'hil' or 'sin'")


@pytest.mark.parametrize("count", [1, 3, 5])
def test_odd_control_plane_counts_are_accepted_with_embedded_etcd(count: int) -> None:
    assert validate_cluster_spec(base(controlPlane={"count": count})).control_plane.count == count


def test_even_control_plane_count_needs_an_external_datastore() -> None:
    assert problems(base(controlPlane={"count": 2})) == [
        "controlPlane.count: 2 servers with embedded etcd cannot keep a quorum. Fix: use 1, 3 or "
        "5, or set k3s.datastoreEndpoint for an external datastore."]
    spec = validate_cluster_spec(base(controlPlane={"count": 2},
                                      k3s={"datastoreEndpoint": "postgres://db:5432/k3s"}))
    assert spec.control_plane.count == 2


def test_private_only_requires_the_bastion() -> None:
    assert problems(base(network={"privateOnly": True})) == [
        "bastion.enabled: network.privateOnly is true but no bastion is enabled; private nodes "
        "would have no way out and no SSH path. Fix: set bastion.enabled: true (it becomes the "
        "NAT gateway and SSH jump host)."]
    spec = validate_cluster_spec(base(network={"privateOnly": True}, bastion={"enabled": True}))
    assert spec.bastion_location == "nbg1"


def test_pod_cidr_may_not_overlap_the_network() -> None:
    assert problems(base(k3s={"clusterCidr": "10.0.128.0/17"})) == [
        "k3s.clusterCidr: 10.0.128.0/17 overlaps network.cidr (10.0.0.0/16). Fix: pick "
        "non-overlapping ranges (defaults: network 10.0.0.0/16, pods 10.42.0.0/16, services "
        "10.43.0.0/16)."]


def test_service_cidr_may_not_overlap_the_pod_cidr() -> None:
    [message] = problems(base(k3s={"serviceCidr": "10.42.128.0/17"}))
    assert message.startswith("k3s.serviceCidr: 10.42.128.0/17 overlaps k3s.clusterCidr")


def test_network_must_be_private() -> None:
    assert problems(base(network={"cidr": "8.8.0.0/16"})) == [
        "network.cidr: 8.8.0.0/16 is not a private (RFC 1918) range. Fix: use e.g. 10.0.0.0/16."]


def test_cidrs_are_parsed_with_a_clear_message() -> None:
    assert problems(base(access={"sshAllowedCidrs": ["203.0.113.7/24"]})) == [
        "access.sshAllowedCidrs[0]: '203.0.113.7/24' is not a network in CIDR form "
        "(203.0.113.7/24 has host bits set). Fix: write it like 203.0.113.0/24 or 2001:db8::/32, "
        "with no host bits set."]
    spec = validate_cluster_spec(base(access={"sshAllowedCidrs": ["203.0.113.0/24", "2001:db8::/32"]}))
    assert [str(c) for c in spec.access.ssh_allowed_cidrs] == ["203.0.113.0/24", "2001:db8::/32"]


def test_ssh_public_keys_must_be_openssh_lines() -> None:
    [message] = problems(base(access={"sshPublicKeys": ["AAAAC3Nz"]}))
    assert message.startswith("access.sshPublicKeys[0]: is not an OpenSSH public key.")
    spec = validate_cluster_spec(base(access={"sshPublicKeys": ["ssh-ed25519 AAAAC3Nz me@x"]}))
    assert spec.access.ssh_public_keys == ["ssh-ed25519 AAAAC3Nz me@x"]


def test_worker_pool_names_are_unique() -> None:
    assert problems(base(workerPools=[{"name": "a"}, {"name": "a"}])) == [
        "workerPools[1].name: pool name 'a' is used twice. Fix: pool names are stable node "
        "identities; make them unique."]


def test_worker_pool_names_may_not_take_reserved_names() -> None:
    assert problems(base(workerPools=[{"name": "bastion"}])) == [
        "workerPools[0].name: 'bastion' is reserved for the program's own servers. Fix: choose "
        "another pool name."]


def test_locations_must_share_one_network_zone() -> None:
    assert problems(base(location="nbg1", workerPools=[{"name": "us", "location": "ash"}])) == [
        "location: locations span several network zones: ash (us-east), nbg1 (eu-central). Fix: "
        "one Hetzner network lives in one zone; keep every location in the zone of 'nbg1' "
        "(eu-central)."]
    spec = validate_cluster_spec(base(controlPlane={"count": 3, "locations": ["fsn1", "nbg1", "hel1"]}))
    assert spec.network_zone == "eu-central"


def test_embedded_registry_mirror_is_refused_on_k3s_that_lacks_it() -> None:
    raw = base(k3s={"version": "v1.26.4+k3s1", "embeddedRegistryMirror": {"enabled": True}},
               cilium={"allowUntestedKubernetes": True})
    assert problems(raw) == [
        "k3s.embeddedRegistryMirror.enabled: k3s v1.26.4+k3s1 has no embedded registry mirror; it "
        "first shipped in v1.26.13+k3s1, v1.27.10+k3s1, v1.28.6+k3s1, v1.29.1+k3s1 (GA from "
        "v1.29.12+k3s1, v1.30.8+k3s1, v1.31.4+k3s1). Fix: raise k3s.version to one of those "
        "releases or newer, or set k3s.embeddedRegistryMirror.enabled: false."]
    raw["k3s"]["version"] = "v1.26.13+k3s1"
    # An old release has no pinned install script: its digest is given (docs/installer.md).
    raw["k3s"]["install"] = {"scriptSha256": "ab" * 32}
    assert validate_cluster_spec(raw).k3s.embedded_registry_mirror.enabled


def test_k3s_version_must_be_a_release_tag() -> None:
    [message] = problems(base(k3s={"version": "1.35"}))
    assert message == ("k3s.version: '1.35' is not a k3s release tag. Fix: write it like "
                       f"{DEFAULT_VERSION} (see github.com/k3s-io/k3s/releases).")


def test_k3s_extra_config_may_not_override_computed_keys() -> None:
    assert problems(base(k3s={"serverConfig": {"cluster-init": True, "flannel-backend": "vxlan"}})) == [
        f"k3s.serverConfig.{key}: '{key}' is computed by the program; a second value would "
        "silently fight it. Fix: remove it; use the dedicated k3s.* / cilium.* keys instead."
        for key in ("cluster-init", "flannel-backend")]
    spec = validate_cluster_spec(base(k3s={"serverConfig": {"etcd-snapshot-retention": 10}}))
    assert spec.k3s.server_config == {"etcd-snapshot-retention": 10}


def test_cilium_version_must_be_in_a_supported_line() -> None:
    assert problems(base(cilium={"version": "1.16.5"})) == [
        "cilium.version: Cilium '1.16.5' is not in a supported line (1.18, 1.19, 1.20). Fix: use "
        "e.g. '1.20.2'."]


def test_k3s_minor_outside_cilium_tested_range_is_refused_unless_overridden() -> None:
    raw = base(k3s={"version": "v1.31.4+k3s1"}, cilium={"version": "1.20.0"})
    assert problems(raw) == [
        "k3s.version: Kubernetes 1.31 is outside Cilium 1.20's tested range 1.33–1.36. Fix: pick "
        "a k3s release in that range, another cilium.version, or set "
        "cilium.allowUntestedKubernetes: true to accept the risk."]
    raw["cilium"]["allowUntestedKubernetes"] = True
    raw["k3s"]["install"] = {"scriptSha256": "ab" * 32}  # no pinned install script for 1.31
    spec = validate_cluster_spec(raw)
    assert any("outside Cilium 1.20's tested Kubernetes range" in a for a in spec.advisories())


def test_public_api_load_balancer_is_reported_loudly() -> None:
    spec = validate_cluster_spec(base(controlPlane={"loadBalancer": {"enabled": True,
                                                                     "publicInterface": True}}))
    assert any("access.apiAllowedCidrs does NOT protect it" in a for a in spec.advisories())
    reachable = base(access={"apiAllowedCidrs": ["203.0.113.0/24"]})
    assert validate_cluster_spec(reachable).advisories() == []


@pytest.mark.parametrize("raw", [
    base(),  # public nodes, but 6443 closed to every range
    base(network={"privateOnly": True}, bastion={"enabled": True},
         controlPlane={"loadBalancer": {"enabled": True}}),  # private API LB
])
def test_an_unreachable_api_gets_the_tunnel_advice(raw: dict[str, Any]) -> None:
    [advisory] = [a for a in validate_cluster_spec(raw).advisories() if "Kubernetes layer" in a]
    assert "set access.kubernetesApiServer: https://127.0.0.1:6443" in advisory
    raw = {**raw, "access": {"kubernetesApiServer": "https://127.0.0.1:6443"}}
    assert not [a for a in validate_cluster_spec(raw).advisories() if "Kubernetes layer" in a]


def test_kubernetes_api_server_must_be_an_https_url_with_port() -> None:
    assert problems(base(access={"kubernetesApiServer": "127.0.0.1:6443"})) == [
        "access.kubernetesApiServer: '127.0.0.1:6443' is not an API server URL. Fix: write it "
        "like https://127.0.0.1:6443 (scheme, host and port, no path)."]


def test_cluster_size_is_capped_at_one_network() -> None:
    assert problems(base(workerPools=[{"name": "big", "count": 100}])) == [
        "workerPools: 101 servers (autoscaled pools counted at autoscaling.max) exceed the ~100 "
        "servers one Hetzner network can attach. Fix: lower autoscaling.max or count, or split "
        "the workload over several clusters (one stack each)."]


def test_registry_credentials_are_refused() -> None:
    [message] = problems(base(k3s={"registries": {"configs": {"r.example": {"auth": {"username": "u"}}}}}))
    assert message.startswith("k3s.registries.configs.r.example.auth: registry credentials are "
                              "not supported")


def test_cilium_resource_names_are_unique() -> None:
    pool = {"name": "p", "blocks": ["10.100.0.0/24"]}
    assert problems(base(cilium={"loadBalancerIPPools": [pool, pool]})) == [
        "cilium.loadBalancerIPPools: duplicate name(s) p. Fix: give every entry a unique name."]


def _private(workers: int, mirror: bool) -> dict[str, Any]:
    return minimal_config(
        network={"cidr": "10.0.0.0/16", "privateOnly": True}, bastion={"enabled": True},
        workerPools=[{"name": "workers", "count": workers}],
        k3s={"embeddedRegistryMirror": {"enabled": mirror}})


def test_a_large_private_cluster_without_the_registry_mirror_is_advised_to_enable_it() -> None:
    def advised(workers: int, mirror: bool) -> list[str]:
        return [note for note in validate_cluster_spec(_private(workers, mirror)).advisories()
                if "k3s.embeddedRegistryMirror.enabled: true" in note]

    assert advised(96, mirror=False) and "up to 97 nodes" in advised(96, mirror=False)[0]
    assert not advised(96, mirror=True)
    # Small clusters: the NAT is not what the create waits on.
    assert not advised(39, mirror=False) and advised(40, mirror=False)
