#!/usr/bin/env bash
# Install k3s on this node, or apply a changed configuration, idempotently:
#   compare -> back up -> write -> install/upgrade -> restart -> health check -> roll back.
# When the files, the k3s version and the service are already as wanted, nothing is written and
# nothing restarts.
#
# stdin: the file bundle, one "<mode> <path> inline:<base64>" or "<mode> <path> staged:<name>"
#        line per managed file (staged secrets were put under $STATE_DIR/secrets before).
# Environment: K3S_ROLE (server|agent), K3S_VERSION (release tag), K3S_SERVICE (systemd unit),
#   STATE_DIR, INSTALL_SOURCE (upstream|mirror|airgap), INSTALL_SCRIPT_SHA256 (all required);
#   upstream/mirror: INSTALL_SCRIPT_URL (required), and for a mirror the variables its script
#   reads (GITHUB_URL, INSTALL_K3S_MIRROR, INSTALL_K3S_MIRROR_URL: inherited by the installer);
#   airgap: INSTALL_SCRIPT_PATH, K3S_BINARY_PATH, K3S_IMAGES_PATH (required: files the node's
#   image staged). The install script runs only after its SHA-256 matched INSTALL_SCRIPT_SHA256,
#   checked (with the airgap files' presence) before anything on the node changes.
#   K3S_UPGRADES (program|controller, default
#   program: with "controller", system-upgrade-controller owns upgrades, so an installed k3s of
#   another version is left as it is and K3S_VERSION is only installed where k3s is absent);
#   ROTATION_MARKER and ROTATION_SECONDS (servers behind the API load balancer): before k3s
#   restarts on a server that runs it, the marker takes the server out of the load balancer's
#   rotation (api-readiness.sh answers 503) and the script waits ROTATION_SECONDS for the load
#   balancer to notice; once healthy again it removes the marker and waits as long again, so
#   the next server leaves only after this one is back (cluster_plan/api_readiness.py);
#   HEALTH_ATTEMPTS (default 60),
#   HEALTH_INTERVAL (default 5 s), DOWNLOAD_ATTEMPTS (default 5); K3S_ROOT prefixes every
#   managed path (tests only).
# Ref: https://docs.k3s.io/installation/configuration (INSTALL_K3S_* variables)
# Ref: https://docs.k3s.io/installation/airgap (INSTALL_K3S_SKIP_DOWNLOAD, the images directory)
set -euo pipefail
umask 077

: "${K3S_ROLE:?}" "${K3S_VERSION:?}" "${K3S_SERVICE:?}" "${STATE_DIR:?}" "${INSTALL_SOURCE:?}"
: "${INSTALL_SCRIPT_SHA256:?}"
case "$INSTALL_SOURCE" in
  upstream | mirror) : "${INSTALL_SCRIPT_URL:?}" ;;
  airgap) : "${INSTALL_SCRIPT_PATH:?}" "${K3S_BINARY_PATH:?}" "${K3S_IMAGES_PATH:?}" ;;
  *)
    printf 'apply-k3s: unknown INSTALL_SOURCE %s\n' "$INSTALL_SOURCE" >&2
    exit 1 ;;
esac
[[ "$INSTALL_SCRIPT_SHA256" =~ ^[0-9a-f]{64}$ ]] || {
  printf 'apply-k3s: INSTALL_SCRIPT_SHA256 is not a SHA-256 digest\n' >&2
  exit 1
}
root="${K3S_ROOT:-}"
state="${root}${STATE_DIR}"
health_attempts="${HEALTH_ATTEMPTS:-60}"
health_interval="${HEALTH_INTERVAL:-5}"
download_attempts="${DOWNLOAD_ATTEMPTS:-5}"
# Where the installer expects a pre-placed binary (INSTALL_K3S_SKIP_DOWNLOAD) and where k3s
# imports image tarballs from (upstream/k3s_installer.py: BINARY_PATH, AIRGAP_IMAGES_DIR).
K3S_BINARY_TARGET=/usr/local/bin/k3s
K3S_IMAGES_DIR=/var/lib/rancher/k3s/agent/images
managed_list="${state}/managed-files"
backup="${state}/backup"

