#!/usr/bin/env bash
# Take a named etcd snapshot before a change that can lose etcd data; fail (and so stop the
# change) when this server holds etcd data but the snapshot cannot be taken.
# With etcd-s3 in config.yaml, k3s also copies the snapshot to S3 (credentials from the
# config.yaml.d drop-in: nothing secret passes through this script).
#
# Environment: SNAPSHOT_NAME, ETCD_DATA_DIR (required); SNAPSHOT_ATTEMPTS (default 3),
#   SNAPSHOT_INTERVAL (default 10 s); K3S_ROOT prefixes ETCD_DATA_DIR (tests only).
# Ref: https://docs.k3s.io/cli/etcd-snapshot
set -euo pipefail

: "${SNAPSHOT_NAME:?}" "${ETCD_DATA_DIR:?}"
attempts="${SNAPSHOT_ATTEMPTS:-3}"
interval="${SNAPSHOT_INTERVAL:-10}"

log() { printf 'etcd-snapshot: %s\n' "$*" >&2; }

if [[ ! -d "${K3S_ROOT:-}${ETCD_DATA_DIR}/member" ]]; then
  # A server that never ran etcd (a new cluster, a new server): nothing can be lost yet.
  echo "no etcd data on this server yet: nothing to snapshot before this step"
  exit 0
fi

for ((attempt = 1; attempt <= attempts; attempt++)); do
  if k3s etcd-snapshot save --name "$SNAPSHOT_NAME"; then
    echo "snapshot ${SNAPSHOT_NAME} saved; list: k3s etcd-snapshot ls"
    exit 0
  fi
  log "snapshot ${SNAPSHOT_NAME} failed (${attempt}/${attempts})"
  if ((attempt < attempts)); then sleep "$interval"; fi
done
log "no snapshot, so the change stops here: nothing was changed on the cluster."
log "Check the server (journalctl -u k3s) and the S3 target (k3s etcd-snapshot ls), then run"
log "pulumi up again. To repair a server whose k3s does not run, set"
log "k3s.etcdSnapshots.beforeChanges: false for that one run (see docs/backups.md)."
exit 1
