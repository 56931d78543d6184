#!/usr/bin/env bash
# Tell k3s the node's private address on a node whose address Hetzner assigned (the servers the
# cluster-autoscaler creates): find the IPv4 address inside the cluster's network and write it
# as a config.yaml.d drop-in, which k3s merges after config.yaml. Nodes Pulumi creates get
# node-ip in config.yaml from the address plan instead.
# Ref: https://docs.k3s.io/installation/configuration (config.yaml.d drop-ins)
#
# Environment: NETWORK_CIDR (e.g. 10.0.0.0/16) and NODE_IP_DROPIN (path) are required;
#   ADDRESS_ATTEMPTS (default 90) and ADDRESS_RETRY_SECONDS (default 2) are optional.
set -euo pipefail
umask 077

: "${NETWORK_CIDR:?}" "${NODE_IP_DROPIN:?}"
attempts="${ADDRESS_ATTEMPTS:-90}"
pause="${ADDRESS_RETRY_SECONDS:-2}"

to_int() {
  local IFS=. a b c d
  read -r a b c d <<<"$1"
  echo $(((a << 24) | (b << 16) | (c << 8) | d))
}

bits="${NETWORK_CIDR#*/}"
mask=$(((0xFFFFFFFF << (32 - bits)) & 0xFFFFFFFF))
network=$(($(to_int "${NETWORK_CIDR%/*}") & mask))

address_in_network() {
  local candidate
  while read -r candidate; do
    candidate="${candidate%/*}"
    if ((($(to_int "$candidate") & mask) == network)); then
      echo "$candidate"
      return 0
    fi
  done < <(ip -4 -o addr show scope global | awk '{ print $4 }')
  return 1
}

# DHCP configures the private interface shortly after boot; wait for it.
for ((attempt = 1; attempt <= attempts; attempt++)); do
  if address="$(address_in_network)"; then
    mkdir -p "$(dirname "$NODE_IP_DROPIN")"
    printf 'node-ip: %s\n' "$address" >"${NODE_IP_DROPIN}.tmp"
    mv -f "${NODE_IP_DROPIN}.tmp" "$NODE_IP_DROPIN"
    echo "node-ip ${address} written to ${NODE_IP_DROPIN}"
    exit 0
  fi
  sleep "$pause"
done

echo "no address in ${NETWORK_CIDR} on any interface after ${attempts} attempts" >&2
exit 1
