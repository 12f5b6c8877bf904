#!/usr/bin/python3
"""bench/run.sh servers, its CPU part: what one echoed UDP datagram costs the
whole machine, with the kernel's echo, with pollnet on net_af_packet (its own
address on the veth) and with pollnet on xdp: (the kernel's address, its
XDP program taking only pollnet's ports), at set rates.

  kernel              bench/shm_bench echo kernel-mmsg (recvmmsg/sendmmsg,
                      port 9000), the veth with the address
  afp-echo            pollnet on net_af_packet (framecnt 4096), its echo
                      service (port 7)
  afp-libpollnet      ... pollnet-echo --batch 32 --ring 4096 (port 9001)
  xdp-echo            pollnet on xdp:, its echo service (port 7)
  xdp-libpollnet      ... pollnet-echo --batch 32 --ring 4096 (port 9001)
  xdp-echo-interrupt, xdp-libpollnet-interrupt
                      the same with dataplane.idle = interrupt and
                      idle_after = 10 us: after 10 us without work the lcore
                      sleeps until its AF_XDP socket is readable (or a
                      client rings)
  xdp-echo-moderated, xdp-libpollnet-moderated
                      the same with dataplane.idle = interrupt, idle_after =
                      10 us and dataplane.moderation = 1000 us: while a
                      stream comes the lcore looks once a millisecond, a
                      batch per wake-up, for up to 1 ms more latency (a
                      NIC's interrupt moderation); idle, it sleeps on its
                      socket

Two network namespaces joined by a veth, as servers.py has them; 64-byte
datagrams.  CPUs: the generator pinned to cpu 0, alone there but for
pollnet's control thread (asleep in poll(2) most of the time); pollnet's
lcore on cpu 1 with the server process (the kernel's echo, pollnet-echo).
pollnet runs with its built-in settings (dataplane.idle = nap: its lcore
naps after 1 ms without work) but in the -interrupt and -moderated runs.
The peer has a permanent neighbour entry
for the server's address (its ARP would not reach anyone while the sink is
attached, below).

Idle: the busy time of RATE_SECONDS with nothing sent, in ms of CPU per
second (a server that waits costs the machine this much).
The kernel's echo is measured first and again last, and its figures are
the mean of the two (each run's in the JSON): over a run the machine
drifts, and the kernel's phases moved 20 % between runs.
Rates: iperf -u (iperf 2) at 10,000, 50,000 and 100,000 datagrams/s for
RATE_SECONDS each, then trafgen (netsniff-ng) sending FRAMES frames as fast
as cpu 0 does.  CPU: the busy time of every CPU over each phase, its wall
time less its idle, iowait and steal time (/proc/stat; benchproc.busy: the
busy fields there are sampled at the tick and miss short wake-ups); each phase runs REPS times, and the run
of median busy time is the one reported (all runs' busy times are in the
JSON: this VM's background moves a phase by tens of milliseconds).  The generator alone: each phase first
run with bench/xdp_drop.o on the server's veth (an XDP program dropping
every frame as it arrives) and no server; its busy time per frame sent is
taken off each server's phase for the frames sent there.  Per echoed
datagram: (busy - generator's share) / echoed, in microseconds of CPU;
echoed and sent from the peer veth's counters.  Before the rates, round
trips: RTT_N datagrams one at a time (bench/shm_bench rtt kernel, a
kernel socket in the peer, pinned to the generator's CPU like the
generators: a sender that the scheduler puts beside the server instead
wakes it without an inter-processor interrupt, and a round trip moves by
tens of microseconds with where it lands), p50 and p99.

usage: servers_cpu.py BUILD_DIR OUT_JSON
"""
import json
import os
import re
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
from netns import Namespaces, Pollnet, sh  # noqa: E402
from benchproc import (busy, header, ns_cmd, peer_link, spawn, stop, stop_all,  # noqa: E402
                       write_result)

DUT_IP, PEER_IP = "198.18.0.2", "198.18.0.1"
RATES = [10000, 50000, 100000]
RATE_SECONDS, FRAMES, RTT_N = 5, 1000000, 5000
REPS = 3                        # each phase run this often: the median's busy time
ECHO_RING, AFP_FRAMES = 4096, 4096
LCORES = "0@0,1@1"              # control thread on cpu 0, lcore on cpu 1
GEN_CPU, SERVER_CPU = 0, 1

