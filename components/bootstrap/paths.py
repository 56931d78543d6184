"""Where the bootstrap puts things on a node. One table, read by the renderers and the scripts.

Each command passes the paths its script needs in its environment. The scripts name paths
themselves only in their guards: the folders apply-k3s.sh may write (``MANAGED_PREFIXES``,
kept in step by tests/test_bootstrap_scripts.py) and write-registration.sh's drop-in folder.
Ref: https://docs.k3s.io/installation/configuration (config.yaml, config.yaml.d drop-ins)
Ref: https://docs.k3s.io/security/hardening-guide (psa.yaml, audit.yaml, 90-kubelet.conf)
"""

from __future__ import annotations

from upstream.k3s_etcd_snapshots import SERVER_DATA_DIR

K3S_ETC = "/etc/rancher/k3s"
CONFIG_FILE = f"{K3S_ETC}/config.yaml"
# k3s merges config.yaml.d/*.yaml after config.yaml; the secret datastore endpoint lives in a
# drop-in so config.yaml itself stays free of secrets (and readable in the plan).
DATASTORE_DROPIN = f"{K3S_ETC}/config.yaml.d/50-datastore.yaml"
# A node's labels and taints: k3s reads them only when the node registers, so they live apart
# from config.yaml and an edit rewrites this file without restarting k3s.
REGISTRATION_DROPIN = f"{K3S_ETC}/config.yaml.d/40-registration.yaml"
# k3s.serverConfig / agentConfig when part of `k3s` is a secret: staged like the datastore.
USER_SECRETS_DROPIN = f"{K3S_ETC}/config.yaml.d/60-user.yaml"
# The S3 credentials of etcd snapshots, the same way (servers only).
ETCD_S3_DROPIN = f"{K3S_ETC}/config.yaml.d/50-etcd-s3.yaml"
REGISTRIES_FILE = f"{K3S_ETC}/registries.yaml"
CLUSTER_TOKEN_FILE = f"{K3S_ETC}/cluster-token"
AGENT_TOKEN_FILE = f"{K3S_ETC}/agent-token"
KUBECONFIG_FILE = f"{K3S_ETC}/k3s.yaml"

K3S_SERVER_DATA = SERVER_DATA_DIR
SERVER_CA_FILE = f"{K3S_SERVER_DATA}/tls/server-ca.crt"
# A client certificate k3s generates on every server, bound to system:node-proxier only: what
# the API load balancer's readiness answer asks /readyz with (any authenticated client may).
KUBE_PROXY_CLIENT_CERT = f"{K3S_SERVER_DATA}/tls/client-kube-proxy.crt"
KUBE_PROXY_CLIENT_KEY = f"{K3S_SERVER_DATA}/tls/client-kube-proxy.key"
PSA_CONFIG_FILE = f"{K3S_SERVER_DATA}/psa.yaml"
AUDIT_POLICY_FILE = f"{K3S_SERVER_DATA}/audit.yaml"
AUDIT_LOG_FILE = f"{K3S_SERVER_DATA}/logs/audit.log"

SYSCTL_FILE = "/etc/sysctl.d/90-kubelet.conf"

# The bootstrap's own state: staged secrets, the list of files it manages, backups for rollback.
STATE_DIR = "/var/lib/k3s-hcloud"

# apply-k3s.sh refuses to write anywhere else (defence in depth against a malformed bundle).
MANAGED_PREFIXES = (f"{K3S_ETC}/", f"{K3S_SERVER_DATA}/", "/etc/sysctl.d/")
