#!/usr/bin/env bash
# Wait until the API load balancer routes to a ready apiserver: /readyz through its address
# answers 200. A target becomes healthy only after several passing checks in a row, so the
# first server is ready well before the load balancer sends it anything.
#
# Environment (all required): API_URL (https://<load balancer>:6443), CA_FILE, CLIENT_CERT,
#   CLIENT_KEY; WAIT_SECONDS (default 600), INTERVAL (seconds, default 5).
set -euo pipefail

: "${API_URL:?}" "${CA_FILE:?}" "${CLIENT_CERT:?}" "${CLIENT_KEY:?}"
wait_seconds="${WAIT_SECONDS:-600}"
interval="${INTERVAL:-5}"

deadline=$((SECONDS + wait_seconds))
while :; do
  if curl -sf --max-time 5 --cacert "$CA_FILE" --cert "$CLIENT_CERT" --key "$CLIENT_KEY" \
    -o /dev/null "${API_URL}/readyz"; then
    echo "the API load balancer routes to a ready apiserver (${API_URL})"
    exit 0
  fi
  ((SECONDS < deadline)) || break
  sleep "$interval"
done
echo "the API load balancer at ${API_URL} routed no request to a ready apiserver within" \
  "${wait_seconds} s; check its targets' health in the Hetzner console" >&2
exit 1
