#!/usr/bin/env bash
# mutation_test.sh — the static deployment checks must catch broken files, not just pass.
# Each case copies docker/ and README.md into a scratch tree, breaks one thing with sed, and
# expects tests/deploy/check_deploy.py to fail with the named check.
#   tests/deploy/mutation_test.sh [build/nnlabd]
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
nnlabd=${1:-}
[ -n "$nnlabd" ] && nnlabd=$(cd "$(dirname "$nnlabd")" && pwd)/$(basename "$nnlabd")
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
passed=0 failed=0

# mutate NAME FILE SED-EXPRESSION EXPECTED-FAIL-TEXT [needs-daemon]
mutate() {
  local name=$1 file=$2 expr=$3 expect=$4 needs=${5:-}
  if [ -n "$needs" ] && [ -z "$nnlabd" ]; then
    echo "skip - $name (needs the daemon)"; return
  fi
  rm -rf "$scratch/t" && mkdir -p "$scratch/t" && cp -r "$root/docker" "$root/README.md" "$scratch/t/"
  if ! sed -i -e "$expr" "$scratch/t/$file" || cmp -s "$root/$file" "$scratch/t/$file"; then
    echo "FAIL - $name: the mutation did not change $file (update this test)"; failed=$((failed + 1)); return
  fi
  local out rc
  # Only the cases that need the daemon pay for its checks (ldd, dpkg -S).
  local with=()
  [ -n "$needs" ] && with=(--nnlabd "$nnlabd")
  out=$(/usr/bin/python3 "$here/check_deploy.py" --root "$scratch/t" "${with[@]}" 2>&1)
  rc=$?
  if [ $rc -ne 0 ] && grep -q -F -- "FAIL - $expect" <<<"$out"; then
    echo "ok   - $name is caught"; passed=$((passed + 1))
  else
    echo "FAIL - $name is not caught (rc=$rc, expected 'FAIL - $expect')"; failed=$((failed + 1))
    grep '^FAIL' <<<"$out" | head -5
  fi
}

mutate "a -dev package in the runtime image" docker/Dockerfile \
  's/libmicrohttpd12 libcjson1 tini/libmicrohttpd-dev libcjson1 tini/' \
  "runtime stage installs no -dev package"
mutate "a runtime library missing" docker/Dockerfile \
  's/libmicrohttpd12 libcjson1 tini/libmicrohttpd12 tini/' "libcjson.so.1 comes from" daemon
mutate "running as root" docker/Dockerfile 's/^USER 10001:10001$/USER root/' \
  "runtime stage runs as a non-root USER"
mutate "a shell-form ENTRYPOINT" docker/Dockerfile \
  's|^ENTRYPOINT .*|ENTRYPOINT /usr/bin/tini -- /usr/local/bin/nnlabd|' "ENTRYPOINT is in exec form"
mutate "no tini" docker/Dockerfile \
  's|^ENTRYPOINT .*|ENTRYPOINT ["/usr/local/bin/nnlabd"]|' "ENTRYPOINT starts tini"
mutate "a misspelt variable" docker/Dockerfile 's/^ENV NNLAB_PORT=8080/ENV NNLAB_PROT=8080/' \
  "Dockerfile ENV NNLAB_PROT is a variable nnlabd knows" daemon
mutate "the build stage not using the make recipe" docker/Dockerfile \
  's/RUN make deps-run/RUN scripts\/deps.sh run/' "build stage installs with \`make deps-run\`"
mutate "a buffered /train/ stream" docker/nginx.conf 's/proxy_buffering off;/proxy_buffering on;/' \
  "/train/: proxy_buffering off"
mutate "a body limit below the daemon's" docker/nginx.conf \
  's/client_max_body_size 16m;/client_max_body_size 1m;/' "client_max_body_size equals"
mutate "a short stream timeout" docker/nginx.conf \
  's/proxy_read_timeout 600s;/proxy_read_timeout 10s;/' "/train/: proxy_read_timeout"
mutate "an upstream that is not the service" docker/nginx.conf \
  's/server nnlabd:8080/server nnlab:8080/' "upstream is the compose service by name"
mutate "one replica" docker/compose.yaml 's/NNLAB_REPLICAS:-2/NNLAB_REPLICAS:-1/' \
  "nnlabd runs N replicas"
# shellcheck disable=SC2016  # a literal ${...} of the compose file
mutate "threads above the CPU limit" docker/compose.yaml \
  's/cpus: "${NNLAB_THREADS:-2}"/cpus: "1"/' "NNLAB_THREADS matches the replica's CPU limit"
mutate "a Service selecting nothing" docker/k8s/service.yaml \
  's|    app.kubernetes.io/name: nnlabd$|    app.kubernetes.io/name: nnlab|' \
  "Service selects the Deployment's pods"
mutate "an integer env value" docker/k8s/deployment.yaml 's/value: "8080"/value: 8080/' \
  "env values are strings"
mutate "an HPA on another Deployment" docker/k8s/hpa.yaml '0,/    name: nnlabd/s//    name: web/' \
  "HPA scales the Deployment"
mutate "a readiness probe elsewhere" docker/k8s/deployment.yaml \
  '0,/path: \/healthz/s//path: \/ready/' "livenessProbe is httpGet /healthz"
mutate "scrape annotations on the wrong port" docker/k8s/deployment.yaml \
  's/prometheus.io\/port: "8080"/prometheus.io\/port: "9090"/' "prometheus.io/port is"
mutate "a writable root file system" docker/k8s/deployment.yaml \
  's/readOnlyRootFilesystem: true/readOnlyRootFilesystem: false/' "read-only root file system"
mutate "an Ingress that buffers streams" docker/k8s/ingress.yaml \
  's/proxy-buffering: "off"/proxy-buffering: "on"/' "Ingress: proxy-buffering off"

echo "mutations: $passed passed, $failed failed"
[ $failed -eq 0 ]
