#!/usr/bin/env bash
# Benchmarks.  Not tests: nothing here passes or fails on a number.
#
#   bench/run.sh stack     instructions per frame through each stack path
#                          (callgrind, exact and repeatable), with DPDK's own
#                          checksum and rte_hash lookup measured alongside;
#                          writes bench/results/stack.json and
#                          docs/img/stack.png
#   bench/run.sh shm-sockets
#                          datagrams per second (per CPU second) and round
#                          trips between two processes: libpollnet through
#                          pollnet's local delivery vs Linux UDP sockets on
#                          loopback; writes bench/results/shm-sockets.json and
#                          docs/img/shm-sockets.png
#   bench/run.sh guest-pmd UDP frames per second in and out of the QEMU
#                          guest's e1000, for pollnet on its own driver, on
#                          DPDK's net_e1000_em, and for Linux's e1000 driver;
#                          writes bench/results/guest-pmd.json and
#                          docs/img/guest-pmd.png
#   bench/run.sh preload   unmodified programs (sockperf, iperf 2) under
#                          pollnet-run vs on the Linux kernel, side by side:
#                          round trips (p50/p99) and datagrams per second at
#                          0 loss, on this host (a veth) and in the QEMU
#                          guest (pollnet's own e1000 driver vs Linux's, on
#                          a tap); writes bench/results/preload.json,
#                          bench/results/preload-guest.json and
#                          docs/img/preload.png, docs/img/preload-guest.png
#                          (preload-host, preload-guest: one of the two)
#   bench/run.sh servers   a UDP echo server three ways: pollnet's echo
#                          service, pollnet-echo (libpollnet), the kernel
#                          (recvmmsg/sendmmsg), under sockperf ping-pong,
#                          iperf -u at rising rates and trafgen, with every
#                          lost datagram looked for in a counter and the CPU
#                          each side used (host, veth); writes
#                          bench/results/servers.json and docs/img/servers.png;
#                          then servers-cpu and servers-dns
#   bench/run.sh servers-cpu
#                          the whole machine's CPU per echoed datagram at
#                          10k, 50k, 100k/s and trafgen's rate, each
#                          generator's own measured alone first and taken
#                          off: the kernel, pollnet on net_af_packet, and
#                          pollnet on xdp: beside the kernel (napping, or
#                          asleep on its AF_XDP socket); writes
#                          bench/results/servers-cpu.json and
#                          docs/img/servers-cpu.png
#   bench/run.sh servers-dns
#                          Debian's unbound under pollnet-run vs on the
#                          kernel, dnsperf's qps at 0 loss and round trips
#                          (host, veth); writes bench/results/servers-dns.json
#                          and docs/img/servers-dns.png
#   bench/run.sh servers-guest
#                          the same servers in the QEMU guest on a tap
#                          (pollnet's e1000 driver vs Linux's driver and
#                          stack); writes bench/results/servers-guest.json
#                          and docs/img/servers-guest.png
#   bench/run.sh exception the kernel's TCP through pollnet's exception path
#                          (iperf 2 to a kernel server on pollnet's address,
#                          a tap behind pollnet on a veth) against the kernel
#                          alone on the veth, and in the QEMU guest (its
#                          kernel on its own e1000 vs behind pollnet's, on
#                          net_tap and on vhost-net); writes
#                          bench/results/exception.json and
#                          bench/results/exception-guest.json
#   bench/run.sh lcores    one data-plane lcore vs two (each with its own
#                          queue: net_af_packet's fanout hash), two
#                          pollnet-echo processes under a trafgen flood of
#                          four flows; writes bench/results/lcores.json
#   bench/run.sh plot      redraw the plots and docs/PERFORMANCE.md's tables
#                          from the committed results
#   bench/run.sh --help    this text
#
# Each installs the Debian packages it needs (deploy/packages.sh) and builds
# what it runs; the guest benchmark boots QEMU (deploy/pollnet-guest).
# Results are JSON under bench/results/, one file per benchmark, with the
# commit, the machine and the method; docs/PERFORMANCE.md is generated from
# them (bench/perf_doc.py).
set -euo pipefail
cd "$(dirname "$0")/.."
. deploy/packages.sh

