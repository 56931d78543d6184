#!/usr/bin/env bash
# Before k3s restarts on NODE_NAME: cordon and drain it, so its Pods move first. Runs on the
# first server. Marks the node (annotation) so the uncordon step after the restart knows this
# rollout drained it. Nothing to do for a node that is not registered yet (first install).
#
# Environment: NODE_NAME (required); DRAIN_TIMEOUT (default 300s).
set -euo pipefail

: "${NODE_NAME:?NODE_NAME is required}"
drain_timeout="${DRAIN_TIMEOUT:-300s}"
marker="k3s-hcloud.io/drained-for-restart"

if ! command -v k3s >/dev/null 2>&1; then
  echo "k3s is not installed here yet: ${NODE_NAME} has nothing to drain"
  exit 0
fi
if ! found="$(k3s kubectl get node "$NODE_NAME" --ignore-not-found -o name)"; then
  echo "drain-node: the Kubernetes API does not answer on this server, so ${NODE_NAME} was" \
    "NOT drained and k3s is not restarted on it. Fix: bring the control plane back and run" \
    "pulumi up again." >&2
  exit 1
fi
if [[ -z "$found" ]]; then
  echo "${NODE_NAME} is not registered yet: nothing to drain"
  exit 0
fi

k3s kubectl annotate node "$NODE_NAME" "${marker}=true" --overwrite >/dev/null
k3s kubectl cordon "$NODE_NAME"
if ! k3s kubectl drain "$NODE_NAME" --ignore-daemonsets --delete-emptydir-data \
  --timeout="$drain_timeout"; then
  echo "drain-node: draining ${NODE_NAME} did not finish within ${drain_timeout} (a" \
    "PodDisruptionBudget or a stuck pod?). It stays cordoned and k3s is not restarted on it." \
    "Fix: resolve the blocking pods (kubectl get pods -A -o wide | grep ${NODE_NAME}), then" \
    "run pulumi up again." >&2
  exit 1
fi
echo "${NODE_NAME} cordoned and drained before its k3s restart"
