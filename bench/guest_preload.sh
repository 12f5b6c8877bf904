#!/usr/bin/env bash
# bench/run.sh preload, in the guest: the same unmodified programs
# (Debian's sockperf and iperf 2) in the QEMU guest, under pollnet-run
# (pollnet on its own e1000 driver) and on Linux's e1000 driver and UDP
# stack, one boot each, in one run.
#
# The guest is on a tap in a network namespace (deploy/pollnet-guest --net
# tap): the host's kernel there is 10.0.2.2, the peer, with Debian's
# sockperf and iperf.  In the guest the program under test is pinned to
# vCPU 0; pollnet's lcore polls on vCPU 1 (with the kernel's driver, vCPU 1
# is idle but for the interrupts the kernel puts there).
#
# - sockperf ping-pong, 64 B, one message in flight, round trips
#   (--full-rtt): the guest's sockperf is the client, the peer's the server.
# - iperf -u, 64-byte payloads: the guest's iperf is the server; the peer's
#   client offers each rate in turn; iperf's report gives what arrived and
#   what was lost, and the guest's counters where it was lost.
# - sockperf throughput, 64 B, as fast as the peer's client sends (--mps
#   max): the guest's sockperf is the server; what it got is pollnet's
#   udp_delivered or the kernel's UDP InDatagrams, what was lost pollnet's
#   udp_ring_full and the port's rx_missed, or the kernel's UDP InErrors
#   (RcvbufErrors).  Frames that never reach the guest are dropped by the
#   host's kernel at the tap, whose queue QEMU stops reading while the
#   e1000's receive ring is full (QEMU's e1000 then counts no MPC): the
#   tap's TX drop counter, read around each phase.
#
# usage: bench/guest_preload.sh OUT_JSON
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-bench/results/preload-guest.json}
NS=pollnet-guest          # deploy/pollnet-guest --net tap's namespace
RATES="2000 5000 7500 10000 15000 20000 30000 40000"
PP_SECONDS=5 RATE_SECONDS=3 TP_SECONDS=3
tmp=$(mktemp -d /tmp/pollnet-guest-preload.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true' EXIT

# The guest's side.  $1: what runs the program ("pollnet-run" or nothing).
guest_script() {
    local k=$1
    cat <<GUEST
K="$k"
counts() {   # datagrams the stack delivered to sockets, and those it dropped
    if [ -n "\$K" ]; then
        pollnetctl stats --json | python3 -c 'import json, sys; c = json.load(sys.stdin)["counters"]; print(c["stack.udp_delivered"], c["stack.rx_drop.udp_ring_full"] + c["port.rx_missed"])'
    else
        awk '/^Udp:/ { if (h) { print \$2, \$4; exit } h = 1 }' /proc/net/snmp   # InErrors has RcvbufErrors in
    fi
}
echo BENCH-READY
sleep 3
# a first exchange: ARP, and whatever a program's first run costs
\$K sockperf ping-pong -i 10.0.2.2 -p 11111 -t 1 -m 64 > /dev/null 2>&1
taskset -c 0 \$K sockperf ping-pong -i 10.0.2.2 -p 11111 -t $PP_SECONDS -m 64 --full-rtt > /tmp/pp.out 2>&1
sed 's/^/PP /' /tmp/pp.out
for rate in $RATES; do
    taskset -c 0 \$K iperf -s -u -p 5001 -l 64 > /tmp/is.out 2>&1 &
    S=\$!
    sleep 1
    set -- \$(counts); r0=\$1 l0=\$2
    echo "IPERF-READY \$rate"
    i=0
    until grep -q '%)' /tmp/is.out || [ \$i -gt 400 ]; do sleep 0.1; i=\$((i + 1)); done
    sleep 0.5
    set -- \$(counts)
    echo "IPERF-COUNTS \$rate \$((\$1 - r0)) \$((\$2 - l0))"
    kill \$S
    wait \$S 2> /dev/null
done
taskset -c 0 \$K sockperf server -i 10.0.2.15 -p 11112 > /dev/null 2>&1 &
S=\$!
sleep 1
set -- \$(counts); r0=\$1 l0=\$2 last=\$1
echo TP-READY
# until the datagrams stop coming (at most a minute)
i=0
while [ \$i -lt 120 ]; do
    sleep 0.5
    set -- \$(counts)
    [ "\$1" != "\$r0" ] && [ "\$1" = "\$last" ] && break
    last=\$1 i=\$((i + 1))
done
set -- \$(counts)
echo "TP-COUNTS \$((\$1 - r0)) \$((\$2 - l0))"
kill \$S
echo BENCH-DONE
GUEST
}

# Frames the host's kernel dropped at the tap (QEMU stops reading it while
# the guest's e1000 has no free receive descriptor: MPC is never counted).
tap_dropped() {
    ip -n "$NS" -s -j link show pgtap0 2>/dev/null |
        python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["stats64"]["tx"]["dropped"])' 2>/dev/null ||
        echo 0
}

