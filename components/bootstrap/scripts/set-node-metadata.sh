#!/usr/bin/env bash
# Apply a node's labels and taints through the API, without restarting k3s: k3s applies its
# node-label/node-taint flags only when a node registers (docs.k3s.io/cli/agent "Node labels
# and taints"), so on a running node the program sets them here. Labels and taints this step
# set before and that are no longer wanted are removed; others are never touched.
# Runs on the first server as create and update of the node's metadata command.
#
# Environment: NODE_NAME (required); NODE_LABELS ("k=v k2=v2"), NODE_TAINTS
#   ("k=v:Effect ..."); PULUMI_COMMAND_STDOUT (what the previous run printed: the keys it
#   managed, set by pulumi-command on update); AWAIT_ATTEMPTS (60), AWAIT_INTERVAL (5 s).
# stdout: "managed-labels: <keys>" and "managed-taints: <key:Effect ...>" (read back next time).
set -euo pipefail

: "${NODE_NAME:?NODE_NAME is required}"
read -r -a labels <<<"${NODE_LABELS:-}"
read -r -a taints <<<"${NODE_TAINTS:-}"
previous="${PULUMI_COMMAND_STDOUT:-}"
attempts="${AWAIT_ATTEMPTS:-60}"
interval="${AWAIT_INTERVAL:-5}"

for ((attempt = 1; ; attempt++)); do
  found="$(k3s kubectl get node "$NODE_NAME" --ignore-not-found -o name 2>/dev/null || true)"
  [[ -z "$found" ]] || break
  if ((attempt >= attempts)); then
    echo "set-node-metadata: ${NODE_NAME} is not registered; labels and taints not applied" >&2
    exit 1
  fi
  sleep "$interval"
done

old_labels="$(sed -n 's/^managed-labels: //p' <<<"$previous")"
old_taints="$(sed -n 's/^managed-taints: //p' <<<"$previous")"
wanted_label_keys=() wanted_taint_ids=()
for label in "${labels[@]}"; do wanted_label_keys+=("${label%%=*}"); done
for taint in "${taints[@]}"; do wanted_taint_ids+=("${taint%%[=:]*}:${taint##*:}"); done
contains() { # needle haystack...
  local needle="$1" item
  shift
  for item in "$@"; do [[ "$item" == "$needle" ]] && return 0; done
  return 1
}

removals=()
for key in $old_labels; do
  contains "$key" "${wanted_label_keys[@]}" || removals+=("${key}-")
done
if ((${#labels[@]} + ${#removals[@]} > 0)); then
  k3s kubectl label node "$NODE_NAME" --overwrite "${labels[@]}" "${removals[@]}" >&2
fi
for id in $old_taints; do
  if ! contains "$id" "${wanted_taint_ids[@]}"; then
    k3s kubectl taint node "$NODE_NAME" "${id}-" >&2 || true # already gone is fine
  fi
done
if ((${#taints[@]} > 0)); then
  k3s kubectl taint node "$NODE_NAME" --overwrite "${taints[@]}" >&2
fi
echo "managed-labels: ${wanted_label_keys[*]}"
echo "managed-taints: ${wanted_taint_ids[*]}"
