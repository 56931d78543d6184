#!/usr/bin/env bash
# Install a self-hosted GitHub Actions runner for one k3s-hcloud stack on this host (the bastion),
# as a hardened systemd service of its own unprivileged user. Idempotent: an installed release
# and a registered runner are kept; re-running only rewrites the units.
#
# stdin: the runner registration token (secret). It reaches config.sh through the environment
#   variable ACTIONS_RUNNER_INPUT_TOKEN (read by actions/runner's CommandSettings), never as an
#   argument, so it is not visible in the process list; it is not written to disk.
# Environment (plain, not secret):
#   REPOSITORY      owner/name of the GitHub repository
#   RUNNER_NAME     runner name (the stack's label plus the host)
#   RUNNER_LABELS   comma-separated labels, e.g. k3s-hcloud-private-ha
#   RUNNER_VERSION  actions/runner release, e.g. 2.329.0
#   RUNNER_SHA256_X64, RUNNER_SHA256_ARM64
#                   expected SHA-256 of the tarball per architecture (optional: else the
#                   digest GitHub publishes for the release asset is used)
#   API_FORWARD     optional host:port of the private Kubernetes API; served on 127.0.0.1:6443
#                   so the stack's kubeconfig override (access.kubernetesApiServer) works here
#   RUNNER_ROOT     prefixes every path this script writes (tests only)
set -euo pipefail
umask 077

: "${REPOSITORY:?REPOSITORY is required}"
: "${RUNNER_NAME:?RUNNER_NAME is required}"
: "${RUNNER_LABELS:?RUNNER_LABELS is required}"
: "${RUNNER_VERSION:?RUNNER_VERSION is required}"
API_FORWARD="${API_FORWARD:-}"

readonly root="${RUNNER_ROOT:-}"
readonly runner_user="k3s-deploy"
readonly runner_home="/var/lib/k3s-deploy"
readonly runner_dir="${root}${runner_home}/actions-runner"
readonly unit_dir="${root}/etc/systemd/system"

IFS= read -r token || true
if [[ -z "${token:-}" ]]; then
  echo "install-github-runner: no registration token on stdin" >&2
  exit 1
fi

case "$(uname -m)" in
  x86_64) arch="x64" ;;
  aarch64) arch="arm64" ;;
  *) echo "install-github-runner: unsupported architecture $(uname -m)" >&2; exit 1 ;;
esac

export DEBIAN_FRONTEND=noninteractive
# python3-venv: the deploy workflow builds the program's virtualenv with the system Python.
apt-get install -y -qq --no-install-recommends ca-certificates curl python3 python3-venv >/dev/null

if ! id -u "$runner_user" >/dev/null 2>&1; then
  useradd --system --home-dir "$runner_home" --create-home --shell /usr/sbin/nologin "$runner_user"
fi
install -d -o "$runner_user" -g "$runner_user" -m 0750 "${root}${runner_home}" "$runner_dir"
install -d -m 0755 "$unit_dir"

tarball="actions-runner-linux-${arch}-${RUNNER_VERSION}.tar.gz"
marker="${runner_dir}/.k3s-hcloud-release-${RUNNER_VERSION}"
if [[ ! -f "$marker" ]]; then
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  curl --fail --silent --show-error --location --retry 3 -o "${work}/${tarball}" \
    "https://github.com/actions/runner/releases/download/v${RUNNER_VERSION}/${tarball}"
  sha_variable="RUNNER_SHA256_${arch^^}"
  expected="${!sha_variable:-}"
  if [[ -z "$expected" ]]; then
    expected="$(curl --fail --silent --show-error --location --retry 3 \
      "https://api.github.com/repos/actions/runner/releases/tags/v${RUNNER_VERSION}" |
      python3 -c 'import json, sys
