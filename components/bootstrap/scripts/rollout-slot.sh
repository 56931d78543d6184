#!/usr/bin/env bash
# One of a pool's rollout slots, around a node's drain → k3s restart → uncordon. Runs on the
# first server. The slots bound how many nodes of a pool restart at once
# (workerPools[].maxUnavailable): LOCK_SLOTS coordination.k8s.io Leases named
# k3s-hcloud-rollout-<pool>-<n> in kube-system, the holder being the node's name.
#
#   acquire  (before the drain) wait for a slot and take it. Nothing to do for a node that is
#            not registered yet: a first install stops nothing that runs, so the first installs
#            of a pool go side by side;
#   renew    (before the uncordon waits for Ready) restart the lease of the slot this node
#            holds, so a re-run of a failed rollout keeps its slot;
#   release  (after the uncordon) give back the slot this node holds;
#   expire   (when the drain or the uncordon failed) keep the slot but end its lease now, so
#            the nodes waiting for it stop at once instead of restarting while this one needs
#            attention (see below).
#
# Creating a Lease is atomic (the API refuses a second create of one name), and taking a free or
# expired one is a replace carrying the resourceVersion read just before (the API answers
# Conflict when it changed meanwhile): two nodes never hold one slot. A Lease runs out
# LOCK_LEASE_SECONDS after it was taken (the time budget of one node's rollout), so a run that
# died cannot hold a slot forever: an expired slot is taken over when its holder is no longer
# cordoned for a restart (its rollout ended, or the node is gone). While the holder of an expired
# slot is still cordoned for its restart, waiters keep waiting LOCK_STUCK_ATTEMPTS rounds (a
# re-run of its own rollout renews or releases the slot meanwhile), then stop with the fix.
# Ref: https://kubernetes.io/docs/concepts/architecture/leases/ ;
#      https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-versions
#
# Environment: STEP, NODE_NAME, LOCK_POOL (required); LOCK_SLOTS (default 1), LOCK_LEASE_SECONDS
#   (default 3300), LOCK_ATTEMPTS (default 8640), LOCK_STUCK_ATTEMPTS (default 60),
#   LOCK_INTERVAL (default 10 s).
set -euo pipefail

: "${STEP:?}" "${NODE_NAME:?}" "${LOCK_POOL:?}"
slots="${LOCK_SLOTS:-1}"
lease_seconds="${LOCK_LEASE_SECONDS:-3300}"
attempts="${LOCK_ATTEMPTS:-8640}"
stuck_attempts="${LOCK_STUCK_ATTEMPTS:-60}"
interval="${LOCK_INTERVAL:-10}"
namespace=kube-system
marker='k3s-hcloud\.io/drained-for-restart'

log() { printf 'rollout-slot %s: %s\n' "$STEP" "$*" >&2; }
lease_name() { printf 'k3s-hcloud-rollout-%s-%s' "$LOCK_POOL" "$1"; }
now() { date -u +%s; }

manifest() { # name holder taken-at(epoch) version(empty: create)
  local at
  at="$(date -u -d "@$3" +%Y-%m-%dT%H:%M:%S.000000Z)"
  printf 'apiVersion: coordination.k8s.io/v1\nkind: Lease\nmetadata:\n'
  printf '  name: %s\n  namespace: %s\n' "$1" "$namespace"
  if [[ -n "$4" ]]; then printf '  resourceVersion: "%s"\n' "$4"; fi
  printf '  labels:\n    app.kubernetes.io/managed-by: k3s-hcloud\nspec:\n'
  if [[ -n "$2" ]]; then printf '  holderIdentity: %s\n' "$2"; fi
  printf '  leaseDurationSeconds: %s\n  acquireTime: "%s"\n  renewTime: "%s"\n' \
    "$lease_seconds" "$at" "$at"
}

# Sets holder, renewed (epoch), duration, version; fails when the Lease does not exist.
read_lease() {
  local line taken
  line="$(k3s kubectl get lease "$1" -n "$namespace" --ignore-not-found -o \
    'jsonpath={.metadata.resourceVersion}|{.spec.holderIdentity}|{.spec.renewTime}|{.spec.leaseDurationSeconds}')" ||
    return 1
  IFS='|' read -r version holder taken duration <<<"$line"
  [[ -n "$version" ]] || return 1
  renewed=0
  if [[ -n "$taken" ]]; then renewed="$(date -u -d "$taken" +%s)"; fi
  duration="${duration:-0}"
}

still_cordoned_for_restart() {
  [[ "$(k3s kubectl get node "$1" --ignore-not-found -o "jsonpath={.metadata.annotations.${marker}}")" == true ]]
}

