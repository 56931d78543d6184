#!/usr/bin/env bash
# Install the default route via the Hetzner network gateway on a node without a public interface.
#
# Since 2025-08-11 Hetzner's DHCP on private networks sends only classless static routes (option
# 121), no router option, so a node that reaches the internet through the bastion's NAT must set
# its default route itself. Run at every boot by k3s-hcloud-default-route.service; the networkd
# drop-in (ManageForeignRoutes=no) keeps DHCP renewals from deleting the route.
# Ref: https://github.com/kube-hetzner/terraform-hcloud-kube-hetzner/blob/master/docs/private-network-egress.md
#
# Input (environment): NETWORK_GATEWAY (first address of the network, e.g. 10.0.0.1);
# optional ROUTE_ATTEMPTS (default 90) and ROUTE_RETRY_SECONDS (default 2).
set -euo pipefail

gateway="${NETWORK_GATEWAY:?NETWORK_GATEWAY must be set}"
attempts="${ROUTE_ATTEMPTS:-90}"
pause="${ROUTE_RETRY_SECONDS:-2}"

# The gateway becomes reachable once DHCP has configured the private interface; until then the
# kernel refuses the route ("Nexthop has invalid gateway"), so retry.
for ((attempt = 1; attempt <= attempts; attempt++)); do
  if ip -4 route replace default via "$gateway"; then
    echo "default route via $gateway installed"
    exit 0
  fi
  sleep "$pause"
done

echo "no route to the network gateway $gateway after $attempts attempts" >&2
exit 1
