"""k3s policies: features the pinned release lacks, and embedded etcd's quorum.

Read from the k3s nodes the stack registers (``policies.rules.k3s_nodes``): this program's
``K3sNode`` components or any hand-written remote command that installs k3s.
"""

from __future__ import annotations

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from policies.rules.k3s_nodes import k3s_nodes
from upstream.k3s import (
    EMBEDDED_ETCD_SERVER_COUNTS,
    K3sVersion,
    embedded_etcd_counts_text,
    embedded_registry_ga_releases,
    embedded_registry_minimums,
    has_embedded_registry,
)


def _embedded_registry(args: StackValidationArgs, report: ReportViolation) -> None:
    for node in k3s_nodes(args.resources):
        if not node.flag("embedded-registry") or node.version is None:
            continue
        try:
            release = K3sVersion.parse(node.version)
        except ValueError:
            continue  # not a release tag: nothing to compare
        if not has_embedded_registry(release):
            report(f"k3s node '{node.name}' enables embedded-registry on {node.version}, which "
                   f"has no embedded registry mirror (first in {embedded_registry_minimums()}); "
                   "cluster init fails. Fix: raise k3s.version to one of those releases or "
                   "newer, or set k3s.embeddedRegistryMirror.enabled: false.", node.urn)


embedded_registry_needs_release = StackValidationPolicy(
    name="k3s-embedded-registry-needs-supported-release",
    description="The embedded registry mirror (Spegel) only on k3s releases that ship it.",
    validate=_embedded_registry,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    remediation_steps=f"Pin k3s.version to one of {embedded_registry_minimums()} or newer "
                      f"(GA from {embedded_registry_ga_releases()}), or turn the mirror off. "
                      "A release without it (e.g. v1.26.4+k3s1) fails cluster init.",
    url="https://docs.k3s.io/installation/registry-mirror",
)


def _odd_etcd(args: StackValidationArgs, report: ReportViolation) -> None:
    nodes = k3s_nodes(args.resources)
    servers = [node for node in nodes if node.role == "server"]
    embedded_etcd = any(node.flag("cluster-init") for node in servers)
    if embedded_etcd and len(servers) not in EMBEDDED_ETCD_SERVER_COUNTS:
        first = next(node for node in servers if node.flag("cluster-init"))
        why = ("an even member count tolerates no more failures than one server fewer and "
               "splits votes" if len(servers) % 2 == 0 else
               "every member takes part in every write, so more members slow writes down")
        report(f"{len(servers)} k3s servers ({', '.join(n.name for n in servers)}) run embedded "
               f"etcd (cluster-init on '{first.name}'): {why}. Fix: set controlPlane.count to "
               f"{embedded_etcd_counts_text()}, or use an external datastore "
               "(k3s.datastoreEndpoint).", first.urn)


etcd_odd_server_count = StackValidationPolicy(
    name="k3s-etcd-odd-server-count",
    description=f"Embedded etcd runs on {embedded_etcd_counts_text()} k3s servers.",
    validate=_odd_etcd,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    remediation_steps=f"Run {embedded_etcd_counts_text()} servers with embedded etcd; other "
                      "counts only with an external datastore.",
    url="https://docs.k3s.io/datastore/ha-embedded",
)

POLICIES = [embedded_registry_needs_release, etcd_odd_server_count]