stack() {
    pn_install $PN_PKGS_BUILD $PN_PKGS_RUN $PN_PKGS_BENCH
    [ -d build ] || meson setup build
    # a build set up before valgrind was installed has no stack_bench yet
    ninja -C build -t targets all | grep '^bench/stack_bench:' >/dev/null || meson setup --reconfigure build
    ninja -C build bench/stack_bench
    local bin=build/bench/stack_bench out=bench/results/stack.json
    local cases="empty udp_rx icmp_echo arp_reply drop_ip_csum udp_tx udp_tx_offload summarize summary_log publish format
                 shm_rx shm_tx shm_local lookup_pollnet lookup_rte_hash cksum_1472_pollnet cksum_1472_dpdk"
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
set rmargin 10
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

shm_sockets() {
    pn_install $PN_PKGS_BUILD $PN_PKGS_RUN $PN_PKGS_BENCH
    [ -d build ] || meson setup build
    ninja -C build
    mkdir -p /dev/hugepages
    mountpoint -q /dev/hugepages || mount -t hugetlbfs nodev /dev/hugepages
    [ "$(cat /proc/sys/vm/nr_hugepages)" -ge 256 ] || echo 512 > /proc/sys/vm/nr_hugepages
    python3 bench/shm_sockets.py build bench/results/shm-sockets.json
    plot_shm bench/results/shm-sockets.json
}

plot_shm() {
    local json=$1 rate rtt
    rate=$(mktemp); rtt=$(mktemp)
    python3 - "$json" "$rate" "$rtt" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
with open(sys.argv[2], "w") as f:
    for size in (64, 1472):
        row = [d["stream"]["%s/%d" % (k, size)]["datagrams_per_cpu_s"] / 1e6
               for k in ("pollnet", "kernel", "kernel-mmsg")]
        f.write('"%d B" %s\n' % (size, " ".join("%.3f" % v for v in row)))
with open(sys.argv[3], "w") as f:
    for k, label in (("pollnet", "libpollnet\\n(one core)"), ("kernel", "kernel\\n(one core)"),
                     ("pollnet-own-cores", "libpollnet\\n(own cores)"),
                     ("kernel-own-cores", "kernel\\n(own cores)")):
        r = d["rtt"][k]
        f.write('"%s" %.2f %.2f\n' % (label, r["p50_ns"] / 1e3, r["p99_ns"] / 1e3))
PY
    gnuplot <<GP
set terminal png size 1000,420 font ",10"
set output "docs/img/shm-sockets.png"
set multiplot layout 1,2 title "two processes exchanging UDP datagrams (higher/lower is better)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.7 border -1
set grid ytics
set yrange [0:*]
set bmargin 4
set title "million datagrams per CPU-second\n(all processes; pollnet's lcore included)"
set key top right
plot "$rate" using 2:xtic(1) title "libpollnet" lc rgb "#3a6ea5",      "" using 3 title "kernel send/recv" lc rgb "#c0504d",      "" using 4 title "kernel sendmmsg/recvmmsg" lc rgb "#9bbb59"
set title "round trip, 64 B (microseconds, log scale)"
set logscale y
set yrange [0.3:300]
set bmargin 4
plot "$rtt" using 2:xtic(1) title "p50" lc rgb "#3a6ea5", "" using 3 title "p99" lc rgb "#8064a2"
unset multiplot
GP
    rm -f "$rate" "$rtt"
    echo "wrote docs/img/shm-sockets.png" >&2
}

guest_pmd() {
    pn_install $PN_PKGS_BUILD $PN_PKGS_RUN $PN_PKGS_BENCH
    [ -d build ] || meson setup build
    ninja -C build
    bench/guest_pmd.sh bench/results/guest-pmd.json
    plot_guest_pmd bench/results/guest-pmd.json
}

plot_guest_pmd() {
    local dat
    dat=$(mktemp)
    python3 - "$1" > "$dat" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))["drivers"]
