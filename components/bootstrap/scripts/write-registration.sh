#!/usr/bin/env bash
# Write the node's registration drop-in (labels and taints k3s applies when the node registers)
# from stdin, atomically, root-only. Never restarts k3s: on a registered node the labels and
# taints are applied through the API instead (set-node-metadata.sh).
#
# stdin: the drop-in's YAML. Environment: REGISTRATION_FILE (required; must be a
#   config.yaml.d drop-in); K3S_ROOT prefixes it (tests only).
set -euo pipefail
umask 077

: "${REGISTRATION_FILE:?REGISTRATION_FILE is required}"
case "$REGISTRATION_FILE" in
  *..*) echo "write-registration: refusing ${REGISTRATION_FILE}" >&2; exit 1 ;;
  /etc/rancher/k3s/config.yaml.d/*.yaml) ;;
  *) echo "write-registration: ${REGISTRATION_FILE} is not a k3s config drop-in" >&2; exit 1 ;;
esac
target="${K3S_ROOT:-}${REGISTRATION_FILE}"
mkdir -p "$(dirname "$target")"
cat >"${target}.k3s-hcloud.tmp"
chmod 0600 "${target}.k3s-hcloud.tmp"
mv -f "${target}.k3s-hcloud.tmp" "$target"
echo "registration labels and taints written to ${REGISTRATION_FILE} (no restart)"
