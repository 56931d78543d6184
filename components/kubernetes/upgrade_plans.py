"""system-upgrade-controller Plans that roll a k3s version through the cluster (pure; no Pulumi).

Servers first, one at a time (``concurrency: 1``, cordoned); agents after every server is done
(their ``prepare`` step waits for the server Plan), one at a time, drained. The version is
``k3s.version``: bumping it updates both Plans in place and the controller does the rest, so no
server is replaced. Never skip a Kubernetes minor in one bump (version skew policy).
Ref: https://docs.k3s.io/upgrades/automated; rancher/system-upgrade-controller
     examples/k3s-upgrade.yaml
"""

from __future__ import annotations

from typing import Any

from upstream import k3s

API_VERSION = "upgrade.cattle.io/v1"
SERVER_PLAN = "k3s-server"
AGENT_PLAN = "k3s-agent"
CONTROL_PLANE_LABEL = k3s.CONTROL_PLANE_LABEL


def _plan(name: str, role: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": API_VERSION,
        "kind": "Plan",
        "metadata": {"name": name, "namespace": k3s.SYSTEM_UPGRADE_NAMESPACE,
                     "labels": {"k3s-upgrade": role}},
        "spec": spec,
    }


def server_plan(version: str) -> dict[str, Any]:
    return _plan(SERVER_PLAN, "server", {
        "concurrency": 1,
        "cordon": True,
        "nodeSelector": {"matchExpressions": [
            {"key": CONTROL_PLANE_LABEL, "operator": "In", "values": ["true"]}]},
        # Servers may carry control-plane or CriticalAddonsOnly taints; the upgrade Job must
        # still land on them.
        "tolerations": [{"key": CONTROL_PLANE_LABEL, "operator": "Exists"},
                        {"key": "CriticalAddonsOnly", "operator": "Exists"}],
        "serviceAccountName": k3s.SYSTEM_UPGRADE_SERVICE_ACCOUNT,
        "upgrade": {"image": k3s.K3S_UPGRADE_IMAGE},
        "version": version,
    })


def agent_plan(version: str) -> dict[str, Any]:
    return _plan(AGENT_PLAN, "agent", {
        "concurrency": 1,
        "nodeSelector": {"matchExpressions": [
            {"key": CONTROL_PLANE_LABEL, "operator": "DoesNotExist"}]},
        # Waits until the server Plan has finished on every server.
        "prepare": {"image": k3s.K3S_UPGRADE_IMAGE, "args": ["prepare", SERVER_PLAN]},
        "drain": {"force": True},
        "serviceAccountName": k3s.SYSTEM_UPGRADE_SERVICE_ACCOUNT,
        "upgrade": {"image": k3s.K3S_UPGRADE_IMAGE},
        "version": version,
    })