rows = [("TX 64 B", lambda v: v["tx"]["64"]["frames_per_s"]),
        ("TX 1472 B", lambda v: v["tx"]["1472"]["frames_per_s"]),
        ("RX 64 B (best)", lambda v: v["rx_best"]["64"]),
        ("RX 1472 B (best)", lambda v: v["rx_best"]["1472"])]
for label, f in rows:
    print('"%s" %s' % (label, " ".join("%.1f" % (f(d[k]) / 1e3) for k in ("e1000", "dpdk", "kernel"))))
PY
    gnuplot <<GP
set terminal png size 900,420 font ",10" noenhanced
set output "docs/img/guest-pmd.png"
set title "QEMU guest e1000 under TCG, -netdev socket: thousand UDP frames per second (higher is better)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.7 border -1
set grid ytics
set yrange [0:*]
set key top right
plot "$dat" using 2:xtic(1) title "pollnet, own e1000 driver" lc rgb "#3a6ea5", \
     "" using 3 title "pollnet, DPDK net_e1000_em" lc rgb "#9bbb59", \
     "" using 4 title "Linux e1000 + UDP socket" lc rgb "#c0504d"
GP
    rm -f "$dat"
    echo "wrote docs/img/guest-pmd.png" >&2
}

preload_host() {
    pn_install $PN_PKGS_BUILD $PN_PKGS_RUN $PN_PKGS_TEST $PN_PKGS_BENCH
    [ -d build ] || meson setup build
    ninja -C build
    python3 bench/preload.py build bench/results/preload.json
    plot_preload bench/results/preload.json docs/img/preload.png "host, veth, 64 B"
}

preload_guest() {
    pn_install $PN_PKGS_BUILD $PN_PKGS_RUN $PN_PKGS_GUEST $PN_PKGS_BENCH
    [ -d build ] || meson setup build
    ninja -C build
    bench/guest_preload.sh bench/results/preload-guest.json
    plot_preload bench/results/preload-guest.json docs/img/preload-guest.png \
        "QEMU guest under TCG: pollnet's e1000 driver vs Linux's, tap, 64 B"
}

plot_preload() {   # RESULTS PNG WHERE
    local lat rate
    lat=$(mktemp) rate=$(mktemp)
    python3 - "$1" "$lat" "$rate" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
if "sides" in d:    # the guest's file
    P, K = d["sides"]["pollnet-run"], d["sides"]["kernel"]
else:
    P, K = d["pollnet_run"], d["kernel"]
with open(sys.argv[2], "w") as f:
    for q in ("p50", "p99"):
        f.write('"%s" %.2f %.2f\n' % (q, P["pingpong"][q + "_us"], K["pingpong"][q + "_us"]))
with open(sys.argv[3], "w") as f:
    f.write('"iperf, 0 loss" %.1f %.1f\n' % (P["iperf_best_zero_loss_per_s"] / 1e3,
                                               K["iperf_best_zero_loss_per_s"] / 1e3))
    f.write('"sockperf tp" %.1f %.1f\n' % (P["throughput"]["received_per_s"] / 1e3,
                                                    K["throughput"]["received_per_s"] / 1e3))
PY
    gnuplot <<GP
set terminal png size 900,400 font ",10" noenhanced
set output "$2"
set multiplot layout 1,2 title "The same programs under pollnet-run and on the Linux kernel ($3)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.7 border -1
set grid ytics
set yrange [0:*]
set key top left
set title "sockperf ping-pong round trip, us, log scale (lower is better)"
set logscale y
set yrange [10:*]
plot "$lat" using 2:xtic(1) title "pollnet-run" lc rgb "#3a6ea5", "" using 3 title "kernel" lc rgb "#c0504d"
unset logscale y
set yrange [0:*]
set title "thousand datagrams/s received (higher is better)"
plot "$rate" using 2:xtic(1) title "pollnet-run" lc rgb "#3a6ea5", "" using 3 title "kernel" lc rgb "#c0504d"
unset multiplot
GP
    rm -f "$lat" "$rate"
    echo "wrote $2" >&2
}

