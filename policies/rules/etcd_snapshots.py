"""Backups: a production-looking cluster on embedded etcd keeps a copy of its snapshots off the
servers.

k3s snapshots embedded etcd on each server's own disk by default; losing the servers (a project
deleted, a location down, a bad ``pulumi destroy``) loses every snapshot with them. A 3- or
5-server control plane says "production": it gets an advisory until some server copies its
snapshots to S3 (``etcd-s3`` in its config.yaml). Read from the k3s nodes the stack registers
(``policies.rules.k3s_nodes``).
Ref: https://docs.k3s.io/datastore/backup-restore ("S3 Compatible Object Store support")
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
from upstream.k3s_etcd_snapshots import S3_FLAG

# Control planes whose size says "production": embedded etcd's HA member counts.
PRODUCTION_SERVER_COUNTS = (3, 5)


def _snapshots_off_node(args: StackValidationArgs, report: ReportViolation) -> None:
    servers = [node for node in k3s_nodes(args.resources) if node.role == "server"]
    first = next((node for node in servers if node.flag("cluster-init")), None)
    if first is None or len(servers) not in PRODUCTION_SERVER_COUNTS:
        return
    if any(node.flag(S3_FLAG) in (True, "true") for node in servers):
        return
    report(f"{len(servers)} k3s servers on embedded etcd ({', '.join(n.name for n in servers)}) "
           "keep their etcd snapshots only on their own disks: losing the servers loses every "
           "backup with them. Fix: set k3s.etcdSnapshots.s3 (Hetzner Object Storage: endpoint "
           "<location>.your-objectstorage.com), the keys with pulumi config set --secret "
           "--path; see docs/backups.md.", first.urn)


etcd_snapshots_off_node = StackValidationPolicy(
    name="k3s-etcd-snapshots-off-node",
    description="A 3- or 5-server k3s control plane copies its etcd snapshots off the servers.",
    validate=_snapshots_off_node,
    enforcement_level=EnforcementLevel.ADVISORY,
    severity=Severity.MEDIUM,
    remediation_steps="Configure k3s's etcd S3 target (k3s.etcdSnapshots.s3), so snapshots "
                      "survive the servers.",
    url="https://docs.k3s.io/datastore/backup-restore",
)

POLICIES = [etcd_snapshots_off_node]
