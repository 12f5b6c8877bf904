#!/usr/bin/python3
"""Write docs/PERFORMANCE.md from the committed results (bench/results/*.json),
so that the numbers in it are the numbers measured.  Run by bench/run.sh
after each benchmark.   usage: perf_doc.py [OUT]"""
import json
import os
import sys

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "docs", "PERFORMANCE.md")
st = json.load(open(os.path.join(root, "bench", "results", "stack.json")))
sh = json.load(open(os.path.join(root, "bench", "results", "shm-sockets.json")))
c, S, R, ratio = st["cases"], sh["stream"], sh["rtt"], sh["ratios"]
gp_path = os.path.join(root, "bench", "results", "guest-pmd.json")
gp = json.load(open(gp_path)) if os.path.exists(gp_path) else None
pl_path = os.path.join(root, "bench", "results", "preload.json")
pl = json.load(open(pl_path)) if os.path.exists(pl_path) else None
plg_path = os.path.join(root, "bench", "results", "preload-guest.json")
plg = json.load(open(plg_path)) if os.path.exists(plg_path) else None
dns_path = os.path.join(root, "bench", "results", "servers-dns.json")
dns = json.load(open(dns_path)) if os.path.exists(dns_path) else None
dnsg_path = os.path.join(root, "bench", "results", "servers-dns-guest.json")
dnsg = json.load(open(dnsg_path)) if os.path.exists(dnsg_path) else None
exc_path = os.path.join(root, "bench", "results", "exception.json")
exc = json.load(open(exc_path)) if os.path.exists(exc_path) else None
excg_path = os.path.join(root, "bench", "results", "exception-guest.json")
excg = json.load(open(excg_path)) if os.path.exists(excg_path) else None
lcores_path = os.path.join(root, "bench", "results", "lcores.json")
lcores = json.load(open(lcores_path)) if os.path.exists(lcores_path) else None
cpu_path = os.path.join(root, "bench", "results", "servers-cpu.json")
cpu = json.load(open(cpu_path)) if os.path.exists(cpu_path) else None
sv_path = os.path.join(root, "bench", "results", "servers.json")
sv = json.load(open(sv_path)) if os.path.exists(sv_path) else None
FIRST = {"udp_rx": 430, "udp_tx": 326}     # the first published version of this table


def ins(k):
    return int(round(c[k]["instructions"]))


def row(k, what):
    return "| `%s` | %s | %s | %d |" % (k, what, "{:,}".format(ins(k)), round(c[k]["ns_indicative"]))


def srow(k, label):
    a = S[k]
    return "| %s | %s | %s | %.2f | %s |" % (label, "{:,}".format(a["datagrams_per_s"]),
                                            "{:,}".format(a["datagrams_per_cpu_s"]),
                                            a["cpu_seconds"], a["loss_pct"])


def us(k, q):
    return "%.2f" % (R[k][q] / 1e3)


def guest_section():
    if gp is None:
        return "The guest's NIC benchmark has not been run yet (`bench/run.sh guest-pmd`).\n"
    d, q = gp["drivers"], gp["ratios"]

    def tx(k, s):
        return "{:,}".format(d[k]["tx"][s]["frames_per_s"])

    def rx(k, s):
        return "{:,}".format(d[k]["rx_best"][s])
    return f"""
## The guest's NIC: pollnet's e1000 driver vs DPDK's vs Linux's

`bench/run.sh guest-pmd` (`bench/guest_pmd.sh`): in the QEMU guest (TCG,
`-cpu max -smp 2`, one e1000 on `-netdev socket` over loopback), the same
programs run three ways, one after the other in one run: pollnet on its own
driver (`pmd/e1000.c`), pollnet on DPDK's net_e1000_em through the ethdev
adapter, and Linux's e1000 driver with a UDP socket. TX: a program in the
guest sends 200,000 64-byte and 60,000 1472-byte datagrams as fast as it can
(libpollnet `sendto`, or `sendmmsg` for the kernel); `bench/frame_peer` on the
host answers ARP and counts the frames that reach the wire. RX: the host sends
paced frames (50k-200k frames/s at 64 B, 25k-100k at 1472 B; with 2 host
cores an unpaced sender starves QEMU) and the guest's program counts what it
receives; the best rate is kept. Results:
[`bench/results/guest-pmd.json`](../bench/results/guest-pmd.json) (commit {gp["commit"]}).

![guest NIC](img/guest-pmd.png)

| frames per second | pollnet, own driver | pollnet, DPDK em | Linux e1000 |
|---|---:|---:|---:|
| TX, 64 B | {tx("e1000", "64")} | {tx("dpdk", "64")} | {tx("kernel", "64")} |
| TX, 1472 B | {tx("e1000", "1472")} | {tx("dpdk", "1472")} | {tx("kernel", "1472")} |
| RX, 64 B (best paced rate) | {rx("e1000", "64")} | {rx("dpdk", "64")} | {rx("kernel", "64")} |
| RX, 1472 B (best paced rate) | {rx("e1000", "1472")} | {rx("dpdk", "1472")} | {rx("kernel", "1472")} |

Against the driver issue's targets: own driver over DPDK's em {q["tx64_e1000_over_dpdk"]}× (TX 64 B)
and {q["rx64_e1000_over_dpdk"]}× (RX 64 B), target 1.25×: **not met**; over the kernel {q["tx64_e1000_over_kernel"]}× (TX)
and {q["rx64_e1000_over_kernel"]}× (RX), target 5×: **not met**; tail (RDT + TDT) writes per packet at full
load {q.get("e1000_tail_writes_per_packet")} (target ≤ 1/32 = 0.031): met. Three runs (two before
checksum offload, this one with it on both drivers) gave 0.88-1.0× DPDK's em
for TX and 0.85-1.05× for RX: the two drivers are level within TCG's noise.
Both ring the doorbell once per burst, both now leave the IPv4 and UDP
checksums to the device, and what bounds them here is the same: on TX, QEMU's
emulation of each descriptor and its socket backend (one `sendto` per frame;
offloading the 1472-byte checksum to QEMU's C code did not move the TX rate);
on RX, the guest's receiving process, whose socket ring overflows
(`udp_ring_full`) at high offered rates while the port misses nothing
(`rx_missed` 0). pollnet ran with its defaults: its frame log on, for
`pollnetctl tail` (a parsed summary of about 95 instructions a frame when
this was measured; the headers-only copy that replaced it costs
{ins("summary_log"):.0f}, below). The kernel loses {100 - d["kernel"]["tx"]["64"]["wire_frames"] / 2000:.0f} % of a 64-byte
`sendmmsg` blast before the wire (200,000 accepted, {d["kernel"]["tx"]["64"]["wire_frames"]:,} sent).
"""


def preload_section():
    if pl is None:
        return "The pollnet-run benchmark has not been run yet (`bench/run.sh preload`).\n"
    P, K = pl["pollnet_run"], pl["kernel"]

    def n(v):
        return "{:,}".format(v)

    def irow(i):
        a, b = P["iperf"][i], K["iperf"][i]
        return "| iperf -u at %s/s offered: lost of received | %s of %s | %s of %s |" % (
            n(a["offered_per_s"]), n(a["lost"]), n(a["total"]), n(b["lost"]), n(b["total"]))
    rows = "\n".join(irow(i) for i in range(len(P["iperf"])))
    return f"""
## Unmodified programs: pollnet-run vs the kernel, on this host

`bench/run.sh preload-host` (`bench/preload.py`, commit {pl["commit"]}): Debian's
`sockperf` and `iperf` (2), unchanged, in a network namespace joined to a peer
namespace by a veth pair; first under `pollnet-run` (pollnet on the veth through
DPDK's net_af_packet, its lcore on cpu 1), then on the kernel (the same veth
given the same address), one after the other in one run. The program under
test is pinned to cpu 0; the peer's programs run where the scheduler puts them.
64-byte datagrams.

![pollnet-run vs the kernel](img/preload.png)

| | pollnet-run | kernel |
|---|---:|---:|
| sockperf ping-pong round trip p50 / p99 (µs) | {P["pingpong"]["p50_us"]:.1f} / {P["pingpong"]["p99_us"]:.1f} | {K["pingpong"]["p50_us"]:.1f} / {K["pingpong"]["p99_us"]:.1f} |
| iperf -u: highest rate at 0 loss (datagrams/s) | {n(P["iperf_best_zero_loss_per_s"])} | {n(K["iperf_best_zero_loss_per_s"])} |
{rows}
| sockperf throughput, the peer as fast as it goes: offered / received per s | {n(P["throughput"]["offered_per_s"])} / {n(P["throughput"]["received_per_s"])} | {n(K["throughput"]["offered_per_s"])} / {n(K["throughput"]["received_per_s"])} |
| ... datagrams lost, and lost datagrams found in a counter | {n(P["throughput"]["sent"] - P["throughput"]["received"])}, {n(P["throughput"]["lost_counted"])} | {n(K["throughput"]["sent"] - K["throughput"]["received"])}, {n(K["throughput"]["lost_counted"])} |
| server CPU seconds in the throughput run (pollnet's lcore: {P["pollnet_cpu_s"]:.1f} s over the whole pollnet-run part) | {P["throughput"]["server_cpu_s"]} | {K["throughput"]["server_cpu_s"]} |

In this run, against the kernel: pollnet-run's round trip is
{P["pingpong"]["p50_us"] / K["pingpong"]["p50_us"]:.2f}× the kernel's at the median and
{P["pingpong"]["p99_us"] / K["pingpong"]["p99_us"]:.2f}× at the 99th percentile; its highest
iperf rate at 0 loss is {P["iperf_best_zero_loss_per_s"] / max(K["iperf_best_zero_loss_per_s"], 1):.2f}× the kernel's; and a server under it takes
{100 * P["throughput"]["received_per_s"] / max(K["throughput"]["received_per_s"], 1):.0f} % of the kernel's
datagrams at full offered load. In the round trip the client under
pollnet-run spins (it waits up to 50 µs before it sleeps) where the
kernel's sleeps at once and is woken by the softirq on the other core; what that wake-up costs is the
host's more than the code's: on the host of an earlier run (commit 3dfdfe7)
the kernel's median was 26 µs and pollnet-run's 70; on this one the code
before this run's changes (f1e12ca), measured by hand beside it, gave 7.6
µs for pollnet-run and 61.8 for the kernel. Under load pollnet-run loses: the port is net_af_packet, so
every datagram still crosses the kernel (veth, then the packet socket) and
pollnet's work is added on top; with two cores, pollnet's lcore takes one
whole, and the program, the peer and the kernel's softirqs share the other.
Every datagram lost is
counted, on both sides (pollnet: `udp_ring_full` and the port's `rx_missed`;
the kernel: `RcvbufErrors`). The comparison the design is for, pollnet's own
e1000 driver against Linux's, is the guest's, below.
"""


