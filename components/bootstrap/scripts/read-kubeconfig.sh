#!/usr/bin/env bash
# Print the admin kubeconfig k3s wrote on this server once it is complete. The output is a
# secret: the command logs stderr only and its stdout is marked secret by the program.
#
# Environment: KUBECONFIG_FILE (required); READ_ATTEMPTS (default 60), READ_INTERVAL seconds
# (default 5); K3S_ROOT prefixes the path (tests only).
set -euo pipefail

: "${KUBECONFIG_FILE:?KUBECONFIG_FILE is required}"
file="${K3S_ROOT:-}${KUBECONFIG_FILE}"
attempts="${READ_ATTEMPTS:-60}"
interval="${READ_INTERVAL:-5}"

for ((attempt = 1; attempt <= attempts; attempt++)); do
  # A failed cluster-init can leave an empty file behind: never print that.
  if [[ -s "$file" ]] && grep -q '^clusters:' "$file" && grep -q '^users:' "$file"; then
    cat "$file"
    exit 0
  fi
  sleep "$interval"
done
echo "read-kubeconfig: ${KUBECONFIG_FILE} is missing or incomplete after ${attempts} attempts;" \
  "k3s did not finish initialising. Inspect: journalctl -u k3s" >&2
exit 1
