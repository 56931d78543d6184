"""First-boot user data that joins a node the cluster-autoscaler creates, with no SSH bootstrap.

Assembled from the same code as the nodes Pulumi creates, so the two cannot drift:
- the base cloud-config of every k3s node (``infrastructure/cloud_init.node_cloud_config``): sshd
  key-only hardening, the systemd-networkd drop-in Cilium needs on Ubuntu, and in private mode
  the default route via the network gateway and Hetzner's resolvers;
- the agent's ``config.yaml`` from ``k3s_config.render_config`` (kubelet args, hardening flags,
  the join URL; labels and taints in the same registration drop-in), without node-name (k3s
  takes the hostname, which is the server name) and node-ip (``scripts/write-node-ip.sh`` finds
  the private address at boot);
- the other managed files from ``node_files.plain_files`` (registries.yaml with the embedded
  mirror's entries, the hardening sysctls);
- the same ``scripts/pod-route.sh`` with the same inputs (``pod_routes.pod_route_env``): the
  routes to the pod ranges via the network gateway, as a boot-time unit, before k3s starts;
- the same ``scripts/apply-k3s.sh`` and the same file bundle format installing the same pinned
  k3s release from the same source with the same install-script digest
  (``installer.installer_env``), with the agent token staged where the SSH bootstrap stages it.

The only secret inside is the agent token in its ``K10<CA hash>::node:<password>`` form: the node
verifies the cluster CA before it sends the token, and never holds the server token. The whole
user data is therefore secret; the Kubernetes layer keeps it a Pulumi secret and hands it to the
autoscaler in a Kubernetes Secret only.

Pure: no Pulumi.
"""

from __future__ import annotations

from typing import Any

from components.bootstrap import bundle, installer, k3s_config, node_files, paths, pod_routes
from components.bootstrap.remote_script import SCRIPTS_DIR
from components.infrastructure import cloud_init
from components.infrastructure.cloud_init import PrivateEgress
from stack_config import ClusterSpec
from stack_config.nodes import WorkerPoolConfig
from upstream import k3s as upstream_k3s
from upstream.hetzner import is_ubuntu_image

NODE_IP_DROPIN = f"{paths.K3S_ETC}/config.yaml.d/10-node-ip.yaml"
LIBEXEC = "/usr/local/lib/k3s-hcloud"
APPLY_SCRIPT = f"{LIBEXEC}/apply-k3s.sh"
NODE_IP_SCRIPT = f"{LIBEXEC}/write-node-ip.sh"
POD_ROUTE_SCRIPT = f"{LIBEXEC}/{pod_routes.SCRIPT}"
FILE_BUNDLE = f"{paths.STATE_DIR}/join-bundle"
STAGED_SECRETS = f"{paths.STATE_DIR}/secrets"
# Hetzner sets no root password when a server is created with an SSH key, and the autoscaler is
# always given one; locking the password anyway means a mistake there cannot open a password
# login (Ref: passwd(1), --lock; key logins keep working).
LOCK_ROOT_PASSWORD = ["passwd", "--lock", "root"]


def agent_config(spec: ClusterSpec, pool: WorkerPoolConfig, join_url: str) -> dict[str, Any]:
    """The pool's agent config.yaml, identical to a Pulumi agent's minus node-name and node-ip."""
    place = k3s_config.NodePlace(key=None, role="agent", private_ip=None,
                                 labels=dict(pool.labels),
                                 taints=[taint.k3s_text() for taint in pool.taints])
    return k3s_config.render_config(spec, place, join_url=join_url)


def join_cloud_config(spec: ClusterSpec, pool: WorkerPoolConfig, *, join_url: str,
                      agent_token: str, egress: PrivateEgress | None) -> dict[str, Any]:
    config = agent_config(spec, pool, join_url)
    # Split as the SSH bootstrap splits it: labels and taints in the registration drop-in.
    config_yaml = k3s_config.config_yaml(k3s_config.restart_config(config))
    registration = k3s_config.registration_config(config)
    # Staged exactly as the SSH bootstrap stages an agent's secrets (the same names and paths).
    secrets = {node_files.AGENT_TOKEN: agent_token, **node_files.user_secret_files(spec, "agent")}
    file_bundle = bundle.encode_file_bundle(
        [bundle.NodeFile(paths.CONFIG_FILE, config_yaml),
         *([bundle.NodeFile(paths.REGISTRATION_DROPIN, k3s_config.config_yaml(registration))]
           if registration else []),
         *node_files.plain_files(spec, "agent",
                                 registries_staged=node_files.registries_staged(spec))],
        list(secrets))
    base = cloud_init.node_cloud_config(None, ubuntu=is_ubuntu_image(pool.image), egress=egress)
    files = [
        *base["write_files"],
        _file(APPLY_SCRIPT, (SCRIPTS_DIR / "apply-k3s.sh").read_text(), "0700"),
        _file(NODE_IP_SCRIPT, (SCRIPTS_DIR / "write-node-ip.sh").read_text(), "0700"),
        _file(POD_ROUTE_SCRIPT, (SCRIPTS_DIR / pod_routes.SCRIPT).read_text(), "0700"),
        _file(FILE_BUNDLE, file_bundle, "0600"),
        *(_file(f"{STAGED_SECRETS}/{staged.name}", content, "0600")
          for staged, content in secrets.items()),
    ]
    apply_env = {
        "K3S_ROLE": "agent",
        "K3S_VERSION": spec.k3s.version,
        "K3S_SERVICE": upstream_k3s.SERVICE_BY_ROLE["agent"],
        # The same installer source and digest as the nodes the SSH bootstrap installs.
        **installer.installer_env(spec.k3s),
        "STATE_DIR": paths.STATE_DIR,
    }
    commands = [
        *base.get("runcmd", []),
        LOCK_ROOT_PASSWORD,
        # The whole network's range: Hetzner may give an autoscaled server its address in any
        # subnet of a network that other stacks share (network.ipRange wider than the subnet).
        ["env", f"NETWORK_CIDR={spec.network.network_range}", f"NODE_IP_DROPIN={NODE_IP_DROPIN}",
         "bash", NODE_IP_SCRIPT],
        ["env", *(f"{key}={value}" for key, value in pod_routes.pod_route_env(spec).items()),
         "bash", POD_ROUTE_SCRIPT],
        # Exec form (no shell parses these values); the inner sh only connects the bundle to
        # the script's stdin, which is how the SSH bootstrap feeds it too.
        ["env", *(f"{key}={value}" for key, value in apply_env.items()),
         "sh", "-c", 'exec bash "$0" < "$1"', APPLY_SCRIPT, FILE_BUNDLE],
    ]
    return {**base, "write_files": files, "runcmd": commands}


def join_user_data(spec: ClusterSpec, pool: WorkerPoolConfig, *, join_url: str,
                   agent_token: str, egress: PrivateEgress | None) -> str:
    """``#cloud-config`` text (secret: it carries the agent token); refuses Hetzner-oversized data."""
    if not agent_token.startswith(upstream_k3s.SECURE_TOKEN_PREFIX):
        raise ValueError("the autoscaler's nodes must get the K10<CA hash>:: token form, so they "
                         "verify the cluster CA before sending the token")
    return cloud_init.render(join_cloud_config(spec, pool, join_url=join_url,
                                               agent_token=agent_token, egress=egress))


def _file(path: str, content: str, permissions: str) -> dict[str, str]:
    return {"path": path, "owner": "root:root", "permissions": permissions, "content": content}