if len(sys.argv) != 3:
    sys.exit(__doc__.split("usage:")[1].strip())
build, out_json = sys.argv[1], sys.argv[2]


def trafgen_cfg(net, dut_mac, port):
    pmac = json.loads(sh("ip", "-j", "link", "show", net.peer_if, ns=net.peer).stdout)[0]["address"]
    f = tempfile.NamedTemporaryFile("w", suffix=".cfg", delete=False)
    f.write("{ eth(da=%s, sa=%s), ipv4(saddr=%s, daddr=%s, ttl=64), "
            "udp(sp=40000, dp=%d), fill('t', 18) }\n" % (dut_mac, pmac, PEER_IP, DUT_IP, port))
    f.close()
    return f.name


def phases(net, dut_mac, port):
    """Each rate's command, then trafgen's: (name, argv)."""
    out = [("%d/s" % r, ["iperf", "-c", DUT_IP, "-u", "-p", str(port), "-l", "64", "-b",
                         "%dpps" % r, "-t", str(RATE_SECONDS)]) for r in RATES]
    out.append(("trafgen", ["trafgen", "-o", net.peer_if, "-i", trafgen_cfg(net, dut_mac, port),
                            "-n", str(FRAMES), "-P", "1", "--no-sock-mem", "--notouch-irq",
                            "-C"]))
    return out


