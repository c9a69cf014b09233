#!/usr/bin/env bash
# Install the Debian packages nnlab needs, or say exactly how to.
#   scripts/deps.sh run   — what `make run` needs (compiler + runtime libraries)
#   scripts/deps.sh test  — what `make test` needs (the above + test tools)
# As root, missing packages are installed with apt-get; otherwise the exact command is printed
# and the script fails, so `make` stops with the instruction on screen.
set -euo pipefail
profile=${1:-test}

run_pkgs=(gcc make pkg-config libc6-dev libmicrohttpd-dev libcjson-dev libstb-dev zlib1g-dev
          dataset-fashion-mnist)
test_pkgs=(clang libclang-rt-14-dev llvm libcriterion-dev libcurl4-openssl-dev curl valgrind
           nodejs npm chromium wrk python3 python3-numpy python3-pytest
           jupyter-nbconvert python3-ipykernel python3-matplotlib
           yamllint python3-yaml nginx tini shellcheck)
case "$profile" in
  run)  want=("${run_pkgs[@]}") ;;
  test) want=("${run_pkgs[@]}" "${test_pkgs[@]}") ;;
  *) echo "usage: $0 run|test" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
  # A package counts as present when dpkg says it is installed, or (for tools that may come from
  # elsewhere, e.g. a newer Node.js) when its command is on PATH.
  if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then continue; fi
  case "$p" in
    nodejs) command -v node >/dev/null && continue ;;
    npm) command -v npm >/dev/null && continue ;;
  esac
  missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

cmd="apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
  echo "deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "deps: missing Debian packages. Install them with:" >&2
  echo "  sudo apt-get update && sudo $cmd" >&2
  exit 1
fi
