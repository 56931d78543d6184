"""Firewall rules may not open SSH or the API to the whole internet."""

from __future__ import annotations

import pytest
from pulumi_policy.proxy import UnknownValueError

from policies.rules.firewall import disallow_public_api, disallow_public_ssh
from policies.rules.types import HCLOUD_FIREWALL
from tests.policy_fixtures import UNKNOWN, check_resource


def firewall(*rules: dict) -> dict:
    return {"name": "fw", "rules": list(rules)}


def rule(port: str, *sources: str, direction: str = "in", protocol: str = "tcp") -> dict:
    return {"direction": direction, "protocol": protocol, "port": port, "sourceIps": list(sources),
            "description": "test"}


def test_restricted_sources_pass() -> None:
    props = firewall(rule("22", "203.0.113.0/24"), rule("6443", "198.51.100.0/24"))
    assert check_resource(disallow_public_ssh, HCLOUD_FIREWALL, props) == []
    assert check_resource(disallow_public_api, HCLOUD_FIREWALL, props) == []


def test_world_ssh_is_reported_per_address_family() -> None:
    props = firewall(rule("22", "0.0.0.0/0", "::/0"))
    assert check_resource(disallow_public_ssh, HCLOUD_FIREWALL, props, name="dev-firewall") == [
        "Firewall 'dev-firewall' opens SSH (TCP 22) to the whole IPv4 internet (0.0.0.0/0). Set "
        "access.sshAllowedCidrs to your admin ranges, or set allowPublicSsh in the pack config if "
        "this exposure is intended.",
        "Firewall 'dev-firewall' opens SSH (TCP 22) to the whole IPv6 internet (::/0). Set "
        "access.sshAllowedCidrs to your admin ranges, or set allowPublicSsh in the pack config if "
        "this exposure is intended."]


def test_world_api_has_its_own_message() -> None:
    props = firewall(rule("6443", "0.0.0.0/0"))
    assert check_resource(disallow_public_api, HCLOUD_FIREWALL, props, name="fw") == [
        "Firewall 'fw' opens the Kubernetes API (TCP 6443) to the whole IPv4 internet (0.0.0.0/0). "
        "Set access.apiAllowedCidrs to the ranges that run kubectl, or set allowPublicApi in the "
        "pack config if this exposure is intended."]
    assert check_resource(disallow_public_ssh, HCLOUD_FIREWALL, props) == []


@pytest.mark.parametrize("port", ["any", "1-65535", "20-30"])
def test_port_ranges_covering_ssh_count(port: str) -> None:
    assert len(check_resource(disallow_public_ssh, HCLOUD_FIREWALL, firewall(rule(port, "::/0")))) == 1


def test_outbound_and_udp_rules_are_not_inbound_tcp_exposure() -> None:
    props = firewall(rule("22", "0.0.0.0/0", direction="out"), rule("22", "0.0.0.0/0", protocol="udp"))
    assert check_resource(disallow_public_ssh, HCLOUD_FIREWALL, props) == []


def test_pack_config_can_allow_the_exposure_explicitly() -> None:
    props = firewall(rule("22", "0.0.0.0/0"))
    assert check_resource(disallow_public_ssh, HCLOUD_FIREWALL, props, config={"allowPublicSsh": True}) == []


def test_missing_rules_property_is_compliant_not_a_crash() -> None:
    assert check_resource(disallow_public_ssh, HCLOUD_FIREWALL, {"name": "fw"}) == []
    assert check_resource(disallow_public_ssh, HCLOUD_FIREWALL, firewall({"direction": "in"})) == []


def test_unknown_rules_during_preview_raise_instead_of_passing() -> None:
    with pytest.raises(UnknownValueError):
        check_resource(disallow_public_ssh, HCLOUD_FIREWALL, {"name": "fw", "rules": UNKNOWN})


def test_other_resource_types_are_ignored() -> None:
    assert check_resource(disallow_public_ssh, "hcloud:index/server:Server",
                          firewall(rule("22", "0.0.0.0/0"))) == []