def preload_guest_section():
    if plg is None:
        return "The guest's pollnet-run benchmark has not been run yet (`bench/run.sh preload-guest`).\n"
    P, K = plg["sides"]["pollnet-run"], plg["sides"]["kernel"]
    r = plg["ratios"]

    def n(v):
        return "-" if v is None else "{:,}".format(v)

    def irow(i):
        a, b = P["iperf"][i], K["iperf"][i]
        return "| iperf -u at %s/s offered: lost of received (in the guest's counters; at the tap) | %s of %s (%s; %s) | %s of %s (%s; %s) |" % (
            n(a["offered_per_s"]), n(a["lost"]), n(a["total"]), n(a["dropped_by_stack"]),
            n(a.get("dropped_at_tap")), n(b["lost"]), n(b["total"]), n(b["dropped_by_stack"]),
            n(b.get("dropped_at_tap")))
    rows = "\n".join(irow(i) for i in range(len(P["iperf"])))
    PT, KT = P["throughput"], K["throughput"]
    return f"""
## Unmodified programs in the guest: pollnet-run on pollnet's e1000 driver vs Linux

`bench/run.sh preload-guest` (`bench/guest_preload.sh`, commit {plg["commit"]}):
the same Debian `sockperf` and `iperf` in the QEMU guest (TCG, 2 vCPUs, the
e1000 on a tap in a network namespace whose kernel is the peer, 10.0.2.2),
booted twice in one run: under `pollnet-run` with pollnet on its own e1000
driver (its lcore polling vCPU 1), then with Linux's e1000 driver and UDP
stack and no pollnet. The program in the guest is pinned to vCPU 0. 64-byte
datagrams; iperf's rates are offered by the peer for 3 s each.

![pollnet-run vs the kernel in the guest](img/preload-guest.png)

| | pollnet-run, own e1000 driver | Linux e1000 + UDP |
|---|---:|---:|
| sockperf ping-pong round trip p50 / p99 (µs) | {P["pingpong"]["p50_us"]:.1f} / {P["pingpong"]["p99_us"]:.1f} | {K["pingpong"]["p50_us"]:.1f} / {K["pingpong"]["p99_us"]:.1f} |
| iperf -u: highest rate at 0 loss (datagrams/s) | {n(P["iperf_best_zero_loss_per_s"])} | {n(K["iperf_best_zero_loss_per_s"])} |
{rows}
| sockperf throughput, the peer as fast as it goes: offered / received per s | {n(PT["offered_per_s"])} / {n(PT["received_per_s"])} | {n(KT["offered_per_s"])} / {n(KT["received_per_s"])} |
| ... datagrams lost: in the guest's counters, dropped at the tap | {n(PT["lost_counted"])}, {n(PT.get("dropped_at_tap"))} | {n(KT["lost_counted"])}, {n(KT.get("dropped_at_tap"))} |

Ratios, pollnet-run over the kernel: round trip p50 {r["p50_pollnet_over_kernel"]}×, p99
{r["p99_pollnet_over_kernel"]}×; highest iperf rate at 0 loss {r["iperf_zero_loss_pollnet_over_kernel"]}×; datagrams
received per second at full offered load {r["tp_received_pollnet_over_kernel"]}×. The issue's targets were
a p50 at most half the kernel's and twice its throughput at 0 loss. Under TCG
every guest instruction is emulated, so the guest's whole receive path (the
e1000's emulation in QEMU, then the driver and the stack) is slow for both; the
p99 is QEMU's and the host scheduler's (two host cores run QEMU's two vCPU
threads, its I/O thread and the peer). Datagrams that never reach the guest
are dropped by the host's kernel at the tap, whose queue QEMU stops reading
while the e1000's receive ring is full (QEMU's e1000 counts no missed
packets then): the tap's TX drop counter, read around each phase, finds them.
In the throughput run, received + lost in the guest + dropped at the tap =
{n(PT["received"] + PT["lost_counted"] + (PT.get("dropped_at_tap") or 0))} of {n(PT["sent"])} sent under pollnet-run,
{n(KT["received"] + KT["lost_counted"] + (KT.get("dropped_at_tap") or 0))} of {n(KT["sent"])} on the kernel. These figures move by some 20 %
from run to run under TCG: on 2026-11-22 a first run of commit 525bd86 with
five rates (2,000 to 40,000/s) gave p50 149 vs 204 µs (0.73×), 0 loss at 10,001
vs 5,001/s (2.0× at those coarse steps) and 1.51× at full load; the run above,
with eight rates, 1.5× at 0 loss. The p50 target was missed both times. Where
pollnet-run loses what it should not is the program's side: a blocking iperf
woken by pollnet cannot keep up from some 10,000/s on, and its socket ring
overflows (`udp_ring_full`, the guest's counter above): issue 12's ground.
"""


svg_path = os.path.join(root, "bench", "results", "servers-guest.json")
svg = json.load(open(svg_path)) if os.path.exists(svg_path) else None

SERVER_NAMES = [("echo", "pollnet's echo service"), ("libpollnet", "pollnet-echo, one per call"),
                ("libpollnet-batch", "pollnet-echo, batches of 32"),
                ("libpollnet-zc", "the same, zero-copy receive"),
                ("libpollnet-moderated", "the same, wake-ups moderated"),
                ("echo-interrupt", "echo service, idle = interrupt"),
                ("libpollnet-interrupt", "pollnet-echo, batches, idle = interrupt"),
                ("kernel", "kernel, recvmmsg/sendmmsg")]


def n(v):
    return "-" if v is None else "{:,}".format(v)


def servers_table(S, trafgen_label=None, corner=""):
    """A server per column; trafgen_label None: no trafgen rows (the
    1472-byte pass)."""
    names = [(k, label) for k, label in SERVER_NAMES if k in S]

    def cpu(row):
        return ", ".join("%s %.1f" % (k, v) for k, v in sorted(row["cpu_s"].items()))

    def where(row):
        return ", ".join("%s %s" % (k, n(v)) for k, v in sorted(row["lost_where"].items())) or "-"
    head = ("| %s| " % (corner + " " if corner else "") + " | ".join(label for _, label in names) + " |\n|---|" +
            "---:|" * len(names))
    lines = [head,
             "| round trip, one in flight, p50 / p99 (µs) | " + " | ".join(
                 "%.1f / %.1f" % (S[k]["pingpong"]["p50_us"], S[k]["pingpong"]["p99_us"])
                 for k, _ in names) + " |",
             "| iperf -u: highest rate echoed at 0 loss (/s) | " + " | ".join(
                 n(S[k]["iperf_best_zero_loss_per_s"]) for k, _ in names) + " |"]
    for i, r in enumerate(S["kernel"]["iperf"]):
        lines.append("| iperf -u at %s/s: echoed/s, lost (counted) | " % n(r["offered_per_s"]) +
                     " | ".join("%s, %s (%s)" % (n(S[k]["iperf"][i]["echoed_per_s"]),
                                                 n(S[k]["iperf"][i]["lost"]),
                                                 n(S[k]["iperf"][i]["lost_counted"]))
                                for k, _ in names) + " |")
    if trafgen_label is None:
        return "\n".join(lines)
    lines.append("| trafgen, %s: offered / echoed per s | " % trafgen_label + " | ".join(
        "%s / %s" % (n(S[k]["trafgen"]["offered_per_s"]), n(S[k]["trafgen"]["echoed_per_s"]))
        for k, _ in names) + " |")
    lines.append("| ... lost, and where counted | " + " | ".join(
        "%s: %s" % (n(S[k]["trafgen"]["lost"]), where(S[k]["trafgen"])) for k, _ in names) + " |")
    lines.append("| ... CPU seconds in the trafgen phase | " + " | ".join(
        cpu(S[k]["trafgen"]) for k, _ in names) + " |")
    return "\n".join(lines)


def zc_part(R):
    """The zero-copy server against the copying one, same run."""
    S, L = R["servers"], R.get("servers_1472", {})
    if "libpollnet-zc" not in S:
        return ""

    def cpu_at(T, k, rate):
        r = next((r for r in T[k]["iperf"] if r["offered_per_s"] == rate), None)
        return r["cpu_s"].get("server") if r else None
    rows = []
    for label, T in (("64 B", S), ("1472 B", L)):
        if "libpollnet-zc" in T:
            rows.append("| %s | %.2f | %.2f | %.1f / %.1f | %.1f / %.1f |" % (
                label, cpu_at(T, "libpollnet-batch", 50000), cpu_at(T, "libpollnet-zc", 50000),
                T["libpollnet-batch"]["pingpong"]["p50_us"], T["libpollnet-batch"]["pingpong"]["p99_us"],
                T["libpollnet-zc"]["pingpong"]["p50_us"], T["libpollnet-zc"]["pingpong"]["p99_us"]))
    table = "\n".join(rows)
    return f"""
**Zero-copy receive** (`pollnet-echo --zero-copy`: `pollnet_recv_borrow`
lends views of the receive slots, the server sends each datagram back from
there and gives them back with `pollnet_recv_release`; one copy fewer per
datagram), same run:

| datagrams | server CPU-s at 50,000/s (3 s), copying | zero-copy | round trip p50 / p99 (µs), copying | zero-copy |
|---|---:|---:|---:|---:|
{table}

At these rates the copy it saves (one memcpy of the datagram) is lost in
the wake-ups and the scheduling around it: the server's CPU is within this
machine's run-to-run noise of the copying server's, and the round trips
differ as much as where the scheduler put the generator (above) makes
them differ. It is there for a server whose datagrams are large and whose
work on them is light.
"""


