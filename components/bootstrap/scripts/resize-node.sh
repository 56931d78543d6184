#!/usr/bin/env bash
# The checks around an acknowledged server-type change (resize-in-place). The hcloud provider
# changes a server's type by powering it off (hard) and calling change_type, which copies the
# disk and starts the server again; the program drains the node before and uncordons it after.
#
#   pending    (first server, before the drain) exit 0 when NODE_NAME is registered and not yet
#              of SERVER_TYPE, 1 otherwise: the node's node.kubernetes.io/instance-type label
#              (set by the hcloud cloud controller when the node registered) differs or is
#              missing. A node that is not registered, or already of that type, is not drained;
#   await-api  (on a server after its resize) wait until its own API server answers /readyz,
#              which includes its etcd member: the next server is powered off only then.
#
# Environment: STEP, NODE_NAME (required); SERVER_TYPE (pending); AWAIT_ATTEMPTS (default 120),
#   AWAIT_INTERVAL (default 5 s).
set -euo pipefail

: "${STEP:?}" "${NODE_NAME:?}"
attempts="${AWAIT_ATTEMPTS:-120}"
interval="${AWAIT_INTERVAL:-5}"
label='node\.kubernetes\.io/instance-type'

case "$STEP" in
  pending)
    : "${SERVER_TYPE:?}"
    if ! found="$(k3s kubectl get node "$NODE_NAME" --ignore-not-found -o name)"; then
      echo "resize-node: the Kubernetes API does not answer on this server, so ${NODE_NAME}" \
        "is NOT drained and its server is not resized. Fix: bring the control plane back and" \
        "run pulumi up again." >&2
      exit 2
    fi
    if [[ -z "$found" ]]; then
      echo "${NODE_NAME} is not registered: no drain before its server type is set"
      exit 1
    fi
    current="$(k3s kubectl get node "$NODE_NAME" -o "jsonpath={.metadata.labels.${label}}")"
    if [[ "$current" == "$SERVER_TYPE" ]]; then
      echo "${NODE_NAME} is a ${SERVER_TYPE} already: no resize, no drain"
      exit 1
    fi
    echo "${NODE_NAME}: ${current:-unknown type} → ${SERVER_TYPE}; drained before its power-off"
    ;;
  await-api)
    for ((attempt = 1; attempt <= attempts; attempt++)); do
      if k3s kubectl get --raw /readyz >/dev/null 2>&1; then
        echo "${NODE_NAME}'s API server and etcd member are back"
        exit 0
      fi
      sleep "$interval"
    done
    echo "resize-node: ${NODE_NAME}'s API server is not ready after its resize; no other" \
      "server is resized. Inspect: journalctl -u k3s on ${NODE_NAME}, then run pulumi up" \
      "again." >&2
    exit 1
    ;;
  *) echo "resize-node: unknown step (pending, await-api)" >&2; exit 2 ;;
esac
