#!/usr/bin/env bash
# Wait until NODE_NAME has registered with the Kubernetes API. Runs on the first server.
# (Not Ready: nodes only turn Ready once Cilium, the CNI, runs on them.)
#
# Environment: NODE_NAME (required); AWAIT_ATTEMPTS (default 60), AWAIT_INTERVAL (default 5 s).
set -euo pipefail

: "${NODE_NAME:?NODE_NAME is required}"
attempts="${AWAIT_ATTEMPTS:-60}"
interval="${AWAIT_INTERVAL:-5}"

for ((attempt = 1; attempt <= attempts; attempt++)); do
  found="$(k3s kubectl get node "$NODE_NAME" --ignore-not-found -o name 2>/dev/null || true)"
  if [[ -n "$found" ]]; then
    echo "${NODE_NAME} is registered"
    exit 0
  fi
  sleep "$interval"
done
echo "await-node: ${NODE_NAME} did not register after ${attempts} attempts." \
  "Inspect: journalctl -u k3s-agent (or k3s) on that node" >&2
exit 1
