#!/usr/bin/env bash
# Stage this node's secret files (k3s tokens, the datastore drop-in) for apply-k3s.sh.
# Secrets arrive on stdin only: never in the command line, the environment or the output.
#
# stdin: one "<name> <base64 content>" line per secret.
# Environment: STATE_DIR (required); K3S_ROOT prefixes every path (tests only).
set -euo pipefail
umask 077

: "${STATE_DIR:?STATE_DIR is required}"
secrets_dir="${K3S_ROOT:-}${STATE_DIR}/secrets"
incoming="${secrets_dir}.incoming"

rm -rf "$incoming"
mkdir -p "$incoming"
trap 'rm -rf "$incoming"' EXIT

count=0
while read -r name payload; do
  [[ -n "$name" ]] || continue
  if [[ ! "$name" =~ ^[a-z0-9][a-z0-9.-]*$ ]]; then
    echo "stage-secrets: refusing entry name '${name}'" >&2
    exit 1
  fi
  # printf is a shell builtin: the secret never becomes a process argument.
  if ! printf '%s' "$payload" | base64 -d >"${incoming}/${name}" 2>/dev/null; then
    echo "stage-secrets: entry '${name}' is not valid base64" >&2
    exit 1
  fi
  count=$((count + 1))
done

if ((count == 0)); then
  echo "stage-secrets: no secrets on stdin" >&2
  exit 1
fi

# Replace the whole set at once, so a secret that is no longer sent disappears.
rm -rf "${secrets_dir}.old"
if [[ -d "$secrets_dir" ]]; then
  mv "$secrets_dir" "${secrets_dir}.old"
fi
mv "$incoming" "$secrets_dir"
rm -rf "${secrets_dir}.old"
echo "stage-secrets: staged ${count} secret file(s)" >&2