def large_part(R):
    """The 1472-byte pass of a servers result R, if it has one."""
    L = R.get("servers_1472")
    if not L:
        return ""
    lines = "; ".join("%s %s" % (label, ratio_line(L, k))
                      for k, label in (("echo", "the echo service"),
                                       ("libpollnet-batch", "pollnet-echo in batches"))
                      if k in L)
    return f"""
**1472-byte datagrams** (the largest in a 1500-byte MTU; same run, round
trips and iperf, no trafgen):

{servers_table(L, corner="1472-byte datagrams")}

Against the kernel: {lines}.
"""


def socket_part(R):
    """The guest's -netdev socket boots, if the run has them."""
    S = R.get("servers_socket")
    if not S:
        return ""
    table = servers_table(S, "%s/s" % n(round(S["kernel"]["trafgen"]["offered_per_s"], -3)))
    return f"""
**On `-netdev socket`** (same run: the first boot and the kernel's again,
64-byte datagrams). QEMU's socket backend carries each frame as a UDP
datagram on the host's loopback; socat relays between it and a tap moved
into the generators' namespace, so the generators are the same. What
socat did not take from the tap is `tap.not_read_by_socat`, what QEMU's or
socat's socket had no room for is the host's UDP `RcvbufErrors`; socat's
CPU is in the CPU row.

{table}

Against Linux on the same backend: the echo service {ratio_line(S, "echo")};
pollnet-echo in batches {ratio_line(S, "libpollnet-batch")}. The relay is
the bottleneck here, not the guest: socat used up to {max(r["cpu_s"].get("socat_on_host", 0) for k in S for r in S[k]["iperf"]):.1f} CPU-seconds of a
3-second phase, and most of what was lost at the higher rates it never took
from the tap (`tap.not_read_by_socat`). A generator speaking QEMU's socket
protocol itself (bench/frame_peer.c does for the send and sink benchmarks)
would measure the backend alone; it has no ping-pong or echo mode yet.
"""


def tap_idle_part(I):
    """The host's idle probes on net_tap, if the run has them."""
    rows = [("tap_nap", "`idle = nap` (the default)"), ("tap_interrupt", "`idle = interrupt`"),
            ("tap_poll", "`idle = poll`")]
    if not all(k in I for k, _ in rows):
        return ""
    table = "\n".join("| %s | %.3f | %.0f / %.0f |" % (
        label, I[k]["cpu_per_s"], I[k]["ping_avg_us"], I[k]["ping_max_us"]) for k, label in rows)
    n_, i_, p_ = I["tap_nap"], I["tap_interrupt"], I["tap_poll"]
    return f"""
On DPDK's net_tap, which has Rx interrupts (af_packet has none), the same
probe with each `dataplane.idle` (same run):

| idle pollnet on net_tap | CPU-seconds per second | ping 50 ms apart, avg / max (µs) |
|---|---:|---:|
{table}

Asleep on the tap's interrupt, an idle pollnet used {i_["cpu_per_s"]:.3f} CPU-seconds per second,
{n_["cpu_per_s"] / max(i_["cpu_per_s"], 0.001):.0f}× less than napping and {p_["cpu_per_s"] / max(i_["cpu_per_s"], 0.001):.0f}× less than polling; its pings took {i_["ping_avg_us"]:.0f} µs
on average against {n_["ping_avg_us"]:.0f} napping and {p_["ping_avg_us"]:.0f} polling (on a tap every ping also
crosses the tap's own queue, so the three are further apart run to run
than on af_packet: an earlier ad hoc run measured 690 µs asleep with one
ping of 40 at 11 ms).
"""


def ratio_line(S, k):
    K = S["kernel"]
    line = "p50 %.2f×, p99 %.2f×, 0 loss %.2f×" % (
        S[k]["pingpong"]["p50_us"] / K["pingpong"]["p50_us"],
        S[k]["pingpong"]["p99_us"] / K["pingpong"]["p99_us"],
        S[k]["iperf_best_zero_loss_per_s"] / max(K["iperf_best_zero_loss_per_s"], 1))
    if "trafgen" in S[k]:
        line += ", trafgen %.2f×" % (S[k]["trafgen"]["echoed_per_s"] /
                                     max(K["trafgen"]["echoed_per_s"], 1))
    return line


def lib_loss(S):
    """What the libpollnet servers lost under iperf, in words."""
    lost = [(r["offered_per_s"], r["lost"], r["lost_counted"], k)
            for k in S if k.startswith("libpollnet") for r in S[k]["iperf"] if r["lost"]]
    where = sorted({w.split(".")[-1] for k in S if k.startswith("libpollnet")
                    for r in S[k]["iperf"] for w in r["lost_where"]})
    if not lost:
        return "loses nothing at any rate iperf offered it"
    first = min(lost)
    return ("lost nothing below %s/s offered; from there at most %s at one rate "
            "(%s of the %s lost counted by the servers' side, in %s)" % (
                n(first[0]), n(max(x[1] for x in lost)), n(sum(x[2] for x in lost)),
                n(sum(x[1] for x in lost)), ", ".join("`%s`" % w for w in where) or "nothing"))


def targets(S):
    """Which of issue 12's targets (2x the kernel at 0 loss, half its p50,
    its p99) each server met, in words."""
    K = S["kernel"]
    out = []
    for k, name in (("echo", "the echo service"), ("libpollnet-batch", "pollnet-echo in batches")):
        met = []
        met.append(("half the p50", S[k]["pingpong"]["p50_us"] <= K["pingpong"]["p50_us"] / 2))
        met.append(("the p99", S[k]["pingpong"]["p99_us"] <= K["pingpong"]["p99_us"]))
        met.append(("twice the rate at 0 loss",
                    S[k]["iperf_best_zero_loss_per_s"] >= 2 * K["iperf_best_zero_loss_per_s"]))
        yes = [w for w, ok in met if ok]
        no = [w for w, ok in met if not ok]
        out.append("%s meets %s and misses %s" % (
            name, " and ".join(yes) or "none", " and ".join(no) or "none"))
    return "; ".join(out)


def servers_section():
    if sv is None:
        return "The servers benchmark has not been run yet (`bench/run.sh servers`).\n"
    S = sv["servers"]
    table = servers_table(S, "full speed")
    K, M = S["kernel"], S["libpollnet-moderated"]
    idle = sv.get("idle", {})
    idle_text = ""
    if idle:
        d, z = idle["default"], idle["idle_sleep_0"]
        idle_text = f"""
**An idle pollnet** (`dataplane.idle_sleep`, same run): with the default,
an lcore that found nothing to do for 1 ms naps between polls (20 µs first,
doubling up to the setting, {sv.get("idle_sleep_us", 100)} µs) until work comes again. Idle, pollnet used
{d["cpu_per_s"]:.2f} CPU-seconds per second (with `idle_sleep = 0`, polling without pause:
{z["cpu_per_s"]:.2f}). The price is paid by the first frame after a quiet spell: pings 50 ms
apart, each finding the lcore napping, came back in {d["ping_avg_us"]:.0f} µs on average (max {d["ping_max_us"]:.0f})
against {z["ping_avg_us"]:.0f} µs (max {z["ping_max_us"]:.0f}) from an lcore that never naps. An earlier run the same day with naps of up to 1000 µs
used 0.01 CPU-seconds per second idle and paid for it: 563 µs on average (max
980) against 48. Traffic that keeps coming (every phase above) never meets a
nap.
{tap_idle_part(idle)}"""
    return f"""
## A UDP echo server three ways: pollnet's echo, libpollnet, the kernel

`bench/run.sh servers` (`bench/servers.py`, commit {sv["commit"]}{", " + sv["commit_note"] if sv.get("commit_note") else ""}): the same
load generators from a peer namespace over a veth against pollnet's built-in
echo service (run by the lcore), `pollnet-echo` (a libpollnet process) one
datagram per call (`--batch 1`: `pollnet_recvfrom`, `pollnet_sendto`) and in
batches of up to 32 (`pollnet_recvmmsg`, `pollnet_sendmmsg`), the same again
with wake-up moderation (`sockets.wake_batch` = {sv["moderation"]["wake_batch"]}, `sockets.wake_delay` =
{sv["moderation"]["wake_delay_us"]} µs: a sleeping client woken often is woken once that many datagrams
wait or that long after the first), and a kernel UDP echo server
(`shm_bench echo kernel-mmsg`: recvmmsg then sendmmsg, 32 at a time), in one
run. pollnet is on net_af_packet (a ring of 4096 frames: `framecnt`) with
its lcore on cpu 1; server processes are pinned to cpu 0, pollnet-echo with
a receive ring of 4096 datagrams (`--ring 4096`, 8 MiB of slots; the
kernel's echo asks `SO_RCVBUF` 8 MiB and gets `net.core.rmem_max`); the
generators run where the scheduler puts them.
Round trips: one 64-byte datagram in flight, 20,000 after 1,000 to warm up,
from a kernel socket in the peer (`shm_bench rtt kernel`; sockperf's
ping-pong needs sockperf's own server, which a plain echo is not). Lost
datagrams are those the peer sent and never got back; "counted" is what the
server's side counted as dropped (pollnet: its drop counters and the port's
`rx_missed`; the kernel: UDP `InErrors`, `SndbufErrors` and the veth's
drops).

![a UDP echo server three ways, host](img/servers.png)

{table}

Against the kernel: the echo service {ratio_line(S, "echo")}; pollnet-echo
in batches {ratio_line(S, "libpollnet-batch")}; moderated
{ratio_line(S, "libpollnet-moderated")}. Every datagram lost is found in a
counter, on every server. The lcore alone is fast (its echo service).
A libpollnet server {lib_loss(S)}: its
receive ring holds 4096 datagrams (`pollnet-echo --ring 4096`; with the
default of this run's predecessors, 256, it overflowed from 50,000/s, and
with DPDK's default af_packet ring of 512 frames the port missed frames
whenever the lcore was descheduled). What caps its "highest rate at 0
loss" is the generator: while pollnet's lcore polls one of the two cores,
iperf, the server and the softirqs share the other, and iperf could send
only {n(max(r["echoed_per_s"] for r in S["libpollnet-batch"]["iperf"]))}/s to pollnet-echo in batches ({n(max(r["echoed_per_s"] for r in M["iperf"]))}/s with moderation, whose
server takes less CPU) against {n(max(r["echoed_per_s"] for r in K["iperf"]))}/s to the kernel, which leaves it both
cores. trafgen, which needs less CPU per frame, shows the server's own
limit. The round trip's p50 depends on where the scheduler puts the
generator and on the host: in an earlier run on another host (commit
8a8b762), measured by hand with the generator pinned, it was about 75 µs on
cpu 0, beside a server that spins while it waits, and about 24 µs on cpu 1,
beside the lcore (37 µs from a server that does not spin,
`POLLNET_SPIN_US=0`), where this run's table gives
{S["libpollnet-batch"]["pingpong"]["p50_us"]:.1f} µs and the kernel's {K["pingpong"]["p50_us"]:.1f}. Of issue 12's targets (2× the
kernel at 0 loss, half its p50, its p99), in this run {targets(S)}: the rate
at 0 loss is the generator's (above), two cores, one of them pollnet's
while traffic flows, the other shared by the server and the generator.
{zc_part(sv)}{large_part(sv)}{idle_text}"""


