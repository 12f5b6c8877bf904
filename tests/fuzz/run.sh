#!/usr/bin/env bash
# pollnet's libFuzzer harnesses (tests/fuzz/*.c), built by clang with ASan
# and UBSan in the sanitizer build (./run.sh test makes build-san/).
#
#   tests/fuzz/run.sh [SECS]     run every harness SECS seconds (default 60),
#                                from the checked-in seeds plus what earlier
#                                runs found (build-san/fuzz-corpus/NAME), and
#                                report executions, coverage and crashes
#   tests/fuzz/run.sh --one EXE SEEDS SECS
#                                one harness from SEEDS for SECS seconds, on
#                                a scratch corpus (what the test suite runs)
#
# A crash leaves the input that caused it in the work directory (crash-*),
# and the exit status is 1.  Environment: POLLNET_FUZZ_BUILD (default
# build-san).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(dirname "$(dirname "$HERE")")
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

usage() {
    sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'
}

# run_one EXE SEEDS SECS WORKDIR: prints one summary line
run_one() {
    local exe=$1 seeds=$2 secs=$3 work=$4 log rc=0
    local name
    name=$(basename "$exe")
    mkdir -p "$work/corpus" "$work/artifacts"
    log=$work/$name.log
    "$exe" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$work/artifacts/" "$work/corpus" "$seeds" > "$log" 2>&1 || rc=$?
    local execs cov ft corp
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
    ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
    corp=$(find "$work/corpus" "$seeds" -type f 2>/dev/null | wc -l)
    if [ "$rc" = 0 ]; then
        printf '%-14s ok    %9s runs in %ss, coverage %s edges, %s features, corpus %s\n' \
            "$name" "${execs:-?}" "$secs" "${cov:-?}" "${ft:-?}" "$corp"
    else
        printf '%-14s FAIL  exit %s after %s runs; the input: %s\n' "$name" "$rc" \
            "${execs:-?}" "$(ls "$work/artifacts" 2>/dev/null | head -1)"
        grep -E "invariant broken|ERROR: |runtime error|SUMMARY" "$log" | head -5 | sed 's/^/    /'
        echo "    log: $log"
    fi
    return "$rc"
}

case "${1:-}" in
-h|--help) usage; exit 0 ;;
--one)
    [ $# = 4 ] || { usage >&2; exit 2; }
    work=$(mktemp -d /tmp/pollnet-fuzz.XXXXXX)
    if run_one "$2" "$3" "$4" "$work"; then rm -rf "$work"; else exit 1; fi
    exit 0
    ;;
esac
secs=${1:-60}
[[ "$secs" =~ ^[0-9]+$ ]] || { usage >&2; exit 2; }
build=${POLLNET_FUZZ_BUILD:-$TOP/build-san}
[ -x "$build/tests/fuzz/fuzz_stack" ] || {
    echo "fuzz: no harnesses in $build/tests/fuzz (./run.sh test builds them, or:" >&2
    echo "  CC=clang meson setup build-san -Db_sanitize=address,undefined -Db_lundef=false)" >&2
    exit 1; }
ninja -C "$build" >/dev/null
status=0
for exe in "$build"/tests/fuzz/fuzz_*; do
    [ -x "$exe" ] && [ -f "$exe" ] || continue
    name=$(basename "$exe")
    run_one "$exe" "$HERE/corpus/$name" "$secs" "$build/fuzz-corpus/$name" || status=1
done
exit $status
