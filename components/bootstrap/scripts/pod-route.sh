#!/usr/bin/env bash
# Route the pod ranges through the Hetzner network gateway, now and at every boot.
#
# Cilium routes natively (cluster_plan/cilium_values.py) and hcloud-ccm's route controller
# creates one Hetzner network route per node, <node's pod /24> -> <node's private IP>. Hetzner
# only hands a server the route for the network's own range via the gateway (DHCP), and the pod
# range lies outside it, so without this route a node with a public interface sends traffic for
# another node's pods out of its default route, where it is dropped.
# Ref: https://github.com/hetznercloud/hcloud-cloud-controller-manager/blob/main/docs/deploy_with_networks.md
# Ref: https://docs.hetzner.com/cloud/networks/faq/
#
# Writes a systemd oneshot unit (one `ip route replace` per range; `replace` is idempotent), enables
# it and installs the routes now. The unit names no interface: the kernel resolves the gateway to
# the private interface, which a later server-type change may rename. The networkd drop-in
# ManageForeignRoutes=no (cloud-init) keeps networkd from removing the routes on reconfigure.
#
# Environment: POD_ROUTES (space-separated IPv4 CIDRs) and NETWORK_GATEWAY (the network's first
#   address) are required; ROUTE_ATTEMPTS (default 90), ROUTE_RETRY_SECONDS (default 2) optional;
#   K3S_ROOT prefixes the unit's path (tests only).
set -euo pipefail

: "${POD_ROUTES:?POD_ROUTES must be set}" "${NETWORK_GATEWAY:?NETWORK_GATEWAY must be set}"
attempts="${ROUTE_ATTEMPTS:-90}"
pause="${ROUTE_RETRY_SECONDS:-2}"
root="${K3S_ROOT:-}"
unit_name=k3s-hcloud-pod-route.service
unit="${root}/etc/systemd/system/${unit_name}"
read -r -a routes <<<"$POD_ROUTES"

mkdir -p "$(dirname "$unit")"
{
  printf '[Unit]\nDescription=k3s-hcloud routes to the pod ranges via the Hetzner network gateway\n'
  printf 'Wants=network-online.target\nAfter=network-online.target\n'
  printf 'Before=k3s.service k3s-agent.service\nStartLimitIntervalSec=0\n\n'
  # Until DHCP has configured the private interface the gateway is unreachable: retry.
  printf '[Service]\nType=oneshot\nRemainAfterExit=yes\nRestart=on-failure\nRestartSec=3\n'
  for cidr in "${routes[@]}"; do
    printf 'ExecStart=/sbin/ip -4 route replace %s via %s\n' "$cidr" "$NETWORK_GATEWAY"
  done
  printf '\n[Install]\nWantedBy=multi-user.target\n'
} >"${unit}.tmp"
chmod 0644 "${unit}.tmp"
mv -f "${unit}.tmp" "$unit"
systemctl daemon-reload
systemctl enable "$unit_name"

# The interface that reaches the gateway is the private one (the route to it comes from DHCP).
device=""
for ((attempt = 1; attempt <= attempts; attempt++)); do
  device="$(ip -4 route get "$NETWORK_GATEWAY" 2>/dev/null |
    awk '{ for (i = 1; i < NF; i++) if ($i == "dev") { print $(i + 1); exit } }')" || true
  [[ -n "$device" ]] && break
  sleep "$pause"
done
if [[ -z "$device" ]]; then
  echo "no route to the network gateway $NETWORK_GATEWAY after $attempts attempts" >&2
  exit 1
fi
for cidr in "${routes[@]}"; do
  ip -4 route replace "$cidr" via "$NETWORK_GATEWAY" dev "$device"
  echo "route $cidr via $NETWORK_GATEWAY dev $device installed"
done