servers() {
    pn_install $PN_PKGS_BUILD $PN_PKGS_RUN $PN_PKGS_TEST $PN_PKGS_BENCH
    [ -d build ] || meson setup build
    ninja -C build
    python3 bench/servers.py build bench/results/servers.json
    plot_servers bench/results/servers.json docs/img/servers.png "host, veth"
    servers_cpu
    servers_dns
}

# CPU per echoed datagram, beside the kernel (bench/servers_cpu.py)
servers_cpu() {
    pn_install $PN_PKGS_BUILD $PN_PKGS_RUN $PN_PKGS_TEST $PN_PKGS_BENCH
    [ -d build ] || meson setup build
    ninja -C build
    python3 bench/servers_cpu.py build bench/results/servers-cpu.json
    plot_servers_cpu bench/results/servers-cpu.json docs/img/servers-cpu.png
}

# one data-plane lcore vs two (bench/lcores.py)
lcores() {
    pn_install $PN_PKGS_BUILD $PN_PKGS_RUN $PN_PKGS_TEST $PN_PKGS_BENCH
    [ -d build ] || meson setup build
    ninja -C build
    python3 bench/lcores.py build bench/results/lcores.json
    plot_lcores bench/results/lcores.json docs/img/lcores.png
}

plot_lcores() {   # JSON PNG
    python3 - "$1" "$2" <<'PY'
import json, subprocess, sys
C = json.load(open(sys.argv[1]))["cases"]
places = []
for k in C:
    if k.split(", ", 1)[1] not in places:
        places.append(k.split(", ", 1)[1])
ports = ["afp", "xdp"]
data = "".join('"%s" %s\n' % (pl, " ".join(str(C.get(p + ", " + pl, {}).get("echoed_per_s", 0))
                                          for p in ports)) for pl in places)
cols = ", ".join('"-" using %d%s title "%s"' % (i + 2, ":xtic(1)" if i == 0 else "",
                                                "net_af_packet" if p == "afp" else "xdp:")
                 for i, p in enumerate(ports))
gp = """set terminal pngcairo size 900,400 font ",10" noenhanced
set output "%s"
set style data histograms
set style fill solid 0.8 border -1
set boxwidth 0.9
set yrange [0:*]
set key outside right
set ylabel "datagrams echoed per second"
set title "host, 2 cores, trafgen on cpu 0: two pollnet-echo, one lcore or two (higher is better)"
plot %s
%s""" % (sys.argv[2], cols, "".join(data + "e\n" for _ in ports))
subprocess.run(["gnuplot"], input=gp, text=True, check=True)
print("wrote", sys.argv[2], file=sys.stderr)
PY
}

plot_servers_cpu() {   # JSON PNG
    python3 - "$1" "$2" <<'PY'
import json, subprocess, sys
R = json.load(open(sys.argv[1]))
S = R["servers"]
names = [k for k in ("kernel", "afp-echo", "xdp-echo", "xdp-echo-interrupt", "xdp-echo-moderated",
                     "afp-libpollnet", "xdp-libpollnet", "xdp-libpollnet-interrupt",
                     "xdp-libpollnet-moderated") if k in S]
phases = [p for p in S["kernel"] if p not in ("rtt", "idle")]
data = "".join("%s %s\n" % (p, " ".join(
    str(S[k][p]["cpu_us_per_echo"] or 0) for k in names)) for p in phases)
cols = ", ".join('"-" using %d%s title "%s"' % (i + 2, ":xtic(1)" if i == 0 else "", k)
                 for i, k in enumerate(names))
gp = """set terminal pngcairo size 1000,420 font ",10" noenhanced
set output "%s"
set style data histograms
set style fill solid 0.8 border -1
set boxwidth 0.9
set logscale y
set yrange [0.1:300]
set key outside right
set ylabel "us of CPU (all cores) per echoed datagram"
set title "host, veth, 64 B: the whole machine's CPU per echo, generator's own taken off (lower is better)"
plot %s
%s""" % (sys.argv[2], cols, "".join(data + "e\n" for _ in names))
subprocess.run(["gnuplot"], input=gp, text=True, check=True)
print("wrote", sys.argv[2], file=sys.stderr)
PY
}

