"""CIS hardening from the k3s hardening guide (``k3s.hardening``): config flags and node files.

Ref: https://docs.k3s.io/security/hardening-guide
Deliberately not included: ``EventRateLimit`` (needs its own admission config to be tuned per
cluster), kubelet TLS cipher pinning and ``terminated-pod-gc-threshold`` (not in this project's
hardening scope yet; they can be set through ``k3s.serverConfig`` / ``k3s.agentConfig``).
"""

from __future__ import annotations

from typing import Any

from components import yaml_text

from components.bootstrap import paths
from components.bootstrap.bundle import NodeFile
from components.handles import Role
from stack_config.k3s import Hardening

# Kernel settings kubelet expects; with protect-kernel-defaults it refuses to start otherwise.
KERNEL_SYSCTLS: dict[str, int] = {
    "vm.panic_on_oom": 0,
    "vm.overcommit_memory": 1,
    "kernel.panic": 10,
    "kernel.panic_on_oops": 1,
}

# Audit log rotation the guide prescribes (days, files, MB).
AUDIT_LOG_MAX_AGE_DAYS = 30
AUDIT_LOG_MAX_BACKUPS = 10
AUDIT_LOG_MAX_SIZE_MB = 100

# Namespaces PodSecurity admission does not police: the system components need privileges.
PSA_EXEMPT_NAMESPACES = ("kube-system",)


def kubelet_args(hardening: Hardening) -> list[str]:
    if not hardening.enabled:
        return []
    return [f"streaming-connection-idle-timeout={hardening.streaming_connection_idle_timeout}"]


def apiserver_args(hardening: Hardening) -> list[str]:
    if not hardening.enabled:
        return []
    args = [f"admission-control-config-file={paths.PSA_CONFIG_FILE}"]
    if hardening.audit_log:
        args += [
            f"audit-log-path={paths.AUDIT_LOG_FILE}",
            f"audit-policy-file={paths.AUDIT_POLICY_FILE}",
            f"audit-log-maxage={AUDIT_LOG_MAX_AGE_DAYS}",
            f"audit-log-maxbackup={AUDIT_LOG_MAX_BACKUPS}",
            f"audit-log-maxsize={AUDIT_LOG_MAX_SIZE_MB}",
        ]
    return args


def pod_security_admission(level: str) -> dict[str, Any]:
    return {
        "apiVersion": "apiserver.config.k8s.io/v1",
        "kind": "AdmissionConfiguration",
        "plugins": [{
            "name": "PodSecurity",
            "configuration": {
                "apiVersion": "pod-security.admission.config.k8s.io/v1",
                "kind": "PodSecurityConfiguration",
                "defaults": {mode: level for mode in ("enforce", "audit", "warn")}
                | {f"{mode}-version": "latest" for mode in ("enforce", "audit", "warn")},
                "exemptions": {"usernames": [], "runtimeClasses": [],
                               "namespaces": list(PSA_EXEMPT_NAMESPACES)},
            },
        }],
    }


def audit_policy() -> dict[str, Any]:
    # Metadata for every request: who did what, never request or response bodies (secrets).
    return {"apiVersion": "audit.k8s.io/v1", "kind": "Policy", "rules": [{"level": "Metadata"}]}


def sysctl_conf() -> str:
    # sysctl.d is "key = value" lines, not YAML: rendered from the table, one line per entry.
    return "".join(f"{key} = {value}\n" for key, value in KERNEL_SYSCTLS.items())


def node_files(hardening: Hardening, role: Role) -> list[NodeFile]:
    if not hardening.enabled:
        return []
    files = [NodeFile(paths.SYSCTL_FILE, sysctl_conf(), mode="0644")]
    if role == "server":
        files.append(NodeFile(paths.PSA_CONFIG_FILE, _yaml(
            pod_security_admission(hardening.pod_security_level))))
        if hardening.audit_log:
            files.append(NodeFile(paths.AUDIT_POLICY_FILE, _yaml(audit_policy())))
    return files


def _yaml(document: dict[str, Any]) -> str:
    return yaml_text.dump(document)