name = sys.argv[1]
for asset in json.load(sys.stdin)["assets"]:
    if asset["name"] == name and str(asset.get("digest", "")).startswith("sha256:"):
        print(asset["digest"].removeprefix("sha256:"))' "$tarball")"
  fi
  if [[ ! "$expected" =~ ^[0-9a-f]{64}$ ]]; then
    echo "install-github-runner: no SHA-256 for ${tarball}; set runnerRelease.sha256" >&2
    exit 1
  fi
  echo "${expected}  ${work}/${tarball}" | sha256sum --check --quiet -
  tar -xzf "${work}/${tarball}" -C "$runner_dir"
  "${runner_dir}/bin/installdependencies.sh" >/dev/null
  chown -R "${runner_user}:${runner_user}" "$runner_dir"
  touch "$marker"
fi

if [[ ! -f "${runner_dir}/.runner" ]]; then
  # Jobs run as this user with no sudo; --disableupdate keeps the pinned release.
  ( cd "$runner_dir" &&
    HOME="$runner_home" ACTIONS_RUNNER_INPUT_TOKEN="$token" \
      setpriv --reuid="$runner_user" --regid="$runner_user" --init-groups -- \
      ./config.sh --unattended --url "https://github.com/${REPOSITORY}" \
        --name "$RUNNER_NAME" --labels "$RUNNER_LABELS" --no-default-labels \
        --work _work --disableupdate --replace )
fi
unset token

# The runner's service: its own user, a read-only system, nothing it could escalate with.
cat >"${unit_dir}/k3s-hcloud-runner.service" <<UNIT
[Unit]
Description=GitHub Actions runner for k3s-hcloud deployments (${RUNNER_LABELS})
Wants=network-online.target
After=network-online.target

[Service]
User=${runner_user}
Group=${runner_user}
WorkingDirectory=${runner_home}/actions-runner
ExecStart=${runner_home}/actions-runner/run.sh
Environment=HOME=${runner_home}
Environment=RUNNER_TOOL_CACHE=${runner_home}/toolcache
Restart=always
RestartSec=10
KillMode=process
KillSignal=SIGTERM
TimeoutStopSec=5min
NoNewPrivileges=yes
CapabilityBoundingSet=
AmbientCapabilities=
ProtectSystem=strict
ReadWritePaths=${runner_home}
ProtectHome=yes
PrivateTmp=yes
PrivateDevices=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
RestrictSUIDSGID=yes
RestrictNamespaces=yes
RestrictRealtime=yes
LockPersonality=yes
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK
UMask=0077

[Install]
WantedBy=multi-user.target
UNIT

if [[ -n "$API_FORWARD" ]]; then
  if [[ ! "$API_FORWARD" =~ ^[0-9.]+:[0-9]+$ ]]; then
    echo "install-github-runner: API_FORWARD '${API_FORWARD}' is not address:port" >&2
    exit 1
  fi
  # Loopback only: the private API is reachable from this host, never through it.
  cat >"${unit_dir}/k3s-hcloud-api-forward.socket" <<UNIT
[Unit]
Description=Kubernetes API of the private network on 127.0.0.1:6443 (for the runner)

[Socket]
ListenStream=127.0.0.1:6443

[Install]
WantedBy=sockets.target
UNIT
  cat >"${unit_dir}/k3s-hcloud-api-forward.service" <<UNIT
[Unit]
Description=Forward 127.0.0.1:6443 to the private Kubernetes API ${API_FORWARD}
Requires=k3s-hcloud-api-forward.socket
After=k3s-hcloud-api-forward.socket

[Service]
ExecStart=/usr/lib/systemd/systemd-socket-proxyd ${API_FORWARD}
DynamicUser=yes
PrivateTmp=yes
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=yes
CapabilityBoundingSet=
UNIT
fi

systemctl daemon-reload
if [[ -n "$API_FORWARD" ]]; then
  systemctl enable --now k3s-hcloud-api-forward.socket
fi
systemctl enable k3s-hcloud-runner.service
systemctl restart k3s-hcloud-runner.service
echo "install-github-runner: ${RUNNER_NAME} (${RUNNER_LABELS}) runs as ${runner_user}"