# the exception path's cost to the kernel's TCP (bench/exception.py)
exception() {
    pn_install $PN_PKGS_BUILD $PN_PKGS_RUN $PN_PKGS_TEST $PN_PKGS_BENCH
    [ -d build ] || meson setup build
    ninja -C build
    python3 bench/exception.py build bench/results/exception.json
    pn_install $PN_PKGS_GUEST
    python3 bench/exception.py --guest build bench/results/exception-guest.json
}

# unbound under pollnet-run vs on the kernel (bench/servers_dns.py)
servers_dns() {
    pn_install $PN_PKGS_BUILD $PN_PKGS_RUN $PN_PKGS_TEST $PN_PKGS_BENCH
    [ -d build ] || meson setup build
    ninja -C build
    python3 bench/servers_dns.py build bench/results/servers-dns.json
    python3 - bench/results/servers-dns.json docs/img/servers-dns.png <<'PY'
import json, subprocess, sys
R = json.load(open(sys.argv[1]))
P, K = R["pollnet-run"], R["kernel"]
data = "kqps_at_0_loss %s %s\np50_us %s %s\np99_us %s %s\n" % (
    (P["qps_zero_loss"] or 0) / 1000, (K["qps_zero_loss"] or 0) / 1000,
    P["latency"]["p50_us"], K["latency"]["p50_us"], P["latency"]["p99_us"], K["latency"]["p99_us"])
gp = """set terminal pngcairo size 800,400 font ",10" noenhanced
set output "%s"
set yrange [0:*]
set style data histograms
set style fill solid 0.8 border -1
set boxwidth 0.9
set key top left
set title "unbound, host veth: thousand queries/s at 0 loss; round trip us (lower is better)"
plot "-" using 2:xtic(1) title "pollnet-run" lc rgb "#3a6ea5", "-" using 3 title "kernel" lc rgb "#c0504d"
%se
%se
""" % (sys.argv[2], data, data)
subprocess.run(["gnuplot"], input=gp, text=True, check=True)
print("wrote", sys.argv[2], file=sys.stderr)
PY
}

servers_guest() {
    pn_install $PN_PKGS_BUILD $PN_PKGS_RUN $PN_PKGS_TEST $PN_PKGS_BENCH $PN_PKGS_GUEST
    [ -d build ] || meson setup build
    ninja -C build
    python3 bench/servers.py --guest build bench/results/servers-guest.json
    plot_servers bench/results/servers-guest.json docs/img/servers-guest.png \
        "QEMU guest under TCG, tap: pollnet's e1000 driver vs Linux's"
    servers_dns_guest
}

servers_dns_guest() {
    pn_install $PN_PKGS_BUILD $PN_PKGS_RUN $PN_PKGS_TEST $PN_PKGS_BENCH $PN_PKGS_GUEST
    [ -d build ] || meson setup build
    ninja -C build
    python3 bench/servers_dns.py --guest build bench/results/servers-dns-guest.json
}

