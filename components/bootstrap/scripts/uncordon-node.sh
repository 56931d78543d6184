#!/usr/bin/env bash
# After k3s restarted on NODE_NAME: wait until the node is Ready again, then uncordon it —
# only when the drain step of this rollout cordoned it (annotation), never a node an operator
# cordoned by hand. Runs on the first server. The next node's drain waits for this step.
#
# Environment: NODE_NAME (required); READY_TIMEOUT (default 600s).
set -euo pipefail

: "${NODE_NAME:?NODE_NAME is required}"
ready_timeout="${READY_TIMEOUT:-600s}"
annotation='k3s-hcloud\.io/drained-for-restart'

if ! command -v k3s >/dev/null 2>&1; then
  echo "k3s is not installed here: nothing to uncordon" >&2
  exit 1
fi
found="$(k3s kubectl get node "$NODE_NAME" --ignore-not-found -o name)"
if [[ -z "$found" ]]; then
  echo "${NODE_NAME} is not registered yet (a new node): nothing to uncordon"
  exit 0
fi
marked="$(k3s kubectl get node "$NODE_NAME" -o "jsonpath={.metadata.annotations.${annotation}}")"
if [[ "$marked" != true ]]; then
  echo "${NODE_NAME} was not drained by this rollout: left as it is"
  exit 0
fi
if ! k3s kubectl wait --for=condition=Ready "node/${NODE_NAME}" --timeout="$ready_timeout"; then
  echo "uncordon-node: ${NODE_NAME} is not Ready ${ready_timeout} after its k3s restart; it" \
    "stays cordoned and the rollout stops here. Inspect: journalctl -u k3s-agent (or k3s)" \
    "on that node, then run pulumi up again." >&2
  exit 1
fi
k3s kubectl uncordon "$NODE_NAME"
k3s kubectl annotate node "$NODE_NAME" "k3s-hcloud.io/drained-for-restart-" >/dev/null
echo "${NODE_NAME} is Ready and schedulable again"
