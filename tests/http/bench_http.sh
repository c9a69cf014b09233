#!/usr/bin/env bash
# bench_http.sh — wrk against a running nnlabd: /conv (256x256 PNG, 3x3) and /mlp, with 2 and
# 32 connections. Prints one JSON line per case (from the wrk scripts' done()).
#   tests/http/bench_http.sh [NNLABD] [SECONDS]      (run from the repository root)
set -euo pipefail
bin=${1:-build/nnlabd}
secs=${2:-10}
command -v wrk >/dev/null || { echo '{"note": "wrk not installed: HTTP benchmark skipped"}'; exit 0; }
out=$(mktemp)
"$bin" --port 0 --max-connections 512 >"$out" 2>/dev/null &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -f "$out"' EXIT
for _ in $(seq 100); do grep -q listening "$out" && break; sleep 0.05; done
url=$(sed -n 's/^listening on //p' "$out")
for script in conv mlp; do
  for c in 2 32; do
    WRK_CONNECTIONS=$c wrk -t2 -c$c -d${secs}s --latency -s tests/http/wrk_$script.lua \
      "$url/$script" | grep '^{'
  done
done