def dns_table(D):
    P, K, R = D["pollnet-run"], D["kernel"], D["ratios"]

    def lat(S, q):
        return "%.0f" % S["latency"][q] if S.get("latency") and q in S["latency"] else "-"

    def q(v):
        return n(None if v is None else int(round(v)))

    def rates(S):
        return ", ".join("%gk: %gk%s" % (x["offered"] / 1000, round((x["qps"] or 0) / 100) / 10,
                                         "" if x["lost"] == 0 else " (%d lost)" % x["lost"])
                         for x in S["rates"])

    def cpu(S):
        c = S["cpu_s"]
        if c.get("unbound") is None:
            return "-"
        return "%s%s" % (c["unbound"], " (pollnet: %s)" % c["pollnet"] if c.get("pollnet") else "")
    return f"""| | pollnet-run | kernel | ratio |
|---|---:|---:|---:|
| qps at 0 loss (the most completed per second in a run that lost none) | {q(P["qps_zero_loss"])} | {q(K["qps_zero_loss"])} | {R["qps_zero_loss"]} |
| qps unpaced (losses allowed) | {q(P["unpaced"]["qps"])} ({q(P["unpaced"]["lost"])} lost) | {q(K["unpaced"]["qps"])} ({q(K["unpaced"]["lost"])} lost) | {R["unpaced_qps"]} |
| round trip p50, µs | {lat(P, "p50_us")} | {lat(K, "p50_us")} | {R["p50"]} |
| round trip p99, µs | {lat(P, "p99_us")} | {lat(K, "p99_us")} | {R["p99"]} |
| unbound's own CPU per query in that phase (user + system), µs | {lat(P, "unbound_cpu_us")} | {lat(K, "unbound_cpu_us")} | |
| unbound's CPU seconds over the phases | {cpu(P)} | {cpu(K)} | |

Offered and completed per second, pollnet-run: {rates(P)}; kernel: {rates(K)}.
"""


def large_table(D):
    P, K = D["pollnet-run"].get("large"), D["kernel"].get("large")
    if not isinstance(P, dict) or not isinstance(K, dict):
        return ""
    R = D.get("ratios_large", {})
    rows = "".join(
        "| {s} bytes, round trip p50 / p99, µs | {pp} / {pq} ({pl} lost, {pd} different) | "
        "{kp} / {kq} ({kl} lost, {kd} different) | {r50} / {r99} |\n".format(
            s="{:,}".format(int(size)), pp=P[size]["p50_us"], pq=P[size]["p99_us"],
            pl=P[size]["lost"], pd=P[size]["different"], kp=K[size]["p50_us"],
            kq=K[size]["p99_us"], kl=K[size]["lost"], kd=K[size]["different"],
            r50=R.get(size, {}).get("p50_us"), r99=R.get(size, {}).get("p99_us"))
        for size in ("8000", "60000"))
    return f"""
Large datagrams, in IP fragments both ways, one in flight: pollnet's echo service on its e1000
against the kernel's recvmmsg/sendmmsg echo (`shm_bench`) on Linux's, from the same client:

| | pollnet | kernel | ratio |
|---|---:|---:|---:|
{rows}"""


CPU_NAMES = [("kernel", "the kernel (recvmmsg/sendmmsg echo), the mean of"),
             ("kernel-first", "... its run first"),
             ("kernel-last", "... and last"),
             ("afp-echo", "pollnet's echo service, net_af_packet"),
             ("xdp-echo", "pollnet's echo service, `xdp:`"),
             ("xdp-echo-interrupt", "pollnet's echo service, `xdp:`, idle = interrupt"),
             ("xdp-echo-moderated", "pollnet's echo service, `xdp:`, interrupt, moderation 1 ms"),
             ("afp-libpollnet", "pollnet-echo (libpollnet), net_af_packet"),
             ("xdp-libpollnet", "pollnet-echo, `xdp:`"),
             ("xdp-libpollnet-interrupt", "pollnet-echo, `xdp:`, idle = interrupt"),
             ("xdp-libpollnet-moderated", "pollnet-echo, `xdp:`, interrupt, moderation 1 ms")]

POLLNET_ROWS = [r for r in CPU_NAMES if not r[0].startswith("kernel")]


def moderated_bullet(S, K):
    M = S.get("xdp-echo-moderated")
    if M is None:
        return ""
    L = S.get("xdp-libpollnet-moderated", M)

    def ratio(x, p):
        return "%.2f×" % (x[p]["cpu_us_per_echo"] / K[p]["cpu_us_per_echo"]) \
            if x[p]["cpu_us_per_echo"] and K[p]["cpu_us_per_echo"] and K[p]["cpu_us_per_echo"] > 0 \
            else "n/a"
    return f"""- **Interrupt moderation of 1 ms** (`dataplane.moderation = 1000` with `idle = interrupt`,
  `idle_after = 10`: once a look empties its AF_XDP socket's receive ring the lcore naps 1 ms,
  none after a batch of 256 frames or more, as a NIC's interrupt moderation batches a stream,
  and sleeps on the socket when a look finds nothing): idle, the machine pays {M["idle"]["cpu_ms_per_s"] if "idle" in M else 0} ms of CPU per second (the kernel's
  echo {K["idle"]["cpu_ms_per_s"] if "idle" in K else 0}); the echo service costs {M["50000/s"]["cpu_us_per_echo"]:.2f} µs per datagram at 50,000/s and
  {M["100000/s"]["cpu_us_per_echo"]:.2f} at 100,000/s ({ratio(M, "50000/s")} and {ratio(M, "100000/s")} the kernel's), pollnet-echo {L["50000/s"]["cpu_us_per_echo"]:.2f} and
  {L["100000/s"]["cpu_us_per_echo"]:.2f} ({ratio(L, "50000/s")}, {ratio(L, "100000/s")}); the price is latency: a round trip of {M["rtt"]["p50_us"]:.0f} µs p50,
  {M["rtt"]["p99_us"]:.0f} µs p99 to the echo service, {L["rtt"]["p50_us"]:.0f} / {L["rtt"]["p99_us"]:.0f} µs to pollnet-echo (its answer leaves
  at the lcore's next look). A flood the lcore cannot keep up with never meets a nap (trafgen:
  as polling, within this VM's noise; a fixed 1 ms period lost 30 % of it to a full ring).
- **Where it goes at 100,000/s in batches** (`perf record -e cpu-clock -a -g`, 3 s of the echo
  service on `xdp:` with naps of a fixed 1 ms, `nap_first = idle_sleep = 1000`, the batches
  moderation makes, by hand at commit a68334d): the lcore's thread 1.28 µs per
  echo, of which 0.42 in user space (pollnet's parsing, the echo, the AF_XDP rings) and 0.86 in
  the kernel, nearly all of it the transmit's `sendto(2)`: the AF_XDP socket's copy mode (an
  skb and a copy per frame; a veth has no zero-copy mode) 0.18 µs and the veth handing each
  echo to the peer, whose receive runs there (IP, UDP, the sender's socket) 0.60 µs, a cost the
  kernel's echo pays as much. The naps' own system calls: 0.03 µs. The rest, about 0.9 µs, is
  on the generator's CPU: the XDP program's redirect into the AF_XDP socket and the copy into
  its UMEM, over the drop that the generator alone meets. The kernel's echo, its system calls
  amortised by recvmmsg/sendmmsg, pays per datagram for its UDP receive and send, an skb and a
  copy each way as copy mode does: half of it at 100,000/s needs AF_XDP's zero-copy mode (a
  NIC driver that has it) or a transmit cheaper than an skb per frame, which a veth offers
  neither of.
"""