log() { printf 'apply-k3s: %s\n' "$*" >&2; }
fail() {
  log "$*"
  exit 1
}

work="$(mktemp -d)"
marker="${ROTATION_MARKER:+${root}${ROTATION_MARKER}}"
# Whatever happens, never leave the server out of rotation behind.
trap 'rm -rf "$work"; if [[ -n "$marker" ]]; then rm -f "$marker"; fi' EXIT
mkdir -p "$state"

# -- 1. Read the wanted files: "<mode> <path> <content file>" lines in $work/wanted ------------
: >"$work/wanted"
count=0
while read -r mode path source; do
  [[ -n "$mode" ]] || continue
  [[ "$mode" =~ ^0[0-7]{3}$ ]] || fail "bad mode '${mode}' for ${path}"
  case "$path" in
    *..*) fail "refusing path ${path}" ;;
    /etc/rancher/k3s/* | /var/lib/rancher/k3s/server/* | /etc/sysctl.d/*) ;;
    *) fail "refusing to manage ${path}" ;;
  esac
  count=$((count + 1))
  content="${work}/file.${count}"
  case "$source" in
    inline:*)
      printf '%s' "${source#inline:}" | base64 -d >"$content" 2>/dev/null ||
        fail "content of ${path} is not valid base64" ;;
    staged:*)
      staged="${state}/secrets/${source#staged:}"
      [[ -f "$staged" ]] || fail "secret ${source#staged:} for ${path} was not staged"
      cp "$staged" "$content" ;;
    *) fail "unknown content source for ${path}" ;;
  esac
  printf '%s %s %s\n' "$mode" "$path" "$content" >>"$work/wanted"
done
((count > 0)) || fail "no files on stdin"
cut -d' ' -f2 "$work/wanted" >"$work/wanted-paths"

# -- 2. Compare with what is on the node -------------------------------------------------------
differs() { # mode path content
  local target="${root}$2"
  ! cmp -s "$3" "$target" || [[ "$(stat -c '%a' "$target")" != "${1#0}" ]]
}
changed=()
while read -r mode path content; do
  if differs "$mode" "$path" "$content"; then changed+=("$path"); fi
done <"$work/wanted"
stale=()
if [[ -f "$managed_list" ]]; then
  while read -r path; do
    grep -qxF -- "$path" "$work/wanted-paths" || stale+=("$path")
  done <"$managed_list"
fi

installed_version() {
  command -v k3s >/dev/null 2>&1 || return 0
  k3s --version 2>/dev/null | awk 'NR == 1 { print $3 }'
}
current="$(installed_version)"
needs_install=false
if [[ -z "$current" ]]; then
  needs_install=true
elif [[ "$current" != "$K3S_VERSION" ]]; then
  if [[ "${K3S_UPGRADES:-program}" == controller ]]; then
    log "k3s ${current} is installed; upgrades to ${K3S_VERSION} belong to system-upgrade-controller"
  else
    needs_install=true
  fi
fi

healthy() {
  systemctl is-active --quiet "$K3S_SERVICE" || return 1
  if [[ "$K3S_ROLE" == server ]]; then
    k3s kubectl get --raw /readyz >/dev/null 2>&1 || return 1
  fi
}
wait_healthy() {
  local attempt
  for ((attempt = 1; attempt <= health_attempts; attempt++)); do
    if healthy; then return 0; fi
    sleep "$health_interval"
  done
  return 1
}

if ((${#changed[@]} == 0 && ${#stale[@]} == 0)) && [[ "$needs_install" == false ]] && healthy; then
  echo "unchanged: k3s ${K3S_VERSION} with ${count} managed file(s), nothing restarted"
  exit 0
fi

# -- 3. Fetch and verify the installer before anything on the node changes ----------------------
installer="${work}/install.sh"
fetch_installer() {
  local attempt
  if [[ "$INSTALL_SOURCE" == airgap ]]; then
    local staged
    for staged in "$INSTALL_SCRIPT_PATH" "$K3S_BINARY_PATH" "$K3S_IMAGES_PATH"; do
      [[ -f "${root}${staged}" ]] || {
        log "air-gapped install: ${staged} is not on this node (the node's image must stage it)"
        return 1
      }
    done
    cp "${root}${INSTALL_SCRIPT_PATH}" "$installer"
    return 0
  fi
  # https only, redirects included, unless the stack acknowledged an http:// URL.
  local protocols='=https'
  case "$INSTALL_SCRIPT_URL" in http://*) protocols='=http,https' ;; esac
  for ((attempt = 1; attempt <= download_attempts; attempt++)); do
    if curl -sfL --proto "$protocols" --proto-redir "$protocols" -o "${installer}.part" \
      "$INSTALL_SCRIPT_URL"; then
      mv "${installer}.part" "$installer"
      return 0
    fi
    log "downloading the k3s installer failed (${attempt}/${download_attempts})"
    sleep "$health_interval"
  done
  log "could not download the k3s installer from ${INSTALL_SCRIPT_URL}"
  return 1
}
verify_installer() {
  local actual
  if printf '%s  %s\n' "$INSTALL_SCRIPT_SHA256" "$installer" | sha256sum -c --status; then
    return 0
  fi
  actual="$(sha256sum "$installer" | cut -d' ' -f1)"
  log "the k3s install script from ${INSTALL_SCRIPT_URL:-${INSTALL_SCRIPT_PATH:-}} does not have" \
    "the pinned SHA-256: expected ${INSTALL_SCRIPT_SHA256}, got ${actual}"
  return 1
}
if [[ "$needs_install" == true ]]; then
  fetch_installer || fail "nothing on this node was changed"
  verify_installer || fail "refusing to run it; nothing on this node was changed"
fi

# -- 4. Back up what is about to change ---------------------------------------------------------
rm -rf "$backup"
mkdir -p "${backup}/files"
: >"${backup}/absent"
for path in "${changed[@]}" "${stale[@]}"; do
  if [[ -e "${root}${path}" ]]; then
    mkdir -p "${backup}/files$(dirname "$path")"
    cp -p "${root}${path}" "${backup}/files${path}"
  else
    printf '%s\n' "$path" >>"${backup}/absent"
  fi
done
if [[ -f "$managed_list" ]]; then cp -p "$managed_list" "${backup}/managed-files"; fi
binary=""
if [[ "$needs_install" == true && -n "$current" ]]; then
  binary="$(command -v k3s)"
  cp -p "$binary" "${backup}/k3s.bin"
fi

# -- 5. Write ---------------------------------------------------------------------------------
place() { # source target mode: atomic replace, also for a running binary
  mkdir -p "$(dirname "$2")"
  cp "$1" "$2.k3s-hcloud.tmp"
  chmod "$3" "$2.k3s-hcloud.tmp"
  mv -f "$2.k3s-hcloud.tmp" "$2"
}
sysctl_changed=false
while read -r mode path content; do
  if differs "$mode" "$path" "$content"; then
    place "$content" "${root}${path}" "$mode"
    case "$path" in /etc/sysctl.d/*) sysctl_changed=true ;; esac
  fi
done <"$work/wanted"
for path in "${stale[@]}"; do rm -f "${root}${path}"; done
if [[ "$sysctl_changed" == true ]]; then
  # protect-kernel-defaults makes kubelet refuse to start until these are live.
  while read -r mode path content; do
    case "$path" in /etc/sysctl.d/*) sysctl -p "${root}${path}" >&2 ;; esac
  done <"$work/wanted"
fi

# -- 6. Install or upgrade, restart, check -----------------------------------------------------
install_k3s() {
  # The installer was fetched and verified in step 3. Air-gapped: the binary goes where the
  # installer looks for it with INSTALL_K3S_SKIP_DOWNLOAD=true, the images where k3s imports
  # them at start.
  local skip_download=false
  if [[ "$INSTALL_SOURCE" == airgap ]]; then
    place "${root}${K3S_BINARY_PATH}" "${root}${K3S_BINARY_TARGET}" 755
    mkdir -p "${root}${K3S_IMAGES_DIR}"
    place "${root}${K3S_IMAGES_PATH}" "${root}${K3S_IMAGES_DIR}/$(basename "$K3S_IMAGES_PATH")" 644
    skip_download=true
  fi
  # Skip the installer's own start: the restart below is followed by a health check. The
  # installer's unit files and symlinks get the usual 022 umask, not this script's 077.
  (
    umask 022
    INSTALL_K3S_VERSION="$K3S_VERSION" INSTALL_K3S_EXEC="$K3S_ROLE" \
      INSTALL_K3S_SKIP_DOWNLOAD="$skip_download" INSTALL_K3S_SKIP_START=true sh "$installer" >&2
  )
}
restart() {
  systemctl daemon-reload
  # --no-block: the k3s units have no start timeout, so a blocking restart could hang forever.
  systemctl --no-block restart "$K3S_SERVICE"
}
roll_back() {
  log "rolling back to the previous configuration"
  while read -r path; do rm -f "${root}${path}"; done <"${backup}/absent"
  (cd "${backup}/files" && find . -type f) | while read -r saved; do
    place "${backup}/files/${saved#./}" "${root}/${saved#./}" \
      "$(stat -c '%a' "${backup}/files/${saved#./}")"
  done
  if [[ -n "$binary" ]]; then place "${backup}/k3s.bin" "$binary" 755; fi
  restart
  if wait_healthy; then
    log "rolled back: the previous configuration runs again"
  else
    log "the previous configuration does not come up either. Inspect: journalctl -u ${K3S_SERVICE}"
  fi
}

# A server that serves API traffic leaves the load balancer's rotation before k3s restarts (not
# on a first install: the load balancer has never sent it anything).
left_rotation=false
leave_rotation() {
  [[ -n "$marker" && -n "$current" ]] || return 0
  systemctl is-active --quiet "$K3S_SERVICE" || return 0
  mkdir -p "$(dirname "$marker")"
  : >"$marker"
  left_rotation=true
  log "out of the API load balancer's rotation; waiting ${ROTATION_SECONDS:-0} s for it to notice"
  sleep "${ROTATION_SECONDS:-0}"
}
rejoin_rotation() {
  [[ "$left_rotation" == true ]] || return 0
  rm -f "$marker"
  log "back in the API load balancer's rotation; waiting ${ROTATION_SECONDS:-0} s for it to notice"
  sleep "${ROTATION_SECONDS:-0}"
}

step_ok=true
leave_rotation
if [[ "$needs_install" == true ]]; then
  install_k3s || step_ok=false
fi
if [[ "$step_ok" == true ]]; then
  restart
  wait_healthy || step_ok=false
fi
if [[ "$step_ok" == true ]]; then
  cp "$work/wanted-paths" "$managed_list"
  rm -rf "$backup"
  rejoin_rotation
  echo "applied: k3s ${K3S_VERSION}; ${#changed[@]} file(s) written, ${#stale[@]} removed," \
    "${K3S_SERVICE} restarted and healthy"
  exit 0
fi
if [[ -z "$current" ]]; then
  fail "k3s ${K3S_VERSION} did not become healthy after installation; there is no previous" \
    "state to roll back to. Inspect: journalctl -u ${K3S_SERVICE}"
fi
if ((${#changed[@]} == 0 && ${#stale[@]} == 0)) && [[ "$needs_install" == false ]]; then
  fail "${K3S_SERVICE} is not healthy and a restart did not help; nothing changed, so there is" \
    "nothing to roll back. Inspect: journalctl -u ${K3S_SERVICE}"
fi
roll_back
fail "k3s ${K3S_VERSION} did not become healthy with the new configuration; rolled back." \
  "Inspect: journalctl -u ${K3S_SERVICE}"
