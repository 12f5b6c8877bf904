#!/usr/bin/env bash
# Benchmarks.  Not tests: nothing here passes or fails on a number.
#
#   bench/run.sh stack     instructions per frame through each stack path
#                          (callgrind, exact and repeatable), with DPDK's own
#                          checksum and rte_hash lookup measured alongside;
#                          writes bench/results/stack.json and
#                          docs/img/stack.png
set -euo pipefail
cd "$(dirname "$0")/.."
. deploy/packages.sh

stack() {
    pn_install valgrind gnuplot-nox gcc meson ninja-build pkg-config libdpdk-dev libbsd-dev
    [ -d build ] || meson setup build
    ninja -C build bench/stack_bench
    local bin=build/bench/stack_bench out=bench/results/stack.json
    local cases="empty udp_rx icmp_echo arp_reply drop_ip_csum udp_tx summarize format
                 lookup_pollnet lookup_rte_hash cksum_1472_pollnet cksum_1472_dpdk"
    local n1=1000 n2=3000 native=1000000
    mkdir -p bench/results docs/img
    {
        printf '{\n  "benchmark": "stack",\n'
        printf '  "commit": "%s",\n' "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
        printf '  "date": "%s",\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
        printf '  "compiler": "%s",\n' "$(cc --version | head -1)"
        printf '  "dpdk": "%s",\n' "$(pkg-config --modversion libdpdk)"
        printf '  "cpu": "%s",\n' "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
        printf '  "method": "callgrind Ir collected only inside the measured call, (Ir(%d) - Ir(%d)) / %d; ns from rdtsc over %d calls, indicative only",\n' $n2 $n1 $((n2 - n1)) $native
        printf '  "cases": {\n'
        local first=1 overhead=0
        for c in $cases; do
            local i1 i2 ins ns
            i1=$(valgrind --tool=callgrind --collect-atstart=no --callgrind-out-file=/dev/null \
                 "$bin" "$c" $n1 2>&1 | awk '/Collected/ {print $NF}')
            i2=$(valgrind --tool=callgrind --collect-atstart=no --callgrind-out-file=/dev/null \
                 "$bin" "$c" $n2 2>&1 | awk '/Collected/ {print $NF}')
            # minus the cost of the measurement itself (the "empty" case)
            ins=$(awk -v a="$i1" -v b="$i2" -v n=$((n2 - n1)) -v o="$overhead" \
                  'BEGIN {printf "%.1f", (b - a) / n - o}')
            if [ "$c" = empty ]; then overhead=$ins; echo "  measurement overhead: $ins instructions" >&2; continue; fi
            ns=$("$bin" "$c" $native | sed -E 's/.*: ([0-9.]+) ns.*/\1/')
            echo "  $c: $ins instructions, $ns ns (indicative)" >&2
            [ $first = 1 ] || printf ',\n'
            first=0
            printf '    "%s": {"instructions": %s, "ns_indicative": %s}' "$c" "$ins" "$ns"
        done
        printf '\n  }\n}\n'
    } > "$out"
    echo "wrote $out" >&2
    plot_stack "$out"
}

plot_stack() {
    local json=$1 dat
    dat=$(mktemp)
    python3 - "$json" > "$dat" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))["cases"]
for k, v in d.items():
    print('"%s" %s' % (k.replace("_", "\\\\_"), v["instructions"]))
PY
    gnuplot <<GP
set terminal png size 900,480 font ",10"
set output "docs/img/stack.png"
set title "pollnet stack: instructions per frame (callgrind; lower is better)"
set style fill solid 0.7 border -1
set boxwidth 0.7
set xtics rotate by -35 left
set ylabel "instructions (log scale)"
set logscale y
set grid ytics
set yrange [5:30000]
unset key
plot "$dat" using 0:2:xtic(1) with boxes lc rgb "#3a6ea5", \
     "" using 0:(\$2*1.25):(sprintf("%d", \$2)) with labels
GP
    rm -f "$dat"
    echo "wrote docs/img/stack.png" >&2
}

case "${1:-}" in
stack) stack ;;
*) echo "usage: $0 stack" >&2; exit 2 ;;
esac