def cpu_section():
    if cpu is None:
        return ""
    S, A = cpu["servers"], cpu["generator_alone"]
    phases = [p for p in S["kernel"] if p not in ("rtt", "idle")]
    head = " | ".join(p if p != "trafgen" else "trafgen (max)" for p in phases)

    def cell(k, p):
        r = S[k][p]
        v = r["cpu_us_per_echo"]
        return "%s (%s/s)" % ("%.2f" % v if v is not None else "n/a", f'{r["echoed_per_s"]:,}')

    rows = "\n".join("| %s | %s | %s | %.0f / %.0f |" % (
        label, " | ".join(cell(k, p) for p in phases),
        "%.1f" % S[k]["idle"]["cpu_ms_per_s"] if "idle" in S[k] else "n/a", S[k]["rtt"]["p50_us"],
        S[k]["rtt"]["p99_us"]) for k, label in CPU_NAMES if k in S)
    alone = ", ".join("%s %.2f µs" % (p, A[p]["busy_s"] / max(A[p]["sent"], 1) * 1e6)
                      for p in phases)
    K = S["kernel"]

    def half(k):
        return all(S[k][p]["cpu_us_per_echo"] is not None and K[p]["cpu_us_per_echo"] and
                   S[k][p]["cpu_us_per_echo"] <= K[p]["cpu_us_per_echo"] / 2 for p in phases)
    met = [k for k, _ in POLLNET_ROWS if k in S and half(k)]
    R = cpu["cpu_per_echo_over_kernel"]
    best = min((k for k, _ in POLLNET_ROWS if k in R),
               key=lambda k: max(R[k][p] or 99 for p in phases))
    halves = "; ".join("%s: %s" % (p, ", ".join("%s (%.2f×)" % (dict(CPU_NAMES)[k], R[k][p]) for k, _ in POLLNET_ROWS
                                              if k in R and R[k][p] is not None and R[k][p] <= 0.5)
                                   or "none") for p in phases)
    tg = S["xdp-echo"]["trafgen"]["echoed_per_s"] / max(K["trafgen"]["echoed_per_s"], 1)
    return f"""
## Beside the kernel: the whole machine's CPU per echoed datagram

`bench/run.sh servers-cpu` ([`bench/servers_cpu.py`](../bench/servers_cpu.py); results:
[`bench/results/servers-cpu.json`](../bench/results/servers-cpu.json), commit {cpu["commit"]},
{cpu["cpu"]}, {cpu["cores"]} cores, kernel {cpu["kernel"]}). The same veth and generators as
above, 64-byte datagrams; the generator pinned to cpu 0, pollnet's lcore and the server process
on cpu 1. Each rate runs {cpu["settings"]["rate_seconds"]} s (iperf 2), then trafgen as fast as
cpu 0 sends ({cpu["settings"]["frames"]:,} frames); each phase three times, the median's busy
time. The figure is the busy time of every CPU over the phase (its wall time less its idle,
iowait and steal time in `/proc/stat`, which the kernel measures exactly with NO_HZ), less the
generator's own share, per echoed datagram: each generator was first run alone at each rate
against an XDP program that drops every frame on arrival (`bench/xdp_drop.bpf.c`), and cost
{alone} per frame sent. Idle: the machine's busy time over {cpu["settings"]["rate_seconds"]} s with nothing sent, the
server up. Round trips: one datagram in flight, p50 / p99 in µs.

![CPU per echo](img/servers-cpu.png)

| µs of CPU per echo (echoed/s) | {head} | idle: ms of CPU per s | round trip p50 / p99 µs |
|---|{"---:|" * len(phases)}---:|---:|
{rows}

What it says:

- **Busy time, measured exactly.** Runs before commit c255bc4 summed `/proc/stat`'s busy
  fields, which the kernel samples at the tick (250 Hz here): a CPU that wakes for tens of µs
  at a time, a server woken per datagram or a lcore between naps, is idle at most ticks, and
  those phases were mostly missed (iperf alone at 10,000/s: 0.10 s by the tick against
  0.37 s of its own `perf stat` task-clock and 0.80 s of wall time less idle). The kernel's
  echo at 10,000/s, 8.81 µs per datagram by the tick in the last run so measured, is {K["10000/s"]["cpu_us_per_echo"]:.2f} here; its
  phase's runs kept the machine busy {", ".join("%.2f" % x for x in K["10000/s"]["busy_runs_s"])} s (the generator alone
  {", ".join("%.2f" % x for x in A["10000/s"]["busy_runs_s"])} s), where the tick's sums varied twofold. The machine still drifts over
  a run: the kernel, measured first and last, cost {S["kernel-first"]["50000/s"]["cpu_us_per_echo"]:.2f} and {S["kernel-last"]["50000/s"]["cpu_us_per_echo"]:.2f} µs per echo at 50,000/s,
  {S["kernel-first"]["100000/s"]["cpu_us_per_echo"]:.2f} and {S["kernel-last"]["100000/s"]["cpu_us_per_echo"]:.2f} at 100,000/s (its row is their mean), and today's five runs gave it 3.33 to
  4.24 µs at 100,000/s: a ratio here moves by a fifth from run to run.
- **A polling lcore is a core, whatever comes.** With its built-in settings (`dataplane.idle =
  nap` after 1 ms without work) pollnet's lcore never naps at 10,000 datagrams/s (one every
  100 µs): the machine pays a whole core for it, {S["xdp-echo"]["10000/s"]["cpu_us_per_echo"]:.0f} µs per datagram. Near saturation the
  poll loop is work, not waste: under trafgen the echo service costs
  {S["xdp-echo"]["trafgen"]["cpu_us_per_echo"]:.2f} µs per echo on `xdp:` and {S["afp-echo"]["trafgen"]["cpu_us_per_echo"]:.2f} on net_af_packet against the kernel's
  {K["trafgen"]["cpu_us_per_echo"]:.2f}, and echoes {tg:.2f}× the kernel's datagrams per second on `xdp:`
  ({S["xdp-echo-interrupt"]["trafgen"]["echoed_per_s"] / max(K["trafgen"]["echoed_per_s"], 1):.2f}× with `idle = interrupt`). trafgen's phases move the most from run to run (in earlier runs
  the kernel echoed 287k to 457k/s, the echo service on `xdp:` 705k to 733k).
- **Asleep on the AF_XDP socket** (`dataplane.idle = interrupt`, `idle_after = 10` µs: the
  lcore sleeps in epoll on its queue's socket, readable while the ring holds a frame) the
  machine pays {S["xdp-echo-interrupt"]["50000/s"]["cpu_us_per_echo"]:.2f} µs per datagram at 50,000/s and {S["xdp-echo-interrupt"]["100000/s"]["cpu_us_per_echo"]:.2f} at 100,000/s (the kernel:
  {K["50000/s"]["cpu_us_per_echo"]:.2f} and {K["100000/s"]["cpu_us_per_echo"]:.2f}), for a round trip of
  {S["xdp-echo-interrupt"]["rtt"]["p50_us"]:.0f} µs p50 instead of {S["xdp-echo"]["rtt"]["p50_us"]:.0f} polling. net_af_xdp runs with `busy_budget=0`
  (`pmd/xdp_port.c`): its default makes a `recvfrom(2)` on every empty poll, the lcore's
  largest kernel cost in `perf` (below); side by side without it pollnet-echo's CPU per echo at
  50,000 and 100,000/s fell by 10 to 15 % (single runs, this VM's noise about as large).
{moderated_bullet(S, K)}- **Round trips from the generator's CPU.** The sender is pinned to cpu 0 like the
  generators, so every answer wakes it across CPUs. Left to the scheduler it lands beside the
  server at times (the kernel's p50 was 7 µs in the previous run with it unpinned, 57 µs in
  another): a cross-CPU wake-up on this VM costs tens of µs. The kernel: {K["rtt"]["p50_us"]:.0f} / {K["rtt"]["p99_us"]:.0f} µs;
  the echo service polling on `xdp:` {S["xdp-echo"]["rtt"]["p50_us"]:.0f} / {S["xdp-echo"]["rtt"]["p99_us"]:.0f}; pollnet-echo {S["xdp-libpollnet"]["rtt"]["p50_us"]:.0f} / {S["xdp-libpollnet"]["rtt"]["p99_us"]:.0f}.
- **pollnet-echo and the lcore on one core.** `perf record -e cpu-clock -a -g` (3 s of trafgen
  flooding pollnet-echo on `xdp:`, by hand at commit c07bb94) showed what held it: the lcore
  never gave up its core, and pollnet-echo, on the same CPU, got **0.02 %** of the samples
  (the rest: trafgen and the veth's receive path in its softirq 48 %, the lcore 49 %, of which
  the kernel 23 %, mostly net_af_xdp's `recvfrom(2)`); it echoed 79k to 91k of 1,000,000
  frames, and its round trip p99 was a scheduler's slice (1.1 to 2.5 ms). Now each side says
  which CPU it runs on (docs/ARCHITECTURE.md, Sharing a core): a client whose lcore runs on
  its CPU sleeps instead of spinning, and the lcore yields the CPU when it moves that client's
  socket, and between empty polls for 1 ms after ({S["xdp-libpollnet"].get("lcore_yields", 0):,} yields over the polling `xdp:`
  run's 13 phases, most of them empty polls that found pollnet-echo runnable or nobody). Under
  trafgen pollnet-echo now echoes
  {S["xdp-libpollnet"]["trafgen"]["echoed_per_s"]:,}/s on `xdp:` ({S["xdp-libpollnet"]["trafgen"]["echoed"]:,} of {S["xdp-libpollnet"]["trafgen"]["sent"]:,}; the kernel {K["trafgen"]["echoed_per_s"]:,}/s, {K["trafgen"]["echoed"]:,}), and its
  round trip p99 is {S["xdp-libpollnet"]["rtt"]["p99_us"]:.0f} µs.
- **The issue's targets** (issue 23), in this run. At most half the kernel's CPU per echo at
  every rate: {"met by " + ", ".join(met) if met else "met by none of pollnet's servers"}; at each rate, the servers that meet it: {halves}.
  Over all rates the closest is {dict(CPU_NAMES)[best]}: {R[best]["10000/s"]}×, {R[best]["50000/s"]}×, {R[best]["100000/s"]}× and {R[best]["trafgen"]}× the kernel's at
  10,000/s,
  50,000/s, 100,000/s and under trafgen. The echo service on `xdp:` at least twice the kernel's
  echoes under trafgen: {tg:.2f}× ({"met" if tg >= 2 else "not met"}; the kernel echoed {K["trafgen"]["echoed_per_s"]:,}/s here, 287k to 457k in earlier
  runs, where the ratio was 1.0 to 2.55×). pollnet-echo at least the kernel's echoes: {S["xdp-libpollnet"]["trafgen"]["echoed_per_s"] / max(K["trafgen"]["echoed_per_s"], 1):.2f}×
  under trafgen on `xdp:` ({S["afp-libpollnet"]["trafgen"]["echoed_per_s"] / max(K["trafgen"]["echoed_per_s"], 1):.2f}× on net_af_packet), no loss at 100,000/s; its round trip p50 at
  most half the kernel's: {R["xdp-libpollnet"]["rtt_p50"]}× ({"met" if R["xdp-libpollnet"]["rtt_p50"] <= 0.5 else "not met"}), p99 at most the kernel's: {R["xdp-libpollnet"]["rtt_p99"]}×
  ({"met" if R["xdp-libpollnet"]["rtt_p99"] <= 1 else "not met"}).
"""


