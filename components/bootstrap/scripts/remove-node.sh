#!/usr/bin/env bash
# Drain NODE_NAME and delete it from Kubernetes, before its server is destroyed. Runs on the
# first server, on delete of that node's membership resource; it touches no other node.
#
# Environment: NODE_NAME (required); DRAIN_TIMEOUT (default 300s).
set -euo pipefail

: "${NODE_NAME:?NODE_NAME is required}"
drain_timeout="${DRAIN_TIMEOUT:-300s}"

if ! found="$(k3s kubectl get node "$NODE_NAME" --ignore-not-found -o name)"; then
  echo "remove-node: the Kubernetes API does not answer on this server, so ${NODE_NAME} was" \
    "NOT drained and its server is kept. Fix: bring the control plane back and run pulumi up" \
    "again; to give up on the drain, pulumi state delete this membership resource." >&2
  exit 1
fi
if [[ -z "$found" ]]; then
  echo "${NODE_NAME} is not registered; nothing to drain"
  exit 0
fi

k3s kubectl cordon "$NODE_NAME"
if ! k3s kubectl drain "$NODE_NAME" --ignore-daemonsets --delete-emptydir-data \
  --timeout="$drain_timeout"; then
  echo "remove-node: draining ${NODE_NAME} did not finish within ${drain_timeout} (a" \
    "PodDisruptionBudget or a stuck pod?). It stays cordoned and its server is kept. Fix:" \
    "resolve the blocking pods (kubectl get pods -A -o wide | grep ${NODE_NAME}), then run" \
    "pulumi up again." >&2
  exit 1
fi
k3s kubectl delete node "$NODE_NAME" --wait=true
echo "${NODE_NAME} drained and removed from the cluster"