plot_servers() {
    local lat rate
    lat=$(mktemp) rate=$(mktemp)
    python3 - "$1" "$lat" "$rate" <<'PY'
import json, sys
R = json.load(open(sys.argv[1]))
S, L = R["servers"], R.get("servers_1472", {})
names = [("echo", "echo svc"), ("libpollnet", "1/call"),
         ("libpollnet-batch", "32/call"), ("libpollnet-zc", "32, 0-copy"),
         ("libpollnet-moderated", "32 moder."),
         ("echo-interrupt", "echo, irq"), ("libpollnet-interrupt", "32, irq"),
         ("kernel", "kernel")]
with open(sys.argv[2], "w") as f:
    for k, label in names:
        if k in S:
            f.write('"%s" %.2f %.2f\n' % (label, S[k]["pingpong"]["p50_us"], S[k]["pingpong"]["p99_us"]))
with open(sys.argv[3], "w") as f:
    for k, label in names:
        if k not in S:
            continue
        f.write('"%s" %.1f %.1f %.1f\n' % (label, S[k]["iperf_best_zero_loss_per_s"] / 1e3,
                                           S[k]["trafgen"]["echoed_per_s"] / 1e3,
                                           L[k]["iperf_best_zero_loss_per_s"] / 1e3
                                           if k in L else 0))
PY
    gnuplot <<GP
set terminal png size 1100,460 font ",10" noenhanced
set output "$2"
set multiplot layout 1,2 title "A UDP echo server: pollnet's echo service, pollnet-echo, the kernel ($3, 64 B unless said)\n(1 or 32 per call; moder.: wake-ups moderated; irq: the idle lcore sleeps on the interrupt)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.7 border -1
set grid ytics
set key below
set xtics font ",8"
set title "round trip, one datagram in flight, us (lower is better)"
set yrange [0:*]
plot "$lat" using 2:xtic(1) title "p50" lc rgb "#3a6ea5", "" using 3 title "p99" lc rgb "#c0504d"
set title "thousand datagrams/s echoed (higher is better)"
plot "$rate" using 2:xtic(1) title "iperf, highest rate at 0 loss" lc rgb "#3a6ea5", "" using 3 title "trafgen" lc rgb "#9bbb59", "" using 4 title "iperf, 1472 B, at 0 loss" lc rgb "#8064a2"
unset multiplot
GP
    rm -f "$lat" "$rate"
    echo "wrote $2" >&2
}

case "${1:-}" in
preload) preload_host; preload_guest; python3 bench/perf_doc.py ;;
preload-host) preload_host; python3 bench/perf_doc.py ;;
preload-guest) preload_guest; python3 bench/perf_doc.py ;;
guest-pmd) guest_pmd; python3 bench/perf_doc.py ;;
plot)  # redraw every plot and the page from the committed results
    plot_stack bench/results/stack.json; plot_shm bench/results/shm-sockets.json
    plot_guest_pmd bench/results/guest-pmd.json
    [ ! -f bench/results/preload.json ] ||
        plot_preload bench/results/preload.json docs/img/preload.png "host, veth, 64 B"
    [ ! -f bench/results/preload-guest.json ] ||
        plot_preload bench/results/preload-guest.json docs/img/preload-guest.png \
            "QEMU guest under TCG: pollnet's e1000 driver vs Linux's, tap, 64 B"
    [ ! -f bench/results/servers.json ] ||
        plot_servers bench/results/servers.json docs/img/servers.png "host, veth"
    [ ! -f bench/results/servers-cpu.json ] ||
        plot_servers_cpu bench/results/servers-cpu.json docs/img/servers-cpu.png
    [ ! -f bench/results/lcores.json ] ||
        plot_lcores bench/results/lcores.json docs/img/lcores.png
    [ ! -f bench/results/servers-guest.json ] ||
        plot_servers bench/results/servers-guest.json docs/img/servers-guest.png \
            "QEMU guest under TCG, tap: pollnet's e1000 driver vs Linux's"
    python3 bench/perf_doc.py ;;
stack) stack; python3 bench/perf_doc.py ;;
servers) servers; python3 bench/perf_doc.py ;;
servers-dns) servers_dns; python3 bench/perf_doc.py ;;
servers-cpu) servers_cpu; python3 bench/perf_doc.py ;;
lcores) lcores; python3 bench/perf_doc.py ;;
exception) exception; python3 bench/perf_doc.py ;;
servers-dns-guest) servers_dns_guest; python3 bench/perf_doc.py ;;
servers-guest) servers_guest; python3 bench/perf_doc.py ;;
shm-sockets) shm_sockets; python3 bench/perf_doc.py ;;
-h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
*) echo "usage: $0 stack|shm-sockets|guest-pmd|preload|preload-host|preload-guest|servers|servers-cpu|servers-dns|servers-guest|exception|lcores|plot (--help says more)" >&2; exit 2 ;;
esac
