#!/usr/bin/env bash
# Answer the API load balancer's health check for this server: one HTTP exchange per run, on
# stdin/stdout (systemd socket activation with Accept=yes, install-api-readiness.sh).
#
#   GET|HEAD /readyz -> 200 "ok" when this server's apiserver answers /readyz through k3s's
#                       supervisor and the server is not out of rotation; 503 otherwise
#                       ("out of rotation": MARKER exists, apply-k3s.sh is about to restart k3s);
#   other paths      -> 404, other methods -> 405.
# The answer says nothing else about the cluster. /readyz is asked with the kube-proxy client
# certificate k3s generates on every server: any authenticated client may read it (the
# system:public-info-viewer role), so anonymous access stays off (k3s-io/k3s#3576).
#
# Environment (from the unit, all required): READYZ_URL, CA_FILE, CLIENT_CERT, CLIENT_KEY, MARKER;
#   READYZ_TIMEOUT (seconds, default 3), REQUEST_TIMEOUT (seconds to read the request, default 5).
set -euo pipefail

: "${READYZ_URL:?}" "${CA_FILE:?}" "${CLIENT_CERT:?}" "${CLIENT_KEY:?}" "${MARKER:?}"
request_timeout="${REQUEST_TIMEOUT:-5}"

method=""
answer() { # status body
  local status="$1" body="$2"
  printf 'HTTP/1.1 %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n' \
    "$status" $((${#body} + 1))
  [[ "$method" == HEAD ]] || printf '%s\n' "$body"
  exit 0
}

IFS=' ' read -r -t "$request_timeout" method target _ || exit 0
# Read the headers up to the blank line: closing with unread input would reset the connection.
while IFS= read -r -t "$request_timeout" header; do
  [[ -n "${header%$'\r'}" ]] || break
done
case "$method" in GET | HEAD) ;; *) answer "405 Method Not Allowed" "method not allowed" ;; esac
[[ "${target%%\?*}" == /readyz ]] || answer "404 Not Found" "not found"
[[ ! -e "$MARKER" ]] || answer "503 Service Unavailable" "out of rotation"
if curl -sf --max-time "${READYZ_TIMEOUT:-3}" --cacert "$CA_FILE" --cert "$CLIENT_CERT" \
  --key "$CLIENT_KEY" -o /dev/null "$READYZ_URL"; then
  answer "200 OK" "ok"
fi
answer "503 Service Unavailable" "not ready"
