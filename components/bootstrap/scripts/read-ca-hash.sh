#!/usr/bin/env bash
# Print the SHA-256 of the cluster's server CA certificate (PEM as stored). Joiners put it in
# their secure K10 token and check the CA they are shown against it before sending credentials.
# The hash identifies the CA; it grants nothing, so it is not secret.
#
# Environment: SERVER_CA_FILE (required); READ_ATTEMPTS (60), READ_INTERVAL (5 s); K3S_ROOT.
# Ref: https://docs.k3s.io/cli/token (secure token format)
set -euo pipefail

: "${SERVER_CA_FILE:?SERVER_CA_FILE is required}"
file="${K3S_ROOT:-}${SERVER_CA_FILE}"
attempts="${READ_ATTEMPTS:-60}"
interval="${READ_INTERVAL:-5}"

for ((attempt = 1; attempt <= attempts; attempt++)); do
  if [[ -s "$file" ]]; then
    sha256sum "$file" | awk '{ print $1 }'
    exit 0
  fi
  sleep "$interval"
done
echo "read-ca-hash: ${SERVER_CA_FILE} does not exist after ${attempts} attempts" >&2
exit 1
