#!/usr/bin/env bash
# Install this server's answer to the API load balancer's health check (api-readiness.sh, on
# stdin) behind a systemd socket on the server's private address, idempotently.
#
# The socket listens on LISTEN_ADDRESS:PORT only (FreeBind: it may start before DHCP has
# configured the private interface) and spawns one short-lived, unprivileged-as-possible answer
# per connection (no capabilities, read-only file system, at most MAX_CONNECTIONS at once).
# A changed socket or answer takes effect at once; an unchanged one is left alone. Then the
# answer is asked over the private address, as the load balancer will ask it: 200 where k3s
# runs, an HTTP 503 where it does not yet (a first create). The load balancer's service switches
# to this check only after every server's install passed, so a fault common to all servers
# (a path, a sandbox option, a filter on the port) stops here instead of taking the API down.
#
# stdin: the answer script. Environment (all required): LISTEN_ADDRESS, PORT, READYZ_URL, CA_FILE,
#   CLIENT_CERT, CLIENT_KEY, MARKER, K3S_SERVICE; SELF_TEST_ATTEMPTS (default 30),
#   SELF_TEST_INTERVAL (seconds, default 2); K3S_ROOT prefixes every written path (tests only).
set -euo pipefail
umask 022

: "${LISTEN_ADDRESS:?}" "${PORT:?}" "${READYZ_URL:?}" "${CA_FILE:?}" "${CLIENT_CERT:?}"
: "${CLIENT_KEY:?}" "${MARKER:?}" "${K3S_SERVICE:?}"
[[ "$PORT" =~ ^[0-9]+$ ]] || { echo "install-api-readiness: PORT is not a number" >&2; exit 1; }
root="${K3S_ROOT:-}"
name=k3s-hcloud-api-readiness
answer=/usr/local/lib/k3s-hcloud/api-readiness.sh
units="${root}/etc/systemd/system"
MAX_CONNECTIONS=16

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cat >"$work/answer"
[[ -s "$work/answer" ]] || { echo "install-api-readiness: no answer script on stdin" >&2; exit 1; }

cat >"$work/socket" <<UNIT
[Unit]
Description=k3s-hcloud: this server's answer to the API load balancer's health check

[Socket]
ListenStream=${LISTEN_ADDRESS}:${PORT}
FreeBind=yes
Accept=yes
MaxConnections=${MAX_CONNECTIONS}

[Install]
WantedBy=sockets.target
UNIT
cat >"$work/service" <<UNIT
[Unit]
Description=k3s-hcloud: answer one API load balancer health check

[Service]
ExecStart=${answer}
StandardInput=socket
StandardOutput=socket
StandardError=journal
Environment=READYZ_URL=${READYZ_URL} CA_FILE=${CA_FILE} MARKER=${MARKER}
Environment=CLIENT_CERT=${CLIENT_CERT} CLIENT_KEY=${CLIENT_KEY}
RuntimeMaxSec=15
CapabilityBoundingSet=
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes
PrivateDevices=yes
RestrictAddressFamilies=AF_INET AF_INET6
UNIT

changed=false
place() { # source target mode
  if cmp -s "$1" "$2" && [[ "$(stat -c '%a' "$2")" == "$3" ]]; then return 0; fi
  mkdir -p "$(dirname "$2")"
  cp "$1" "$2.tmp"
  chmod "$3" "$2.tmp"
  mv -f "$2.tmp" "$2"
  changed=true
}
place "$work/answer" "${root}${answer}" 755
place "$work/socket" "${units}/${name}.socket" 644
place "$work/service" "${units}/${name}@.service" 644

if [[ "$changed" == true ]]; then
  systemctl daemon-reload
  systemctl enable "${name}.socket"
  # A restart re-binds a changed address; connections being answered finish on their own.
  systemctl restart "${name}.socket"
  echo "api readiness answer installed on ${LISTEN_ADDRESS}:${PORT}"
else
  systemctl is-active --quiet "${name}.socket" || systemctl start "${name}.socket"
  echo "api readiness answer unchanged on ${LISTEN_ADDRESS}:${PORT}"
fi

want=503
if systemctl is-active --quiet "$K3S_SERVICE"; then want=200; fi
code=""
for ((attempt = 1; attempt <= ${SELF_TEST_ATTEMPTS:-30}; attempt++)); do
  code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 \
    "http://${LISTEN_ADDRESS}:${PORT}/readyz" || true)"
  if [[ "$code" == "$want" ]]; then
    echo "the answer on ${LISTEN_ADDRESS}:${PORT} says ${code}, as it should here"
    exit 0
  fi
  sleep "${SELF_TEST_INTERVAL:-2}"
done
echo "install-api-readiness: http://${LISTEN_ADDRESS}:${PORT}/readyz answers '${code:-nothing}'," \
  "not ${want}; the load balancer is not switched to this check. Inspect: journalctl" \
  "-u 'k3s-hcloud-api-readiness@*' and systemctl status ${name}.socket on this server" >&2
exit 1
