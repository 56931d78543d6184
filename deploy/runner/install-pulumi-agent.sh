#!/usr/bin/env bash
# Install Pulumi's customer-managed deployment agent for one k3s-hcloud stack on this host (the
# bastion), as a systemd service of its own user. Idempotent: an installed release is kept; the
# token and the unit are rewritten on every run.
#
# Ref: github.com/pulumi/customer-managed-deployment-agent (install.sh: release tarball
# customer-managed-deployment-agent-v<version>-linux-<arch>.tar.gz with a checksums.txt;
# pulumi-deployment-agent.yaml.sample: token, service_url, workflow_runners_directory,
# workflow_runners_embeddable). The agent runs each deployment in a Docker container.
#
# stdin: the agent pool's access token (secret). Written once, 0600, into the agent's config
#   file with shell builtins only; never an argument, never in the output.
# Environment (plain): AGENT_VERSION (e.g. 1.4.1); AGENT_SHA256_X64 / AGENT_SHA256_ARM64
#   (optional: else the release's checksums.txt); AGENT_ROOT prefixes every path this script
#   writes (tests only); API_FORWARD (optional address:port, see install-github-runner.sh).
set -euo pipefail
umask 077

: "${AGENT_VERSION:?AGENT_VERSION is required}"
API_FORWARD="${API_FORWARD:-}"

readonly agent_user="k3s-deploy-agent"
readonly root="${AGENT_ROOT:-}"
# Paths as the agent sees them; written under ${root}.
readonly agent_home="/var/lib/k3s-deploy-agent"
readonly agent_dir="${agent_home}/customer-managed-deployment-agent"
readonly unit_dir="${root}/etc/systemd/system"

IFS= read -r token || true
if [[ ! "${token:-}" =~ ^[A-Za-z0-9_-]+$ ]]; then
  echo "install-pulumi-agent: no agent pool token on stdin (or unexpected characters)" >&2
  exit 1
fi

case "$(uname -m)" in
  x86_64) arch="x64" ;;
  aarch64) arch="arm64" ;;
  *) echo "install-pulumi-agent: unsupported architecture $(uname -m)" >&2; exit 1 ;;
esac

export DEBIAN_FRONTEND=noninteractive
apt-get install -y -qq --no-install-recommends ca-certificates curl docker.io >/dev/null
systemctl enable --now docker.service

if ! id -u "$agent_user" >/dev/null 2>&1; then
  useradd --system --home-dir "$agent_home" --create-home --shell /usr/sbin/nologin "$agent_user"
fi
# Docker access is root-equivalent on this host: this user must run nothing but the agent.
usermod -aG docker "$agent_user"
install -d -o "$agent_user" -g "$agent_user" -m 0750 "${root}${agent_home}"
install -d -m 0755 "$unit_dir"

tarball="customer-managed-deployment-agent-v${AGENT_VERSION}-linux-${arch}.tar.gz"
release="https://github.com/pulumi/customer-managed-deployment-agent/releases/download/v${AGENT_VERSION}"
marker="${root}${agent_home}/.k3s-hcloud-release-${AGENT_VERSION}"
if [[ ! -f "$marker" ]]; then
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  curl --fail --silent --show-error --location --retry 3 -o "${work}/${tarball}" "${release}/${tarball}"
  sha_variable="AGENT_SHA256_${arch^^}"
  expected="${!sha_variable:-}"
  if [[ -z "$expected" ]]; then
    curl --fail --silent --show-error --location --retry 3 -o "${work}/checksums.txt" \
      "${release}/checksums.txt"
    expected="$(awk -v name="$tarball" '$2 == name { print $1 }' "${work}/checksums.txt")"
  fi
  if [[ ! "$expected" =~ ^[0-9a-f]{64}$ ]]; then
    echo "install-pulumi-agent: no SHA-256 for ${tarball}; set runnerRelease.sha256" >&2
    exit 1
  fi
  echo "${expected}  ${work}/${tarball}" | sha256sum --check --quiet -
  rm -rf "${root}${agent_dir}"
  tar -xzf "${work}/${tarball}" -C "${root}${agent_home}"
  chown -R "${agent_user}:${agent_user}" "${root}${agent_dir}"
  touch "$marker"
fi

config="${root}${agent_dir}/pulumi-deployment-agent.yaml"
{
  printf 'token: "%s"\n' "$token"
  printf 'service_url: https://api.pulumi.com\n'
  printf 'workflow_runners_directory: %s\n' "$agent_dir"
  printf 'workflow_runners_embeddable: %s/workflow-runner-embeddable\n' "$agent_dir"
} >"${config}.new"
unset token
chown "${agent_user}:${agent_user}" "${config}.new"
chmod 0600 "${config}.new"
mv "${config}.new" "$config"

cat >"${unit_dir}/k3s-hcloud-deployment-agent.service" <<UNIT
[Unit]
Description=Pulumi customer-managed deployment agent for k3s-hcloud
Wants=network-online.target docker.service
After=network-online.target docker.service

[Service]
User=${agent_user}
Group=${agent_user}
WorkingDirectory=${agent_dir}
ExecStart=${agent_dir}/customer-managed-deployment-agent run
Restart=always
RestartSec=10
KillMode=process
NoNewPrivileges=yes
CapabilityBoundingSet=
ProtectSystem=strict
ReadWritePaths=${agent_home}
ProtectHome=yes
PrivateTmp=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectControlGroups=yes
RestrictSUIDSGID=yes
UMask=0077

[Install]
WantedBy=multi-user.target
UNIT

if [[ -n "$API_FORWARD" ]]; then
  echo "install-pulumi-agent: API_FORWARD is not used: deployments run in Docker containers," \
    "where 127.0.0.1 is the container; see docs/delivery.md" >&2
fi

systemctl daemon-reload
systemctl enable k3s-hcloud-deployment-agent.service
systemctl restart k3s-hcloud-deployment-agent.service
echo "install-pulumi-agent: agent ${AGENT_VERSION} runs as ${agent_user}"