def run(net, name, argv):
    """A phase REPS times (the machine's background moves a run's busy
    time by tens of milliseconds): the run of median busy time, with every
    run's busy time."""
    runs, failed = [], 0
    while len(runs) < REPS:
        r = run_once(net, name, list(argv) if argv[0] != "trafgen" else
                     argv[:4] + [trafgen_copy(argv[4])] + argv[5:])
        if r is None:           # trafgen gave up on a full veth (EAGAIN): again
            failed += 1
            if failed > 3:
                raise SystemExit("%s: trafgen failed %d times" % (name, failed))
            continue
        runs.append(r)
    if argv[0] == "trafgen":
        os.unlink(argv[4])
    runs.sort(key=lambda r: r["busy_s"])
    row = dict(runs[len(runs) // 2])
    row["busy_runs_s"] = [r["busy_s"] for r in runs]
    if failed:
        row["trafgen_failed_runs"] = failed
    return row


def trafgen_copy(path):
    f = tempfile.NamedTemporaryFile("w", suffix=".cfg", delete=False)
    f.write(open(path).read())
    f.close()
    return f.name


def run_once(net, name, argv):
    """One phase from the peer, pinned to the generator's CPU: sent,
    echoed, busy seconds, wall seconds."""
    (t0, r0), b0, w0 = peer_link(net), busy(), time.time()
    out = sh(*ns_cmd(net.peer, argv, cpu=GEN_CPU), check=False, timeout=300).stdout
    wall = time.time() - w0
    b1 = busy()
    time.sleep(1)           # the last echoes
    t1, r1 = peer_link(net)
    sent = t1 - t0
    if argv[0] == "trafgen":
        os.unlink(argv[4])      # its configuration, made for this phase
        m = re.search(r"(\d+) packets outgoing", out)
        if not m:
            print("  %s: trafgen failed: %s" % (name, out.strip().splitlines()[-1:]),
                  file=sys.stderr)
            return None
        sent = int(m.group(1))
    return {"sent": sent, "echoed": r1 - r0, "busy_s": round(b1 - b0, 3),
            "wall_s": round(wall, 2)}


def rtt(net, port):
    r = sh(*ns_cmd(net.peer, [os.path.join(build, "bench", "shm_bench"), "rtt", "kernel",
                              DUT_IP, str(port), str(RTT_N), "64"], cpu=GEN_CPU),
           check=False, timeout=300)
    try:
        q = json.loads(r.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise SystemExit("round trips to port %d failed:\n%s" % (port, r.stdout[-2000:]))
    return {"p50_us": q["p50_ns"] / 1e3, "p99_us": q["p99_ns"] / 1e3}


def idle():
    """Nothing sent for RATE_SECONDS, REPS times: the median's busy time."""
    runs = []
    for _ in range(REPS):
        b0, w0 = busy(), time.time()
        time.sleep(RATE_SECONDS)
        runs.append((busy() - b0, time.time() - w0))
    runs.sort()
    b, w = runs[len(runs) // 2]
    return {"busy_s": round(b, 3), "wall_s": round(w, 2), "busy_runs_s": [round(r[0], 3) for r in runs],
            "cpu_ms_per_s": round(b / w * 1e3, 1)}


def measure(net, dut_mac, port, alone, label):
    res = {"idle": idle()}
    print("  idle     %s: %.1f ms of CPU per second" % (label, res["idle"]["cpu_ms_per_s"]),
          file=sys.stderr)
    res["rtt"] = rtt(net, port)
    print("  round trips %s: p50 %.1f us, p99 %.1f us" % (label, res["rtt"]["p50_us"],
                                                        res["rtt"]["p99_us"]), file=sys.stderr)
    for name, argv in phases(net, dut_mac, port):
        row = run(net, name, argv)
        gen = alone[name]["busy_s"] / alone[name]["sent"] * row["sent"] \
            if alone[name]["sent"] else 0
        row["generator_share_s"] = round(gen, 3)
        row["echoed_per_s"] = round(row["echoed"] / row["wall_s"]) if row["wall_s"] else 0
        row["cpu_us_per_echo"] = round((row["busy_s"] - gen) / row["echoed"] * 1e6, 2) \
            if row["echoed"] else None
        res[name] = row
        print("  %-8s %s: sent %d, echoed %d (%d/s), busy %.2f s (generator %.2f): "
              "%s us CPU per echo" % (name, label, row["sent"], row["echoed"],
                                      row["echoed_per_s"], row["busy_s"], gen,
                                      row["cpu_us_per_echo"]), file=sys.stderr)
    return res


def kernel(net, dut_mac, alone):
    kecho = spawn(net.dut, [os.path.join(build, "bench", "shm_bench"), "echo", "kernel-mmsg",
                            "9000"], cpu=SERVER_CPU)
    time.sleep(0.5)
    print("== kernel: recvmmsg/sendmmsg echo", file=sys.stderr)
    res = measure(net, dut_mac, 9000, alone, "kernel")
    stop(kecho)
    return res


def mean_of(a, b):
    """The kernel's figures: the mean of its first and last measurement."""
    out = {}
    for p in a:
        out[p] = {}
        for k, v in a[p].items():
            w = b[p].get(k)
            if isinstance(v, int) and isinstance(w, int):
                out[p][k] = round((v + w) / 2)
            elif isinstance(v, (int, float)) and isinstance(w, (int, float)):
                out[p][k] = round((v + w) / 2, 2)
            elif isinstance(v, list) and isinstance(w, list):
                out[p][k] = v + w
    return out


def main():
    result = header("servers-cpu", __doc__)
    result["settings"] = {"rates": RATES, "rate_seconds": RATE_SECONDS, "frames": FRAMES,
                          "lcores": LCORES, "generator_cpu": GEN_CPU,
                          "server_cpu": SERVER_CPU}
    net = Namespaces(peer_ip=PEER_IP + "/24")
    dut_mac = json.loads(sh("ip", "-j", "link", "show", net.dut_if,
                            ns=net.dut).stdout)[0]["address"]
    sh("ip", "neigh", "replace", DUT_IP, "lladdr", dut_mac, "dev", net.peer_if, "nud",
       "permanent", ns=net.peer)
    tmp = tempfile.mkdtemp(prefix="pn-bench-cpu.")
    ctl, stats = os.path.join(tmp, "pollnet.sock"), os.path.join(tmp, "pollnet.stats")
    pollnet = os.path.join(build, "app", "pollnet")
    S = result["servers"] = {}
    try:
        # the generator alone: every frame dropped at the veth's XDP hook
        print("== the generators alone (bench/xdp_drop.o on the server's veth)", file=sys.stderr)
        sh("ip", "link", "set", "dev", net.dut_if, "xdpdrv", "obj",
           os.path.join(build, "bench", "xdp_drop.o"), "sec", "xdp", ns=net.dut)
        alone = {}
        for name, argv in phases(net, dut_mac, 9000):
            alone[name] = run(net, name, argv)
            print("  %-8s sent %d, busy %.2f s: %.2f us per frame sent" %
                  (name, alone[name]["sent"], alone[name]["busy_s"],
                   alone[name]["busy_s"] / max(alone[name]["sent"], 1) * 1e6), file=sys.stderr)
        sh("ip", "link", "set", "dev", net.dut_if, "xdpdrv", "off", ns=net.dut)
        result["generator_alone"] = alone

        # the kernel first (and again last: the machine drifts over a run)
        sh("ip", "addr", "add", DUT_IP + "/24", "dev", net.dut_if, ns=net.dut)
        S["kernel-first"] = kernel(net, dut_mac, alone)
        sh("ip", "addr", "del", DUT_IP + "/24", "dev", net.dut_if, ns=net.dut)

        # pollnet on net_af_packet with its own address, then on xdp: with
        # the kernel's, napping when idle and then sleeping on its socket
        for kind in ("afp", "xdp", "xdp-interrupt", "xdp-moderated"):
            more = []
            if kind == "afp":
                port = "dpdk:net_af_packet0,iface=%s,framecnt=%d" % (net.dut_if, AFP_FRAMES)
                ip = DUT_IP + "/24"
            else:
                if kind == "xdp":
                    sh("ip", "addr", "add", DUT_IP + "/24", "dev", net.dut_if, ns=net.dut)
                port, ip = "xdp:" + net.dut_if, None
            if kind == "xdp-interrupt":
                more = ["--set", "dataplane.idle=interrupt", "--set", "dataplane.idle_after=10"]
            elif kind == "xdp-moderated":
                more = ["--set", "dataplane.idle=interrupt", "--set", "dataplane.idle_after=10",
                        "--set", "dataplane.moderation=1000"]
            pn = Pollnet(pollnet, net.dut, port, ip, lcores=LCORES,
                         extra=["--ctl", ctl, "--stats", stats] + more)
            kind, suffix = kind.split("-")[0], ("-" + kind.split("-")[1] if "-" in kind else "")
            time.sleep(1)
            print("== %s-echo%s: pollnet's echo service on %s %s" % (kind, suffix, port,
                                                                  " ".join(more)),
                  file=sys.stderr)
            S[kind + "-echo" + suffix] = measure(net, dut_mac, 7, alone, kind + "-echo" + suffix)
            echo = spawn(net.dut, [os.path.join(build, "client", "pollnet-echo"), "--ctl", ctl,
                                   "--batch", "32", "--ring", str(ECHO_RING), "9001"],
                         cpu=SERVER_CPU)
            time.sleep(0.5)
            print("== %s-libpollnet%s: pollnet-echo --batch 32" % (kind, suffix), file=sys.stderr)
            S[kind + "-libpollnet" + suffix] = measure(net, dut_mac, 9001, alone,
                                                       kind + "-libpollnet" + suffix)
            stop(echo)
            c, _ = pn.stop()
            S[kind + "-echo" + suffix]["pollnet_drops"] = {k: v for k, v in c.items() if v and (
                "drop" in k or k == "port.rx_missed")}
            # pollnet-echo shares the lcore's CPU: how often the lcore gave it the CPU
            S[kind + "-libpollnet" + suffix]["lcore_yields"] = c.get("lcore0.yields", 0)

        # the kernel, the address on the veth
        S["kernel-last"] = kernel(net, dut_mac, alone)
    finally:
        stop_all()
        net.close()
    S["kernel"] = mean_of(S["kernel-first"], S["kernel-last"])
    ratios = {}
    for k in S:
        if k.startswith("kernel"):
            continue
        ratios[k] = {p: (round(S[k][p]["cpu_us_per_echo"] / S["kernel"][p]["cpu_us_per_echo"], 2)
                         if S[k][p]["cpu_us_per_echo"] and S["kernel"][p]["cpu_us_per_echo"]
                         else None) for p in S["kernel"] if p not in ("rtt", "idle")}
        for q in ("p50", "p99"):
            ratios[k]["rtt_" + q] = round(S[k]["rtt"][q + "_us"] / S["kernel"]["rtt"][q + "_us"], 2)
        ratios[k]["trafgen_echoed"] = round(S[k]["trafgen"]["echoed_per_s"] /
                                            max(S["kernel"]["trafgen"]["echoed_per_s"], 1), 2)
    result["cpu_per_echo_over_kernel"] = ratios
    write_result(result, out_json, ratios)


if __name__ == "__main__":
    main()
