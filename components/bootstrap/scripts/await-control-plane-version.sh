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
# Versions are k3s release tags (v1.35.3+k3s1), compared field by field as numbers; a tag that
# does not parse counts as older (and is named), so an odd server holds the agent back rather
# than letting it pass.
#
# Environment: K3S_VERSION (the agent's release tag) and CONTROL_PLANE_SELECTOR (the label
#   selector of server nodes), required; WAIT_SECONDS (default 3600), INTERVAL (seconds between
#   polls, default 15, plus up to a third of it at random so many agents do not poll together).
set -euo pipefail

: "${K3S_VERSION:?}" "${CONTROL_PLANE_SELECTOR:?}"
wait_seconds="${WAIT_SECONDS:-3600}"
interval="${INTERVAL:-15}"
TAG='^v([0-9]+)\.([0-9]+)\.([0-9]+)\+k3s([0-9]+)$'

# The tag's fields as one sortable number string; fails for anything else.
rank() {
  [[ "$1" =~ $TAG ]] || return 1
  printf '%06d%06d%06d%06d' "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}" "${BASH_REMATCH[3]}" \
    "${BASH_REMATCH[4]}"
}
want="$(rank "$K3S_VERSION")" || {
  echo "K3S_VERSION ${K3S_VERSION} is not a k3s release tag (vX.Y.Z+k3sN)" >&2
  exit 1
}

older_servers() { # prints "node version" per control-plane node older than K3S_VERSION
  local listing name version have
  listing="$(k3s kubectl get nodes --request-timeout=10s -l "$CONTROL_PLANE_SELECTOR" -o \
    jsonpath='{range .items[*]}{.metadata.name} {.status.nodeInfo.kubeletVersion}{"\n"}{end}')" ||
    return 1
  [[ -n "$listing" ]] || return 1
  while read -r name version; do
    [[ -n "$name" ]] || continue
    if ! have="$(rank "$version")" || [[ "$have" < "$want" ]]; then
      printf '%s %s\n' "$name" "$version"
    fi
  done <<<"$listing"
}

behind=""
deadline=$((SECONDS + wait_seconds))
while :; do
  if behind="$(older_servers)"; then
    if [[ -z "$behind" ]]; then
      echo "every control-plane node runs ${K3S_VERSION} or newer"
      exit 0
    fi
  else
    behind="(the API did not list the control-plane nodes)"
  fi
  ((SECONDS < deadline)) || break
  sleep $((interval + (interval > 0 ? RANDOM % (interval / 3 + 1) : 0)))
done
echo "control-plane nodes still older than ${K3S_VERSION} after ${wait_seconds} s:" \
  "${behind//$'\n'/, }; the servers' rollout must finish before agents upgrade" >&2
exit 1
