#!/usr/bin/env bash
# Wait until a freshly booted node is ready for the k3s installer: cloud-init has finished and
# no package manager holds the lock. Reaching sshd at all is the connection's job (dial retries).
#
# Environment: BOOT_WAIT_ATTEMPTS (default 120), BOOT_WAIT_INTERVAL seconds (default 5).
# Ref: `cloud-init status --wait` exits 0 when done, 2 when done with recoverable errors (mere
#      warnings count), 1 on a critical failure (cloud-init docs, "status").
set -euo pipefail

attempts="${BOOT_WAIT_ATTEMPTS:-120}"
interval="${BOOT_WAIT_INTERVAL:-5}"

log() { printf 'wait-for-boot: %s\n' "$*" >&2; }

wait_for_cloud_init() {
  if ! command -v cloud-init >/dev/null 2>&1; then
    log "this image has no cloud-init; nothing to wait for"
    return 0
  fi
  local attempt status
  for ((attempt = 1; attempt <= attempts; attempt++)); do
    status=0
    cloud-init status --wait >/dev/null 2>&1 || status=$?
    case "$status" in
      0) return 0 ;;
      2) log "cloud-init finished with recoverable errors (exit 2); continuing"; return 0 ;;
      1) log "cloud-init failed (exit 1); see /var/log/cloud-init-output.log on this node"
         return 1 ;;
      *) log "cloud-init status exited ${status}; retrying (${attempt}/${attempts})"
         sleep "$interval" ;;
    esac
  done
  log "cloud-init did not report completion after ${attempts} attempts"
  return 1
}

package_manager_busy() {
  # Process names are cut at 15 characters: unattended-upgrades shows as unattended-upgr.
  pgrep -x 'apt|apt-get|dpkg|unattended-upgr|zypper|rpm|dnf|yum' >/dev/null 2>&1
}

wait_for_package_lock() {
  local attempt
  for ((attempt = 1; attempt <= attempts; attempt++)); do
    if ! package_manager_busy; then
      return 0
    fi
    log "a package manager is running; waiting (${attempt}/${attempts})"
    sleep "$interval"
  done
  log "a package manager still runs after ${attempts} attempts"
  return 1
}

wait_for_cloud_init
wait_for_package_lock
echo "boot complete"