registered() {
  local found
  found="$(k3s kubectl get node "$NODE_NAME" --ignore-not-found -o name)" || {
    log "the Kubernetes API does not answer on this server; ${NODE_NAME} was NOT drained and" \
      "k3s is not restarted on it. Fix: bring the control plane back and run pulumi up again."
    exit 1
  }
  [[ -n "$found" ]]
}

# 0: this node holds the slot now; 1: another node holds it; 2: its holder's lease ran out
# while that node is still cordoned for its restart.
try_slot() {
  local name="$1" holder renewed duration version
  if manifest "$name" "$NODE_NAME" "$(now)" "" | k3s kubectl create -f - >/dev/null 2>&1; then
    return 0
  fi
  read_lease "$name" || return 1
  if [[ -n "$holder" && "$holder" != "$NODE_NAME" ]]; then
    if (($(now) < renewed + duration)); then
      busy+=("$holder")
      return 1
    fi
    if still_cordoned_for_restart "$holder"; then
      stuck+=("${holder} (${name})")
      return 2
    fi
    echo "slot ${name}: the lease of ${holder} ran out and its rollout ended; taking it over"
  fi
  manifest "$name" "$NODE_NAME" "$(now)" "$version" | k3s kubectl replace -f - >/dev/null 2>&1
}

acquire() {
  if ! registered; then
    echo "${NODE_NAME} is not registered yet (a first install): no rollout slot needed"
    return 0
  fi
  local attempt slot stuck_rounds=0 code
  for ((attempt = 1; attempt <= attempts; attempt++)); do
    busy=() stuck=()
    for ((slot = 0; slot < slots; slot++)); do
      code=0
      try_slot "$(lease_name "$slot")" || code=$?
      if ((code == 0)); then
        echo "${NODE_NAME} holds rollout slot $(lease_name "$slot") (pool ${LOCK_POOL}:" \
          "${slots} node(s) at a time)"
        return 0
      fi
    done
    if ((${#stuck[@]} > 0)); then
      stuck_rounds=$((stuck_rounds + 1))
      if ((stuck_rounds >= stuck_attempts)); then
        log "the rollout of ${stuck[*]} did not finish: its lease ran out and it is still" \
          "cordoned for its k3s restart, so no further node of pool ${LOCK_POOL} restarts." \
          "${NODE_NAME} was NOT drained. Fix that node (kubectl describe node; journalctl -u" \
          "k3s-agent there) and run pulumi up again; if it is fine, kubectl uncordon it and" \
          "kubectl -n ${namespace} delete lease <the lease named above>."
        exit 1
      fi
    else
      stuck_rounds=0
    fi
    if ((attempt == 1 || attempt % 30 == 0)); then
      echo "waiting for a rollout slot of pool ${LOCK_POOL} (${slots} at a time), held by:" \
        "${busy[*]} ${stuck[*]}"
    fi
    sleep "$interval"
  done
  log "no rollout slot of pool ${LOCK_POOL} came free after ${attempts} attempts (held by:" \
    "${busy[*]} ${stuck[*]}); ${NODE_NAME} was NOT drained. See kubectl -n ${namespace} get" \
    "lease -l app.kubernetes.io/managed-by=k3s-hcloud, then run pulumi up again."
  exit 1
}

# Rewrites every slot this node holds: released (no holder), renewed (taken now) or expired
# (taken a lease ago).
rewrite_own() { # release|renew|expire
  local slot name holder renewed duration version done=0
  for ((slot = 0; slot < slots; slot++)); do
    name="$(lease_name "$slot")"
    read_lease "$name" || continue
    [[ "$holder" == "$NODE_NAME" ]] || continue
    if [[ "$1" == release ]]; then
      manifest "$name" "" "$(now)" "$version" | k3s kubectl replace -f - >/dev/null
      echo "${NODE_NAME} gave back rollout slot ${name}"
    elif [[ "$1" == renew ]]; then
      manifest "$name" "$NODE_NAME" "$(now)" "$version" | k3s kubectl replace -f - >/dev/null
      echo "${NODE_NAME} renewed rollout slot ${name}"
    else
      manifest "$name" "$NODE_NAME" "$(($(now) - lease_seconds - 1))" "$version" |
        k3s kubectl replace -f - >/dev/null
      echo "${NODE_NAME} keeps rollout slot ${name}, expired: the nodes waiting for it stop"
    fi
    done=1
  done
  if ((done == 0)); then echo "${NODE_NAME} holds no rollout slot of pool ${LOCK_POOL}"; fi
}

case "$STEP" in
  acquire) acquire ;;
  release | renew) rewrite_own "$STEP" ;;
  expire) rewrite_own expire ;;
  *) log "unknown step (acquire, renew, release, expire)"; exit 2 ;;
esac