run_one() {   # $1: driver (e1000: under pollnet-run; kernel: no pollnet)
    local drv=$1 prefix= console=$tmp/$1.console handled=0 sps= tp=0 line rate
    [ "$drv" = kernel ] || prefix=pollnet-run
    if [ -n "$prefix" ]; then echo "== $drv: $prefix" >&2
    else echo "== $drv: the Linux kernel's e1000 driver and UDP stack" >&2; fi
    : > "$console"
    deploy/pollnet-guest --net tap --driver "$drv" --timeout 900 run -- "$(guest_script "$prefix")" \
        > /dev/null 2> "$console" &
    local guest=$!
    while kill -0 "$guest" 2>/dev/null; do
        if [ -z "$sps" ] && grep -aq BENCH-READY "$console"; then
            ip netns exec "$NS" sockperf server -i 10.0.2.2 -p 11111 > /dev/null 2>&1 &
            sps=$!
        fi
        while read -r line; do
            rate=${line##*IPERF-READY }
            rate=${rate%%[!0-9]*}
            echo "   iperf at $rate datagrams/s" >&2
            local d0
            d0=$(tap_dropped)
            ip netns exec "$NS" iperf -c 10.0.2.15 -u -p 5001 -l 64 -b "${rate}pps" \
                -t "$RATE_SECONDS" > "$tmp/$drv.iperf.$rate" 2>&1 || true
            sleep 0.5
            echo "TAP-DROPPED $(( $(tap_dropped) - d0 ))" >> "$tmp/$drv.iperf.$rate"
            handled=$((handled + 1))
        done < <(grep -a "IPERF-READY" "$console" | tail -n +$((handled + 1)))
        if [ "$tp" = 0 ] && grep -aq TP-READY "$console"; then
            echo "   sockperf throughput" >&2
            local d0
            d0=$(tap_dropped)
            ip netns exec "$NS" sockperf throughput -i 10.0.2.15 -p 11112 -t "$TP_SECONDS" \
                -m 64 --mps max > "$tmp/$drv.tp" 2>&1 || true
            sleep 0.5
            echo "TAP-DROPPED $(( $(tap_dropped) - d0 ))" >> "$tmp/$drv.tp"
            tp=1
        fi
        grep -aq BENCH-DONE "$console" && break
        sleep 0.2
    done
    wait "$guest" || { echo "guest-preload: the $drv guest failed; its console: $console" >&2; exit 1; }
    [ -z "$sps" ] || kill "$sps" 2>/dev/null || true
    grep -a -E "PP .*(percentile 50|Valid Duration)|IPERF-COUNTS|TP-COUNTS" "$console" |
        sed 's/.*\[guest\] //' | tr -d '\r' >&2
}

for drv in e1000 kernel; do
    run_one "$drv"
done
python3 - "$tmp" "$OUT" "$RATE_SECONDS" <<'PY'
import json, re, subprocess, sys, time
tmp, out, rate_s = sys.argv[1], sys.argv[2], float(sys.argv[3])
def tapdrop(text):
    m = re.search(r"^TAP-DROPPED (-?\d+)", text, re.M)
    return int(m.group(1)) if m else None
res = {"benchmark": "preload-guest",
       "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip(),
       "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
       "setup": "QEMU TCG -cpu max -smp 2, e1000, -netdev tap in a namespace whose kernel is the peer "
                "(10.0.2.2); the guest's program pinned to vCPU 0, pollnet's lcore on vCPU 1",
       "sides": {}}
for drv, name in (("e1000", "pollnet-run"), ("kernel", "kernel")):
    con = open("%s/%s.console" % (tmp, drv), errors="replace").read().replace("\r", "")
    con = "\n".join(l.split("[guest] ", 1)[-1] for l in con.splitlines())
    q = {k: float(v) for k, v in re.findall(r"^PP .*percentile (\d+\.\d+) =\s*([\d.]+)", con, re.M)}
    m = re.search(r"^PP .*\[Valid Duration\] RunTime=([\d.]+) sec; SentMessages=(\d+); "
                  r"ReceivedMessages=(\d+)", con, re.M)
    if not m or "50.000" not in q:
        raise SystemExit("%s: sockperf ping-pong failed:\n%s" % (drv, con[-3000:]))
    d = {"pingpong": {"p50_us": q["50.000"], "p99_us": q["99.000"], "p999_us": q.get("99.900"),
                      "round_trips": int(m.group(3)),
                      "round_trips_per_s": round(int(m.group(3)) / float(m.group(1)))},
         "iperf": []}
    counts = {int(r): (int(a), int(b)) for r, a, b in re.findall(r"^IPERF-COUNTS (\d+) (\d+) (\d+)", con, re.M)}
    for rate in sorted(counts):
        text = open("%s/%s.iperf.%d" % (tmp, drv, rate), errors="replace").read()
        rep = re.search(r"Server Report:.*?(\d+)/\s*(\d+) \(", text, re.S)
        sent = re.search(r"Sent (\d+) datagrams", text)
        row = {"offered_per_s": rate, "sent": int(sent.group(1)) if sent else None,
               "lost": int(rep.group(1)) if rep else None,
               "total": int(rep.group(2)) if rep else None,
               "received_by_stack": counts[rate][0], "dropped_by_stack": counts[rate][1],
               "dropped_at_tap": tapdrop(text)}
        row["achieved_per_s"] = round(row["sent"] / rate_s) if row["sent"] else None
        d["iperf"].append(row)
    ok = [r for r in d["iperf"] if r["lost"] == 0 and r["total"]]
    d["iperf_best_zero_loss_per_s"] = max((r["achieved_per_s"] for r in ok), default=0)
    text = open("%s/%s.tp" % (tmp, drv), errors="replace").read()
    m = re.search(r"Total of (\d+) messages sent in ([\d.]+) sec", text)
    c = re.search(r"^TP-COUNTS (\d+) (\d+)", con, re.M)
    if m and c:
        sent, secs = int(m.group(1)), float(m.group(2))
        d["throughput"] = {"sent": sent, "seconds": secs, "offered_per_s": round(sent / secs),
                           "received": int(c.group(1)), "received_per_s": round(int(c.group(1)) / secs),
                           "lost_counted": int(c.group(2)), "dropped_at_tap": tapdrop(text)}
    res["sides"][name] = d
p, k = res["sides"]["pollnet-run"], res["sides"]["kernel"]
def ratio(a, b):
    return round(a / b, 2) if a and b else None
res["ratios"] = {
    "p50_pollnet_over_kernel": ratio(p["pingpong"]["p50_us"], k["pingpong"]["p50_us"]),
    "p99_pollnet_over_kernel": ratio(p["pingpong"]["p99_us"], k["pingpong"]["p99_us"]),
    "iperf_zero_loss_pollnet_over_kernel": ratio(p["iperf_best_zero_loss_per_s"], k["iperf_best_zero_loss_per_s"]),
    "tp_received_pollnet_over_kernel": ratio(p.get("throughput", {}).get("received_per_s"),
                                             k.get("throughput", {}).get("received_per_s")),
}
json.dump(res, open(out, "w"), indent=2)
open(out, "a").write("\n")
print(json.dumps(res["ratios"]))
PY
rm -rf "$tmp"
