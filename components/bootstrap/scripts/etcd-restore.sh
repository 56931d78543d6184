#!/usr/bin/env bash
# One step of bringing a cluster back from a named etcd snapshot (driven, server by server, by
# tools/etcd_restore.py over the same SSH path as the bootstrap):
#   check  (first server) the snapshot is listed by k3s (locally or in S3);
#   stop   (every server) k3s stopped, so no member writes while etcd is reset;
#   reset  (first server) k3s server --cluster-reset --cluster-reset-restore-path, then start;
#   rejoin (other servers) the old etcd data moved aside, k3s started: it joins the reset member.
# Credentials come from config.yaml and its drop-ins, as for k3s itself: none pass through here.
#
# Environment: STEP, SNAPSHOT (required for check and reset), SNAPSHOT_DIR, SERVER_DB_DIR,
#   K3S_SERVICE (required); HEALTH_ATTEMPTS (default 60), HEALTH_INTERVAL (default 5 s);
#   K3S_ROOT prefixes the paths (tests only).
# Ref: https://docs.k3s.io/datastore/backup-restore ("Restoring a Snapshot to Existing Nodes")
set -euo pipefail

: "${STEP:?}" "${SNAPSHOT_DIR:?}" "${SERVER_DB_DIR:?}" "${K3S_SERVICE:?}"
root="${K3S_ROOT:-}"
health_attempts="${HEALTH_ATTEMPTS:-60}"
health_interval="${HEALTH_INTERVAL:-5}"

log() { printf 'etcd-restore %s: %s\n' "$STEP" "$*" >&2; }
fail() {
  log "$*"
  exit 1
}

healthy() {
  systemctl is-active --quiet "$K3S_SERVICE" && k3s kubectl get --raw /readyz >/dev/null 2>&1
}
start_and_wait() {
  # --no-block: the k3s unit has no start timeout (see apply-k3s.sh).
  systemctl --no-block restart "$K3S_SERVICE"
  local attempt
  for ((attempt = 1; attempt <= health_attempts; attempt++)); do
    if healthy; then return 0; fi
    sleep "$health_interval"
  done
  return 1
}

case "$STEP" in
  check)
    : "${SNAPSHOT:?}"
    listing="$(k3s etcd-snapshot ls 2>/dev/null)" || fail "k3s etcd-snapshot ls failed"
    grep -qF -- "$SNAPSHOT" <<<"$listing" ||
      fail "snapshot ${SNAPSHOT} is not listed by k3s etcd-snapshot ls; nothing was changed"
    echo "snapshot ${SNAPSHOT} is available"
    ;;
  stop)
    systemctl stop "$K3S_SERVICE"
    if systemctl is-active --quiet "$K3S_SERVICE"; then fail "${K3S_SERVICE} is still running"; fi
    echo "${K3S_SERVICE} stopped"
    ;;
  reset)
    : "${SNAPSHOT:?}"
    if systemctl is-active --quiet "$K3S_SERVICE"; then
      fail "${K3S_SERVICE} is running; stop every server first (step stop)"
    fi
    # A local file is restored from disk; otherwise k3s fetches the name from S3 (etcd-s3 in
    # config.yaml). k3s keeps the replaced data under db/etcd-old-<time>.
    source_args=("--cluster-reset-restore-path=${SNAPSHOT}")
    if [[ -f "${root}${SNAPSHOT_DIR}/${SNAPSHOT}" ]]; then
      source_args=("--cluster-reset-restore-path=${SNAPSHOT_DIR}/${SNAPSHOT}" "--etcd-s3=false")
    fi
    k3s server --cluster-reset "${source_args[@]}" >&2 ||
      fail "k3s could not restore ${SNAPSHOT}; every server is stopped. The data before the" \
        "attempt is under ${SERVER_DB_DIR}/etcd-old-*; see journalctl and docs/backups.md"
    start_and_wait || fail "${K3S_SERVICE} did not become healthy after the restore;" \
      "inspect: journalctl -u ${K3S_SERVICE}"
    echo "restored ${SNAPSHOT}; this server is the only etcd member"
    ;;
  rejoin)
    if systemctl is-active --quiet "$K3S_SERVICE"; then
      fail "${K3S_SERVICE} is running; stop it first (step stop)"
    fi
    # The old member's data would make it rejoin the pre-restore cluster: move it aside.
    if [[ -d "${root}${SERVER_DB_DIR}" ]]; then
      rm -rf "${root}${SERVER_DB_DIR}.before-restore"
      mv "${root}${SERVER_DB_DIR}" "${root}${SERVER_DB_DIR}.before-restore"
    fi
    start_and_wait || fail "${K3S_SERVICE} did not rejoin; its old data is in" \
      "${SERVER_DB_DIR}.before-restore. Inspect: journalctl -u ${K3S_SERVICE}"
    echo "rejoined the restored cluster"
    ;;
  *) fail "unknown step (check, stop, reset, rejoin)" ;;
esac