def lcores_section():
    if lcores is None:
        return ""
    C = lcores["cases"]
    rows = "\n".join("| %s | %s | %s (%s) | %s | %s | %.2f | %.2f× |" % (
        k.split(", ", 1)[0], k.split(", ", 1)[1], f'{v["echoed_per_s"]:,}',
        ", ".join(f"{x:,}" for x in v["echoed_per_s_runs"]), " / ".join(f"{x:,}" for x in v["rx_frames"]),
        f'{v["steered"]:,}', v["cpu_us_per_echo"] or 0, lcores["echoed_over_1_lcore"][k])
        for k, v in C.items())

    def r(k):
        return lcores["echoed_over_1_lcore"][k]
    return f"""
## Queues and lcores: one lcore against two

`bench/run.sh lcores` ([`bench/lcores.py`](../bench/lcores.py); results:
[`bench/results/lcores.json`](../bench/results/lcores.json), commit {lcores["commit"]},
{lcores["cpu"]}, {lcores["cores"]} cores). A queue per data-plane lcore: net_af_packet with
`qpairs=N` (its sockets in a fanout group, the kernel's flow hash) with pollnet's own address,
and `xdp:` on the kernel's address, a net_af_xdp device per queue of a veth with as many
receive queues (the peer's transmit queue, picked by each flow's hash, picks it). Two
pollnet-echo processes, one socket each (the sockets go to the lcores in turn), each pinned to
its lcore's CPU; trafgen on cpu 0 sends {lcores["settings"]["frames"]:,} 64-byte frames of 16 flows to both, three
runs each, the median's echoed/s (every run's in brackets); CPU per echo: every CPU's busy
time over the run (wall time less idle, as above), trafgen's own included.

![one lcore or two](img/lcores.png)

| port | lcores (CPUs) | echoed/s | frames per lcore | steered | µs CPU per echo | vs 1 lcore |
|---|---|---:|---:|---:|---:|---:|
{rows}

What it says: on two cores, one of them the generator's, a second lcore has no core of its
own. Both on cpu 1 they share it with the two clients: {r("afp, 2 lcores, cpus 1+1")}× and {r("xdp, 2 lcores, cpus 1+1")}× one lcore's
echoes (the runs of one case differ by as much; an earlier runs gave 1.09× and 1.06×, 1.11× and 0.86×), the
queues evenly loaded, about half of each lcore's datagrams handed to the other's socket
through its steer ring. The second lcore on cpu 0 takes that CPU from trafgen and from
its own queue: {r("afp, 2 lcores, cpus 1+0")}× and {r("xdp, 2 lcores, cpus 1+0")}×. The scaling these cases cannot show needs a
core per lcore beside the generator's; docs/ARCHITECTURE.md ("Several lcores") says what
changes at 16.
"""


def exception_section():
    if exc is None:
        return ""
    K, E = exc["kernel"], exc["exception_tap"]
    N = exc.get("exception_net_tap")
    c = E.get("counters", {})

    def per_frame(x):
        cc = x.get("counters", {})
        return x.get("pollnet_cpu_s", 0) * 1e6 / max(1, cc.get("exception.to_kernel.tcp", 0) +
                                                     cc.get("exception.from_kernel.tcp", 0))
    net_tap_row = "" if N is None else (
        "| ... on DPDK's net_tap (`exception_driver = net_tap`) | %s | %s | %s |\n" % (
            f'{N["mbps"]:,.0f}', ", ".join("%.0f" % x for x in N["runs_mbps"]),
            exc.get("ratio_net_tap")))
    merged = c.get("exception.to_kernel.tcp", 0) / max(1, c.get("exception.port.tx_frames", 1))
    return f"""
## Beside the kernel: what the exception path costs its TCP

`bench/run.sh exception` ([`bench/exception.py`](../bench/exception.py); results:
[`bench/results/exception.json`](../bench/results/exception.json), commit {exc["commit"]},
{exc["cpu"]}, {exc["cores"]} cores): iperf 2 TCP from the peer namespace to a server on the kernel
with the DUT's address, {len(K["runs_mbps"])} runs each: on the veth itself, then on `pn0` behind
pollnet (net_af_packet on the veth, `port.exception = pn0`), every segment through pollnet's
lcore both ways, on pollnet's own tap and on DPDK's net_tap.

| the kernel's TCP | median run, Mbit/s | runs, Mbit/s | ratio |
|---|---:|---|---:|
| alone on the veth | {K["mbps"]:,.0f} | {", ".join("%.0f" % x for x in K["runs_mbps"])} | |
| through pollnet's exception path, pollnet's tap (the default) | {E["mbps"]:,.0f} | {", ".join("%.0f" % x for x in E["runs_mbps"])} | {exc["ratio"]} |
{net_tap_row}
The issue's target: at least half the kernel's own ({"met" if (exc["ratio"] or 0) >= 0.5 else "not met"}).
The peer sends segments of the MTU (its veth's transmit offloads are off, as on a wire); the
kernel alone merges them (GRO) before TCP sees them. Through pollnet each is copied out of
net_af_packet's ring and passes the lcore's stack; DPDK's net_tap then writes each into the tap
with a write(2) of its own ({per_frame(N) if N else 0:.1f} µs of pollnet's CPU per frame). pollnet's tap
(`pmd/tap_port.c`) merges the segments of each flow that one burst carries (DPDK's GRO library)
and writes them as one frame with a virtio-net GSO header, as the kernel's GRO would have handed
them to TCP: {c.get("exception.to_kernel.tcp", 0):,} segments went in {c.get("exception.port.tx_frames", 0):,} writes ({merged:.1f} per write), {per_frame(E):.1f} µs of pollnet's
CPU per frame. The lcore, busy the whole time, is still the limit; the rest of its cost is
net_af_packet's copy and the stack. virtio_user on vhost-net (`exception_driver = vhost`)
needs /dev/vhost-net, which this host's kernel lacks; in the guest, whose image has the module, it
runs (below).
{exception_guest()}"""


def exception_guest():
    if excg is None:
        return ""
    G = excg

    def row(k):
        return "%s | %s" % ("%.0f" % G[k]["mbps"] if G[k]["mbps"] else "-",
                            ", ".join("%.0f" % x for x in G[k]["runs_mbps"]))
    # results from before pollnet's own tap: their exception_tap was net_tap
    names = ([("exception_tap", "pollnet's tap"), ("exception_net_tap", "DPDK's net_tap")]
             if "exception_net_tap" in G else [("exception_tap", "DPDK's net_tap")]) + \
        [("exception_vhost", "vhost-net")]
    rows = "\n".join("| behind pollnet's e1000, exception path on %s | %s | %s |" %
                     (label, row(k), G["ratios"][k]) for k, label in names if k in G)
    return f"""
In the guest (the same script with `--guest`; results:
[`bench/results/exception-guest.json`](../bench/results/exception-guest.json), commit
{G["commit"]}; TCG, `--net tap`): iperf 2 from the host's kernel in the tap's namespace to a server
on the guest's kernel, a boot each.

| the guest's kernel | TCP, median run, Mbit/s | runs | ratio |
|---|---:|---|---:|
| on its own e1000 (Linux's driver) | {row("kernel")} | |
{rows}

The target, half the kernel's own: {"met" if max(v or 0 for v in G["ratios"].values()) >= 0.5 else "not met"}.
"""


