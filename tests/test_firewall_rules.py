"""The firewall rule table: sources come from the config, empty lists close the service."""

from __future__ import annotations

from cluster_plan.firewall_rules import (
    AccessPolicy,
    public_targets,
    rule_table,
    rules_for,
)

WORLD = ("0.0.0.0/0", "::/0")


def policy(**overrides: object) -> AccessPolicy:
    values = {"ssh_sources": ("203.0.113.0/24",), "api_sources": ("198.51.100.0/24",),
              "icmp_sources": WORLD, "private_only": False, "bastion": False}
    return AccessPolicy(**{**values, **overrides})  # type: ignore[arg-type]


def by_port(rules: list) -> dict:
    return {(rule.protocol, rule.port): rule for rule in rules}


def test_every_rule_has_a_description() -> None:
    assert all(rule.description for rule in rule_table(policy(bastion=True)))


def test_public_mode_sources_are_exactly_the_configured_cidrs() -> None:
    rules = by_port(rules_for("nodes", rule_table(policy())))
    assert rules[("tcp", "22")].sources == ("203.0.113.0/24",)
    assert rules[("tcp", "6443")].sources == ("198.51.100.0/24",)
    assert rules[("icmp", None)].sources == WORLD
    assert set(rules) == {("tcp", "22"), ("tcp", "6443"), ("icmp", None)}


def test_empty_lists_leave_no_rule_so_the_service_is_closed() -> None:
    rules = rule_table(policy(ssh_sources=(), api_sources=(), icmp_sources=()))
    assert rules == []


def test_private_mode_opens_ssh_on_the_bastion_only() -> None:
    table = rule_table(policy(private_only=True, bastion=True))
    assert public_targets(policy(private_only=True, bastion=True)) == ["bastion"]
    assert ("tcp", "22") in by_port(rules_for("bastion", table))
    assert ("tcp", "22") not in by_port(rules_for("nodes", table))


def test_the_bastion_never_accepts_the_api_port() -> None:
    table = rule_table(policy(bastion=True))
    assert ("tcp", "6443") not in by_port(rules_for("bastion", table))


def test_public_mode_without_bastion_has_one_firewall_for_the_nodes() -> None:
    assert public_targets(policy()) == ["nodes"]
    assert public_targets(policy(bastion=True)) == ["bastion", "nodes"]
