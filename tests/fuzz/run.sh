#!/usr/bin/env bash
# run.sh NAME SECONDS [RESULTS_FILE] — run build/fuzz/fuzz_NAME for SECONDS seconds, leaks
# detected, on the committed seeds (tests/fuzz/corpus/NAME, read-only) plus a working corpus in
# build/fuzz/corpus/NAME (new inputs go there). Crashes, leaks, timeouts (> 10 s per input) and
# out-of-memory (> 2 GiB RSS) fail the run; the input is saved as build/fuzz/artifacts/NAME-*.
# Prints (and appends to RESULTS_FILE, as one JSON line) the number of executions survived.
# FUZZ_FORK=1 runs libFuzzer's fork mode with -ignore_crashes: fuzzing goes on past a crash (to
# measure a harness while a known bug is open); crashes are counted and still fail the run.
# FUZZ_ARGS adds libFuzzer flags (e.g. -malloc_limit_mb=4096).
# A name ending in _msan is a MemorySanitizer build of the harness without the suffix: it reads
# that harness's seeds and dictionary, and MSan reports (uninitialised reads) fail the run; LSan
# does not exist under MSan, so leaks are left to the other build.
set -euo pipefail
name=$1
secs=$2
results=${3:-}
cd "$(dirname "$0")/../.."
base=${name%_msan}
bin=build/fuzz/fuzz_$name
work=build/fuzz/corpus/$name
mkdir -p "$work" build/fuzz/artifacts build/fuzz/logs
log=build/fuzz/logs/$name-${secs}s.log
dict=()
[ -f "tests/fuzz/$base.dict" ] && dict=(-dict="tests/fuzz/$base.dict")
fork=()
[ "${FUZZ_FORK:-0}" = 1 ] && fork=(-fork=1 -ignore_crashes=1)
set +e
ubsan=print_stacktrace=1:halt_on_error=1
[ "${FUZZ_SUPPRESS:-1}" = 1 ] && ubsan=$ubsan:suppressions=tests/fuzz/ubsan.supp
leaks=1
[ "$base" != "$name" ] && leaks=0
ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 UBSAN_OPTIONS=$ubsan \
MSAN_OPTIONS=allocator_may_return_null=1:print_stats=0 \
  "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -detect_leaks=$leaks \
  -print_final_stats=1 -artifact_prefix="build/fuzz/artifacts/$name-" "${dict[@]}" "${fork[@]}" ${FUZZ_ARGS:-} \
  "$work" "tests/fuzz/corpus/$base" >"$log" 2>&1
rc=$?
set -e
crashes=0
if [ ${#fork[@]} -gt 0 ]; then
  # fork mode: the last "#N: cov: ... oom/timeout/crash: a/b/c" line has the totals
  last=$(grep -a -E '^#[0-9]+: cov:' "$log" | tail -1)
  execs=$(echo "$last" | sed -E 's/^#([0-9]+):.*/\1/')
  crashes=$(echo "$last" | sed -E 's#.*oom/timeout/crash: ([0-9]+)/([0-9]+)/([0-9]+).*#\1+\2+\3#' | bc)
  [ "${crashes:-0}" -gt 0 ] && rc=1
else
  execs=$(grep -a -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
fi
execs=${execs:-0}
crashes=${crashes:-0}
mode=""
[ ${#fork[@]} -gt 0 ] && mode=", ${crashes} crash/oom/timeout (fork mode)"
echo "fuzz_$name: ${secs} s, ${execs} executions${mode}, exit $rc (log: $log)"
if [ -n "$results" ]; then
  printf '{"suite": "fuzz", "name": "%s", "seconds": %s, "executions": %s, "fork_failures": %s, "exit": %s, "date": "%s"}\n' \
    "$name" "$secs" "$execs" "$crashes" "$rc" "$(date -u +%FT%TZ)" >>"$results"
fi
if [ $rc -ne 0 ]; then
  grep -a -E 'ERROR|SUMMARY|fuzz check failed|runtime error|use-of-uninitialized|Test unit written' "$log" | head -20 >&2
  exit $rc
fi