def dns_section():
    if dns is None:
        return ""
    guest = "" if dnsg is None else f"""
In the guest (`bench/run.sh servers-dns-guest`, also run by `bench/run.sh servers-guest`;
[`bench/results/servers-dns-guest.json`](../bench/results/servers-dns-guest.json), commit
{dnsg["commit"]}): the same unbound pinned to vCPU 0, under pollnet-run on pollnet's e1000
driver, then on Linux's driver and stack; the generators on the host in the tap's namespace.
The targets there: ≥ 2× the kernel's qps at 0 loss ({"met" if (dnsg["ratios"]["qps_zero_loss"] or 0) >= 2 else "not met"}: {dnsg["ratios"]["qps_zero_loss"]}×)
and a p50 of at most half the kernel's ({"met" if (dnsg["ratios"]["p50"] or 9) <= 0.5 else "not met"}: {dnsg["ratios"]["p50"]}×).
unbound under pollnet-run spins up to {dnsg.get("pollnet_spin_us", 20)} µs before a wait sleeps there
(`POLLNET_SPIN_US`; its poll and epoll_wait spin as a blocking receive does): the host's default,
20 µs, at TCG's pace, where unbound itself takes some 200 µs of CPU per query (the table) against
about 15 on the host. With the default the next query, a round trip away, always finds it asleep,
and each pays a wake-up of a halted vCPU: in a run of this session (commit 5e91f1d) p50 300 vs 390
µs (0.77×), at 0 loss 36.9k vs 7.4k qps (4.97×). unbound's own CPU per query is most of its round
trip under pollnet-run, and TCG makes it vary from run to run (the kernel's 224 to 344 µs in this
session's four runs).

{dns_table(dnsg)}{large_table(dnsg)}"""
    return f"""
## A DNS server, unmodified: unbound under pollnet-run vs the kernel

`bench/run.sh servers-dns`, also run by `bench/run.sh servers` ([`bench/servers_dns.py`](../bench/servers_dns.py); results:
[`bench/results/servers-dns.json`](../bench/results/servers-dns.json), commit {dns["commit"]},
{dns["cpu"]}, {dns["cores"]} cores): Debian's unbound, one thread, a static local zone of 64
names, pinned to cpu 0, on pollnet's net_af_packet port (lcore on cpu 1) under pollnet-run, then
on the kernel's UDP stack with the same address; dnsperf from the peer namespace (one socket, 200
queries outstanding, 3 s per rate), and one query in
flight from a Python client for the round trip (the client's own cost is in both).

![unbound: pollnet-run vs the kernel](img/servers-dns.png)

{dns_table(dns)}
On this host the kernel's unbound is fed by the softirq of the generator's own core, while
pollnet's lcore holds a core of its own (issue 23 says so for the echo servers). Its round trip
depends on where the scheduler puts the client: in this session's runs the kernel's p50 was 75,
89 and 10 µs, pollnet-run's 13 (since poll and epoll_wait spin before they sleep; 56 before), 23.
{guest}"""


def servers_guest_section():
    if svg is None:
        return ""
    S = svg["servers"]
    table = servers_table(S, "%s/s" % n(round(S["kernel"]["trafgen"]["offered_per_s"], -3)))
    B = S["libpollnet-batch"]

    def cpu_per(k, i):
        r = S[k]["iperf"][i]
        return r["cpu_s"].get("qemu_on_host", 0)
    return f"""
## The same servers in the guest: pollnet's e1000 driver vs Linux's

`bench/run.sh servers-guest` (`bench/servers.py --guest`, commit {svg["commit"]}{", " + svg["commit_note"] if svg.get("commit_note") else ""}): the
servers above in the QEMU guest (TCG, 2 vCPUs, `-netdev tap` in a
namespace whose kernel is the peer; the wire not recorded), the generators
on the host in that namespace. Boots: pollnet on its own e1000 driver
with its echo service and pollnet-echo (batches of 32, `--ring 4096`); pollnet with wake-up
moderation ({svg["moderation"]["wake_batch"]} / {svg["moderation"]["wake_delay_us"]} µs) and pollnet-echo;{" pollnet with `dataplane.idle = interrupt` (its lcore sleeps on the e1000's interrupt after 1 ms without work), the echo service and pollnet-echo;" if "echo-interrupt" in S else ""} Linux's e1000 driver and UDP
stack with the recvmmsg/sendmmsg echo. The server is pinned to vCPU 0,
pollnet's lcore polls on vCPU 1. trafgen is paced (under TCG an unpaced
sender starves QEMU). A frame the peer's kernel could not hand to QEMU
(QEMU stops reading the tap while the e1000 has no free receive descriptor)
is counted as `tap.not_read_by_qemu`; every other loss is in the guest's
counters, read over UDP from a small service in the guest. CPU seconds:
the guest's processes, its vCPUs (`guest_all`) and QEMU's on the host.

![the same servers in the guest](img/servers-guest.png)

{table}

Against Linux in the guest: the echo service {ratio_line(S, "echo")};
pollnet-echo in batches {ratio_line(S, "libpollnet-batch")}; moderated
{ratio_line(S, "libpollnet-moderated")}. Here the lcore wins outright
(the kernel pays an emulated interrupt and its stack per frame). pollnet-echo,
with a receive ring of 4096 datagrams, takes {n(B["iperf_best_zero_loss_per_s"])}/s without a loss against the
kernel's {n(S["kernel"]["iperf_best_zero_loss_per_s"])}/s (the kernel's UDP receive buffer overflows, `udp.InErrors`, from
{n(next((r["offered_per_s"] for r in S["kernel"]["iperf"] if r["lost"]), None))}/s); before the larger ring it overflowed from 20,000/s. Its round
trip is {B["pingpong"]["p50_us"] / S["kernel"]["pingpong"]["p50_us"]:.2f}× the kernel's at the median and {B["pingpong"]["p99_us"] / S["kernel"]["pingpong"]["p99_us"]:.2f}× at p99, not the half
the target asks: pollnet's lcore keeps one host core
busy emulating its polls (QEMU used about {cpu_per("libpollnet-batch", 2):.1f} CPU-seconds in a phase where
the kernel's guest used {cpu_per("kernel", 2):.1f}), so vCPU 0, QEMU's I/O thread and the generator
share the other: pollnet-echo gets about {B["iperf"][2]["cpu_s"].get("guest_server", 0):.1f} CPU-seconds of its vCPU in a
3-second phase, and it first loses datagrams at {first_loss(B)}. Its round
trip (p50 {B["pingpong"]["p50_us"]:.0f} µs against the echo service's {S["echo"]["pingpong"]["p50_us"]:.0f}) is a wake-up of vCPU 0 per
request: the request comes every ~150 µs, longer than the client spins
(50 µs). A longer spin buys little: measured by hand in one boot (commit
8b76f04), pollnet-echo with `POLLNET_SPIN_US=300` answered at p50 122 µs
against 148 with the default; a spinning vCPU 0 then competes for the host's
second core with QEMU's I/O thread and the generator. This round trip is
also why a wait that slept lets the learnt spin grow back when it ended
within 4 times the most spin, not 2 (`client/wait.h`: the sleep adds its own
wake-up to the time it measures): with 2, the ~150 µs requests talked
pollnet-echo's spin down and its p50 there went from 114 to 180 µs (commit
64bedc6). Half the kernel's p50
is not within reach of a client process on this 2-core host under TCG.
{large_part(svg)}{socket_part(svg)}{guest_idle_part(S)}"""


def first_loss(B):
    """The first iperf rate at which server B lost datagrams, and where."""
    r = next((r for r in B["iperf"] if r["lost"]), None)
    if r is None:
        return "no rate offered (none lost)"
    return "%s/s (%s)" % (n(r["offered_per_s"]), ", ".join(
        "`%s` %s" % (k, n(v)) for k, v in sorted(r["lost_where"].items())))


def mpc_range():
    """port.rx_missed per phase in the guest's idle = interrupt boot."""
    v = [r["lost_where"].get("port.rx_missed", 0)
         for T in (svg["servers"], svg.get("servers_1472", {}))
         for k in ("echo-interrupt", "libpollnet-interrupt") if k in T for r in T[k]["iperf"]]
    return "%s to %s" % (n(min(v)), n(max(v))) if v else "-"


def guest_idle_part(S):
    I = svg.get("idle")
    if not I or "interrupt" not in I:
        return ""
    rows = [("nap", "pollnet, `idle = nap` (the default)"),
            ("interrupt", "pollnet, `idle = interrupt`"),
            ("kernel", "Linux's e1000 driver, no pollnet")]
    table = "\n".join("| %s | %.2f | %.0f / %.0f |" % (
        label, I[k]["qemu_cpu_per_s"], I[k]["ping_avg_us"], I[k]["ping_max_us"])
        for k, label in rows if k in I)
    return f"""
**Sleeping on the e1000's interrupt** (`dataplane.idle = interrupt`, same
run). Under load it changes nothing that matters: the lcore sleeps only
after 1 ms without work, which no phase above leaves it, so the columns
*idle = interrupt* repeat the first boot's within this machine's noise
(echo service {ratio_line(S, "echo-interrupt")}; pollnet-echo
{ratio_line(S, "libpollnet-interrupt")}); a shorter `idle_after` would
put an interrupt (about half a millisecond on this TCG guest) in every
round trip. One oddity, not explained: in that boot the e1000's missed
packet count (`port.rx_missed`, MPC) grew in every phase, losses or not
({mpc_range()} per 3-second phase), while every datagram sent was echoed (the counted
column above exceeds the lost one by it). Idle, it is what frees the host: with nothing coming, QEMU's
CPU on the host and the round trip of pings 50 ms apart, each finding the
guest idle:

| idle guest | QEMU, CPU-seconds per second | ping 50 ms apart, avg / max (µs) |
|---|---:|---:|
{table}

A napping lcore wakes its vCPU every 100 µs, and under TCG each wake-up is
emulated: the idle guest still costs the host {I["nap"]["qemu_cpu_per_s"]:.2f} CPU-seconds per second. Asleep on
the interrupt, the vCPU halts until a frame comes, as Linux's does; the
first frame after silence pays the interrupt's way to user space (QEMU
raises INTx, the guest kernel's uio_pci_generic handler masks it and wakes
the lcore's epoll) instead of at most a nap.
"""


