#!/usr/bin/env bash
# bench/run.sh guest-pmd: the guest's NIC, three ways, in one run.
#
#   e1000   pollnet on its own driver (pmd/e1000.c)
#   dpdk    pollnet on DPDK's net_e1000_em through the ethdev adapter
#   kernel  Linux's e1000 driver, with a UDP socket program
#
# The guest is on -netdev socket (one frame per UDP datagram on loopback);
# bench/frame_peer plays 10.0.2.2: it answers ARP and counts what the guest
# transmits (TX: the guest's program sends N datagrams as fast as it can),
# and it feeds paced frames while the guest's program counts what it
# receives (RX, at several rates).  The same programs (bench/shm_bench blast
# and sink, on libpollnet or on a kernel socket) run in every case.
# Writes bench/results/guest-pmd.json.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${POLLNET_BUILD:-build}
OUT=${1:-bench/results/guest-pmd.json}
PEER=$BUILD/bench/frame_peer
QEMU_PORT=17100 HOST_PORT=17101
N64=200000 N1472=60000 RX_SECONDS=3
RX_RATES_64="50000 100000 150000 200000"
RX_RATES_1472="25000 50000 100000"
tmp=$(mktemp -d /tmp/pollnet-guest-pmd.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true' EXIT

guest_script() {   # $1: the transport argument for shm_bench
    local k=$1
    # (a few datagrams and a pause first: 10.0.2.2 must be resolved by ARP,
    # or the blast's first datagrams wait for it and the rest are dropped)
    cat <<GUEST
shm_bench blast $k 10.0.2.2 9 10 64 > /dev/null; sleep 1.5
shm_bench blast $k 10.0.2.2 9 $N64 64 | sed 's/^/TX-RESULT 64 /'
sleep 2
shm_bench blast $k 10.0.2.2 9 $N1472 1472 | sed 's/^/TX-RESULT 1472 /'
sleep 2
for sr in $(for r in $RX_RATES_64; do printf '64:%s ' "$r"; done) $(for r in $RX_RATES_1472; do printf '1472:%s ' "$r"; done); do
    size=\${sr%%:*} rate=\${sr#*:}
    shm_bench sink $k 9 $RX_SECONDS > /tmp/sink.out &
    until grep -q ready /tmp/sink.out 2>/dev/null; do sleep 0.1; done
    echo "RX-READY \$size \$rate"
    wait
    echo "RX-RESULT \$size \$rate \$(tail -1 /tmp/sink.out)"
done
echo BENCH-DONE
if pidof pollnet > /dev/null; then
    kill -USR1 \$(pidof pollnet); sleep 2
    grep -E "port\\.(drv_|rx_packets|tx_packets|rx_missed)|stack\\.(tx_drop\\.(port_tx_full|arp_queue_full)|rx_drop\\.udp_ring_full)" /tmp/pollnet.log | tail -10 | sed 's/^/COUNTER /'
fi
GUEST
}

run_one() {   # $1: driver
    local drv=$1 k console=$tmp/$1.console handled=0 line size rate
    [ "$drv" = kernel ] && k=kernel || k="pollnet /run/pollnet/pollnet.sock"
    echo "== $drv" >&2
    "$PEER" sink "$QEMU_PORT" "$HOST_PORT" 900 > "$tmp/$drv.sink" &
    local sink=$!
    : > "$console"
    until grep -q ready "$tmp/$drv.sink"; do sleep 0.1; done
    deploy/pollnet-guest --net socket --driver "$drv" --timeout 600 run -- "$(guest_script "$k")" \
        > /dev/null 2> "$console" &
    local guest=$!
    while kill -0 "$guest" 2>/dev/null; do
        # each RX phase the guest announces gets its paced frames
        while read -r line; do
            read -r size rate <<< "${line#*RX-READY }"
            echo "   RX $size B at $rate frames/s" >&2
            "$PEER" send "$QEMU_PORT" "$rate" "$RX_SECONDS" "$size" >> "$tmp/$drv.sent"
            handled=$((handled + 1))
        done < <(grep -a "RX-READY" "$console" | tail -n +$((handled + 1)))
        grep -aq BENCH-DONE "$console" && break
        sleep 0.2
    done
    wait "$guest" || { echo "guest-pmd: the $drv guest failed; its console: $console" >&2; exit 1; }
    kill -TERM "$sink"
    wait "$sink" || true
    grep -a -E "TX-RESULT|RX-RESULT|COUNTER" "$console" | sed 's/.*\[guest\] //' | tr -d '\r' >&2
}

for drv in e1000 dpdk kernel; do
    run_one "$drv"
done
python3 - "$tmp" "$OUT" <<'PY'
import json, re, subprocess, sys, time
tmp, out = sys.argv[1], sys.argv[2]
res = {"benchmark": "guest-pmd",
       "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip(),
       "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
       "setup": "QEMU 7.2 TCG -cpu max -smp 2, e1000, -netdev socket over loopback; host peer bench/frame_peer",
       "drivers": {}}
for drv in ("e1000", "dpdk", "kernel"):
    con = open("%s/%s.console" % (tmp, drv), errors="replace").read().replace("\r", "")
    sink = [json.loads(l) for l in open("%s/%s.sink" % (tmp, drv)) if l.startswith("{")]
    d = {"tx": {}, "rx": {}, "counters": {}}
    tx_phases = [p for p in sink if p["frames"] > 1000][:2]
    for size, ph, m in zip((64, 1472), tx_phases, re.findall(r"TX-RESULT (\d+) (\{.*\})", con)):
        g = json.loads(m[1])
        d["tx"][size] = {"guest_sent": g["sent"], "guest_seconds": g["seconds"],
                         "wire_frames": ph["frames"], "wire_seconds": ph["seconds"],
                         "frames_per_s": round(ph["frames"] / ph["seconds"]) if ph["seconds"] > 0 else None}
    for size, rate, js in re.findall(r"RX-RESULT (\d+) (\d+) (\{.*\})", con):
        g = json.loads(js)
        d["rx"].setdefault(size, {})[rate] = {
            "received": g["received"], "seconds": g["seconds"],
            "frames_per_s": round(g["received"] / g["seconds"]) if g["seconds"] > 0 else 0}
    for name, v in re.findall(r"COUNTER\s+(\S+)\s+(\d+)", con):
        d["counters"][name] = int(v)
    res["drivers"][drv] = d
# best received rate at any offered rate
for drv, d in res["drivers"].items():
    d["rx_best"] = {s: max((r["frames_per_s"] for r in v.values()), default=0) for s, v in d["rx"].items()}
r = res["drivers"]
def ratio(a, b):
    return round(a / b, 2) if a and b else None
res["ratios"] = {
    "tx64_e1000_over_dpdk": ratio(r["e1000"]["tx"].get(64, {}).get("frames_per_s"), r["dpdk"]["tx"].get(64, {}).get("frames_per_s")),
    "tx64_e1000_over_kernel": ratio(r["e1000"]["tx"].get(64, {}).get("frames_per_s"), r["kernel"]["tx"].get(64, {}).get("frames_per_s")),
    "rx64_e1000_over_dpdk": ratio(r["e1000"]["rx_best"].get("64"), r["dpdk"]["rx_best"].get("64")),
    "rx64_e1000_over_kernel": ratio(r["e1000"]["rx_best"].get("64"), r["kernel"]["rx_best"].get("64")),
}
c = r["e1000"]["counters"]
if c.get("port.tx_packets"):
    res["ratios"]["e1000_tail_writes_per_packet"] = round(
        (c.get("port.drv_tx_tail_writes", 0) + c.get("port.drv_rx_tail_writes", 0)) /
        (c["port.tx_packets"] + c.get("port.rx_packets", 0)), 4)
json.dump(res, open(out, "w"), indent=2)
open(out, "a").write("\n")
print(json.dumps(res["ratios"]))
PY
rm -rf "$tmp"
