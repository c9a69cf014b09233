#!/bin/bash
# nnlab-healthcheck — the container HEALTHCHECK: GET /healthz on the local daemon, exit 0 when it
# answers 200 with "status": "ok", 1 otherwise.
# It speaks HTTP/1.0 over bash's /dev/tcp, so the slim image needs no curl or wget (bash and
# coreutils' timeout are already in debian:12-slim). Usage: nnlab-healthcheck [host [port]];
# defaults 127.0.0.1 and $NNLAB_PORT (8080).
set -u
host=${1:-127.0.0.1}
port=${2:-${NNLAB_PORT:-8080}}
budget=${NNLAB_HEALTHCHECK_TIMEOUT:-3}

# HTTP/1.0: the server closes the connection after the response, so `cat` ends at EOF.
# shellcheck disable=SC2016  # $1 and $2 expand in the inner bash, which gets them as arguments
response=$(timeout "$budget" bash -c '
  exec 3<>"/dev/tcp/$1/$2" || exit 1
  printf "GET /healthz HTTP/1.0\r\nHost: %s\r\nConnection: close\r\n\r\n" "$1" >&3
  cat <&3' _ "$host" "$port" 2>/dev/null) || { echo "healthcheck: no answer from $host:$port" >&2; exit 1; }

status_line=${response%%$'\r'*}
case "$status_line" in
  "HTTP/1."?" 200"*) ;;
  *) echo "healthcheck: ${status_line:-empty response}" >&2; exit 1 ;;
esac
body=${response#*$'\r\n\r\n'}
if [[ "$body" =~ \"status\"[[:space:]]*:[[:space:]]*\"ok\" ]]; then
  exit 0
fi
echo "healthcheck: /healthz is not ok: ${body:0:200}" >&2
exit 1
