"""Hetzner firewall rules that open SSH or the Kubernetes API to the whole internet.

kube-hetzner and hetzner-k3s both default SSH and the Kubernetes API to 0.0.0.0/0;
this pack refuses it unless the pack config says the exposure is intended.
"""

from __future__ import annotations

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from policies.rules.types import HCLOUD_FIREWALL
from upstream.k3s import API_PORT
from upstream.openssh import SSH_PORT

WORLD = {"0.0.0.0/0": "IPv4", "::/0": "IPv6"}


def _opens_port_to_world(args: ResourceValidationArgs, port: str, report: ReportViolation,
                         what: str, config_key: str, fix: str) -> None:
    if args.resource_type != HCLOUD_FIREWALL:
        return
    if args.get_config().get(config_key):
        return
    for rule in args.props.get("rules") or []:
        if rule.get("direction") != "in" or rule.get("protocol") != "tcp":
            continue
        if not _port_range_contains(rule.get("port"), port):
            continue
        for source in rule.get("sourceIps") or []:
            if source in WORLD:
                report(f"Firewall '{args.name}' opens {what} (TCP {port}) to the whole {WORLD[source]} "
                       f"internet ({source}). {fix}", None)


def _port_range_contains(spec: str | None, port: str) -> bool:
    if spec is None:
        return False
    if spec == "any":
        return True
    low, _, high = str(spec).partition("-")
    return int(low) <= int(port) <= int(high or low)


def _public_ssh(args: ResourceValidationArgs, report: ReportViolation) -> None:
    _opens_port_to_world(args, str(SSH_PORT), report, "SSH", "allowPublicSsh",
                         "Set access.sshAllowedCidrs to your admin ranges, or set allowPublicSsh in "
                         "the pack config if this exposure is intended.")


def _public_api(args: ResourceValidationArgs, report: ReportViolation) -> None:
    _opens_port_to_world(args, str(API_PORT), report, "the Kubernetes API", "allowPublicApi",
                         "Set access.apiAllowedCidrs to the ranges that run kubectl, or set "
                         "allowPublicApi in the pack config if this exposure is intended.")


def _allow_flag(name: str) -> PolicyConfigSchema:
    return PolicyConfigSchema(properties={name: {"type": "boolean", "default": False}})


disallow_public_ssh = ResourceValidationPolicy(
    name="hcloud-firewall-disallow-public-ssh",
    description=f"Firewall rules may not open SSH ({SSH_PORT}/tcp) to 0.0.0.0/0 or ::/0.",
    validate=_public_ssh,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    config_schema=_allow_flag("allowPublicSsh"),
    remediation_steps="List your admin ranges in access.sshAllowedCidrs (private clusters: SSH "
                      "reaches the bastion only).",
)

disallow_public_api = ResourceValidationPolicy(
    name="hcloud-firewall-disallow-public-api",
    description=f"Firewall rules may not open the Kubernetes API ({API_PORT}/tcp) to 0.0.0.0/0 "
                "or ::/0.",
    validate=_public_api,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    config_schema=_allow_flag("allowPublicApi"),
    remediation_steps="List the ranges that need kubectl in access.apiAllowedCidrs, or reach the "
                      "API through the bastion.",
)

POLICIES = [disallow_public_ssh, disallow_public_api]