doc = f"""# Performance

How fast pollnet is, measured by the benchmarks in `bench/` (never by timed
assertions in tests). Instruction counts come from `valgrind --tool=callgrind`:
they are exact and repeat run after run on a noisy shared machine. Wall-clock
figures are measured side by side with their anchors in the same run, and vary
by some 10 % from run to run on this 2-core VM. This page is written from the
results by `bench/perf_doc.py`.

{guest_section()}{servers_section()}{cpu_section()}{lcores_section()}{dns_section()}{exception_section()}{servers_guest_section()}{preload_section()}{preload_guest_section()}
## Shared-memory sockets: two processes, libpollnet vs Linux UDP

`bench/run.sh shm-sockets` (`bench/shm_sockets.py` driving `bench/shm_bench`):
two processes exchange datagrams through pollnet's local delivery (client A's
TX ring, pollnet's lcore, client B's RX ring: one copy in, one slot-to-slot
copy, one copy out) and, in the same run, over Linux UDP sockets on loopback,
with `send`/`recv` and with `sendmmsg`/`recvmmsg` (batches of 32, 8 MiB socket
buffers). Results: [`bench/results/shm-sockets.json`](../bench/results/shm-sockets.json)
(commit {sh["commit"]}, {sh["cpu"]}, {sh["cores"]} cores, kernel {sh["kernel"]}).

**Topology.** This machine has 2 cores. pollnet's control thread is on cpu 0 and
its busy-polling lcore on cpu 1, so every client and server process, pollnet's
and the kernel's alike, is pinned to cpu 0. Streams are flow-controlled the
same way for every transport (windows of 128 datagrams, each acknowledged),
so nobody loses datagrams to a receiver that is not scheduled. **Per core**
divides by the CPU time of every process involved, read from `/proc`:
pollnet's lcore burns a whole core whether busy or not, and all of it counts.

![libpollnet vs kernel UDP](img/shm-sockets.png)

| stream | datagrams/s | per CPU-second | CPU s | loss % |
|---|---:|---:|---:|---:|
{srow("pollnet/64", "libpollnet, 64 B")}
{srow("kernel/64", "kernel send/recv, 64 B")}
{srow("kernel-mmsg/64", "kernel sendmmsg/recvmmsg, 64 B")}
{srow("pollnet/1472", "libpollnet, 1472 B")}
{srow("kernel/1472", "kernel send/recv, 1472 B")}
{srow("kernel-mmsg/1472", "kernel sendmmsg/recvmmsg, 1472 B")}

| round trip, 64 B | p50 µs | p99 µs |
|---|---:|---:|
| libpollnet ↔ libpollnet, both on cpu 0 | {us("pollnet", "p50_ns")} | {us("pollnet", "p99_ns")} |
| kernel ↔ kernel, both on cpu 0 | {us("kernel", "p50_ns")} | {us("kernel", "p99_ns")} |
| libpollnet (cpu 0) ↔ pollnet's echo service (on its lcore, cpu 1) | {us("pollnet-own-cores", "p50_ns")} | {us("pollnet-own-cores", "p99_ns")} |
| kernel (cpu 0) ↔ kernel (cpu 1) | {us("kernel-own-cores", "p50_ns")} | {us("kernel-own-cores", "p99_ns")} |

Against the libpollnet issue's targets:

- **Datagrams per second per core, 64 B: {ratio["per_core_64B_vs_best_kernel"]}× the better kernel
  variant** (target ≥ 10×). At 1472 B it is {ratio["per_core_1472B_vs_best_kernel"]}×: copying dominates
  there, and shared memory copies three times where the kernel copies twice.
- **Round trip p50 between two libpollnet processes: {ratio["rtt_p50_kernel_over_pollnet_shared_core"]}× shorter than
  the kernel's** (target ≥ 5×: not met on this machine). On 2 cores the two
  clients share cpu 0, so every round trip pays two context switches (a
  waiting client spins briefly, yielding the CPU every other turn: `pn_wait_spin()` in
  `client/wait.c`); that floor is about 2 µs in this VM whatever the
  transport. With a core per side, the closest pair this machine can run (a
  client against pollnet's own echo service, against a kernel pair on two
  cores), the round trip is {ratio["rtt_p50_kernel_over_pollnet_own_cores"]}× shorter: {us("pollnet-own-cores", "p50_ns")} µs against
  {us("kernel-own-cores", "p50_ns")} µs, where the kernel pays a cross-core wakeup. Two libpollnet
  processes on cores of their own need a third core for the lcore.

## The stack, per frame

`bench/run.sh stack` runs `bench/stack_bench` under callgrind with collection
switched on only inside the measured call (`stack_input()`, `udp_output()`,
`shm_sock_drain()`, ...), at 1,000 and 3,000 frames, and reports the difference
divided by 2,000, minus the 10 instructions the on/off switch itself costs (the
`empty` case). Making the input mbuf and freeing what comes out, which a port
would do, are outside. Results: [`bench/results/stack.json`](../bench/results/stack.json)
(commit {st["commit"]}, {st["compiler"].replace("cc (Debian", "gcc (Debian")}, DPDK {st["dpdk"]}, `-O2 -march=corei7`).

![instructions per frame](img/stack.png)

| path | what happens | instructions | ns (indicative) |
|---|---|---:|---:|
{row("udp_rx", "64-byte datagram: Ethernet, IPv4 checks and header checksum, UDP checksum, socket lookup, enqueue on the socket's ring")}
{row("icmp_echo", "56-byte ping: validated, answered in place (two checksums)")}
{row("arp_reply", "ARP request for us: learned, answered in place")}
{row("drop_ip_csum", "bad IPv4 header checksum: counted, mbuf freed (most of it is the free)")}
{row("udp_tx", "64-byte payload: UDP, IPv4, Ethernet headers prepended, checksum, ARP hit, queued")}
{row("udp_tx_offload", "the same, the port computing the IPv4 and UDP checksums (both e1000 drivers)")}
{row("shm_rx", "64-byte datagram from the wire into a client's region, published (with its fence)")}
{row("shm_tx", "64-byte datagram from a client's region: checked, copied to an mbuf, sent")}
{row("shm_local", "64 bytes from one client's region to another's, slot to slot")}
{row("summary_log", "a frame's headers (found by `pkt_headers_len()`, no payload), its length, direction and TSC time into the stats segment's log (what every frame costs an lcore for `pollnetctl tail`)")}
{row("publish", "an lcore's copy of its counters into the stats segment, under its sequence count (once a millisecond)")}
{row("summarize", "a logged 64-byte UDP frame decoded into its fields (pollnetctl's work, never an lcore's)")}
{row("format", "those fields as a text line, as `pollnetctl tail` prints it (snprintf)")}

`udp_rx` and `udp_tx` cost {ins("udp_rx") - FIRST["udp_rx"]} and {ins("udp_tx") - FIRST["udp_tx"]} instructions more than in the first
version of this table ({FIRST["udp_rx"]} and {FIRST["udp_tx"]}): the price of client sockets (delivery
by socket kind), of local delivery (is the destination ours?), and of
believing nothing from the wire: the martian-source checks cost `udp_rx` 34
instructions (454 before them, measured with this benchmark), `arp_reply`
32 (253 before: the sender is checked too), and the forbidden-destination
check costs `udp_tx` 21 (357 before). Then the kernel's per-datagram
metadata and broadcast (issue 22), measured with this benchmark: `udp_rx`
5 more (489 before), `shm_rx` 22 (661: the 32-byte descriptor's
destination, TOS, TTL and receive stamp), `udp_tx` 41 (378: TOS and TTL as
arguments, the broadcast and group tests), `shm_tx` 82 (686) and `shm_local` 45 (345:
the drain's checks of a client's chosen source and of a large datagram's
slots, and the descriptor). Then IP fragments both ways (issue 22),
measured with this benchmark at 3a38e35 and after: `udp_rx` 1 fewer (494:
a datagram made whole takes its own path, `udp_input_chain`), `udp_tx` 7
more (419: `stack_tx` asks whether a frame is longer than the MTU, the
DF choice), `udp_tx_offload` 4 (302), `shm_rx` 5 (683), `shm_tx` 6 (768),
`shm_local` 3 (390), `icmp_echo` 13 (527: both its sums ask whether the
message is a chain, a ping made whole); the TOS, TTL and DF choice travel in one word, so
that every argument of `udp_output_ip` stays in a register (as seven
arguments they cost `udp_tx` 30). The `shm_*`
paths publish after every datagram here; the lcore publishes once per loop.

### Anchors: the same job done DPDK's way, in the same run

| job | pollnet | DPDK | ratio |
|---|---:|---:|---:|
| find the socket for a datagram to a bound port | {ins("lookup_pollnet")} (per-port table; the 4-tuple hash only when the port has connected sockets) | {ins("lookup_rte_hash")} (`rte_hash`: exact 4-tuple miss, then the wildcard key) | {ins("lookup_rte_hash") / ins("lookup_pollnet"):.0f}× fewer |
| one's-complement sum of 1,472 bytes | {ins("cksum_1472_pollnet")} (64-bit words, end-around carry) | {ins("cksum_1472_dpdk")} (`__rte_raw_cksum`, which gcc vectorizes when it is inlined) | {ins("cksum_1472_dpdk") / ins("cksum_1472_pollnet"):.1f}× |

The socket table was two `rte_hash` lookups per datagram (985 instructions per
`udp_rx`) until this benchmark showed that two thirds of the receive path went
there. The checksum is a wash on full-size frames (DPDK's vectorized loop wins
by about 10 %) and about half DPDK's cost on short ones (94 vs 207
instructions on 72 bytes, measured once with both compiled out of line);
on the e1000s the port computes it (`udp_tx_offload`).

## Reproduce

As root on Debian 12 (each installs what it needs, builds if needed, rewrites
its JSON and its plot, then this page):

```
bench/run.sh stack
bench/run.sh shm-sockets
bench/run.sh guest-pmd
bench/run.sh servers            # then servers-cpu and servers-dns (unbound), which also run alone
bench/run.sh lcores
bench/run.sh exception
bench/run.sh servers-guest
bench/run.sh preload            # preload-host and preload-guest, one after the other
```
"""
open(out, "w").write(doc)
print("wrote", out, file=sys.stderr)
