#!/usr/bin/env bash
# Before an agent installs or restarts k3s: wait until no control-plane node runs a release older
# than the agent's. A kubelet must never be newer than the apiserver it talks to (Kubernetes
# version skew policy), and agents no longer wait for every server in the plan (they join once
# the first server answers), so the order k3s prescribes for upgrades, servers first, is kept
# here instead. Runs on the first server (k3s kubectl); on a first create the registered
# servers already run the release, so it returns at once.
# Ref: https://kubernetes.io/releases/version-skew-policy/#kubelet
# Ref: https://docs.k3s.io/upgrades/manual (upgrade the servers first, then the agents)
#
# Environment: K3S_VERSION (the agent's release tag) and CONTROL_PLANE_SELECTOR (the label
#   selector of server nodes), required; ATTEMPTS (default 120), INTERVAL (seconds, default 5).
set -euo pipefail

: "${K3S_VERSION:?}" "${CONTROL_PLANE_SELECTOR:?}"
attempts="${ATTEMPTS:-120}"
interval="${INTERVAL:-5}"

older_servers() { # prints "node version" per control-plane node older than K3S_VERSION
  local listing name version
  listing="$(k3s kubectl get nodes -l "$CONTROL_PLANE_SELECTOR" -o \
    jsonpath='{range .items[*]}{.metadata.name} {.status.nodeInfo.kubeletVersion}{"\n"}{end}')" ||
    return 1
  [[ -n "$listing" ]] || return 1
  while read -r name version; do
    [[ -n "$name" ]] || continue
    if [[ "$version" != "$K3S_VERSION" &&
      "$(printf '%s\n%s\n' "$version" "$K3S_VERSION" | sort -V | head -n 1)" == "$version" ]]; then
      printf '%s %s\n' "$name" "$version"
    fi
  done <<<"$listing"
}

behind=""
for ((attempt = 1; attempt <= attempts; attempt++)); do
  if behind="$(older_servers)"; then
    if [[ -z "$behind" ]]; then
      echo "every control-plane node runs ${K3S_VERSION} or newer"
      exit 0
    fi
  else
    behind="(the API did not list the control-plane nodes)"
  fi
  sleep "$interval"
done
echo "control-plane nodes still older than ${K3S_VERSION} after ${attempts} attempts:" \
  "${behind//$'\n'/, }; the servers' rollout must finish before agents upgrade" >&2
exit 1
