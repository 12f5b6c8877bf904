#!/usr/bin/python3
"""bench/run.sh servers: one UDP echo server's job, done three ways, measured
with the same load generators in one run, on this host.

  echo        pollnet's built-in echo service (port 7), run by its lcore
  libpollnet  pollnet-echo --batch 1: a libpollnet client process, one
              datagram per call (pollnet_recvfrom, pollnet_sendto; port 9000)
  libpollnet-batch
              pollnet-echo (--batch 32): up to 32 per call
              (pollnet_recvmmsg, pollnet_sendmmsg; port 9001)
  libpollnet-moderated
              the same, with pollnet restarted with wake-up moderation
              (sockets.wake_batch = 32, sockets.wake_delay = 100 us; port 9002)
  kernel      the Linux kernel's UDP stack with a recvmmsg/sendmmsg echo
              server (bench/shm_bench echo kernel-mmsg, port 9000)

Topology: two network namespaces joined by a veth pair; pollnet on its end
through DPDK's net_af_packet (control thread on cpu 0, lcore on cpu 1), or,
for the kernel, the same veth given pollnet's address.  Server processes
(pollnet-echo, the kernel's echo) are pinned to cpu 0; the generators, in
the peer namespace, run where the scheduler puts them.  64-byte datagrams.

- round trips: one datagram in flight, RTT_N of them after 1000 to warm
  up, from a kernel UDP socket (bench/shm_bench rtt kernel: sockperf's
  ping-pong needs sockperf's own server, which a plain echo is not);
- iperf -u (iperf 2) at each offered rate for 3 s: every frame the peer
  sent and every echo it got back (its interface's counters), the
  difference lost, and where each lost datagram is counted (pollnet's
  drop counters and the port's rx_missed; the kernel's UDP InErrors,
  RcvbufErrors and SndbufErrors and the veth's drops);
- trafgen (netsniff-ng): FRAMES frames as fast as one peer CPU sends them;
- the CPU seconds each side used in each phase: the server process's, and
  pollnet's (its lcore polls all the time) from /proc.

usage: servers.py BUILD_DIR OUT_JSON
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
from benchproc import (header, ns_cmd, proc_cpu, snmp_udp, spawn, stop,  # noqa: E402
                       stop_all, write_result)

DUT_IP, PEER_IP = "198.18.0.2", "198.18.0.1"
RATES = [25000, 50000, 100000, 150000, 200000, 250000]
RTT_N, RATE_SECONDS, FRAMES = 20000, 3, 1000000
WAKE_BATCH, WAKE_DELAY_US = 32, 100       # the moderated run's settings

build, out_json = sys.argv[1], sys.argv[2]


def child_pid(p, name):
    """The pid of `name` under p (ip netns exec + taskset exec into it)."""
    deadline = time.time() + 5
    while time.time() < deadline:
        try:
            with open("/proc/%d/comm" % p.pid) as f:
                if f.read().strip() == name[:15]:
                    return p.pid
        except OSError:
            pass
        time.sleep(0.05)
    raise SystemExit("%s did not start" % name)


def link_stats(ns, ifname):
    out = sh("ip", "-s", "-j", "link", "show", ifname, ns=ns).stdout
    st = json.loads(out)[0]["stats64"]
    return {"rx_packets": st["rx"]["packets"], "tx_packets": st["tx"]["packets"],
            "rx_dropped": st["rx"]["dropped"], "tx_dropped": st["tx"]["dropped"]}


def diff(a, b):
    return {k: b[k] - a.get(k, 0) for k in b if b[k] - a.get(k, 0)}


def measure(net, name, port, losses, cpus):
    """losses(): the counters where this side counts what it loses;
    cpus(): CPU seconds by process."""
    res = {"port": port}
    print("== %s (port %d)" % (name, port), file=sys.stderr)
    # 1. round trips
    r = sh(*ns_cmd(net.peer, [os.path.join(build, "bench", "shm_bench"), "rtt", "kernel", DUT_IP,
                              str(port), str(RTT_N), "64"], cpu=None), check=False, timeout=120)
    try:
        q = json.loads(r.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise SystemExit("%s: the round trips failed:\n%s" % (name, r.stdout[-2000:]))
    res["pingpong"] = {"p50_us": q["p50_ns"] / 1e3, "p99_us": q["p99_ns"] / 1e3,
                       "min_us": q["min_ns"] / 1e3, "round_trips": q["round_trips"]}
    print("  round trips: p50 %.1f us, p99 %.1f us" % (q["p50_ns"] / 1e3, q["p99_ns"] / 1e3),
          file=sys.stderr)

    def phase(cmd, seconds_hint):
        p0, l0, c0 = link_stats(net.peer, net.peer_if), losses(), cpus()
        t0 = time.time()
        out = sh(*ns_cmd(net.peer, cmd, cpu=None), check=False, timeout=120).stdout
        wall = time.time() - t0
        time.sleep(1)           # the last echoes, and the counters' publication
        p1, l1, c1 = link_stats(net.peer, net.peer_if), losses(), cpus()
        sent, echoed = p1["tx_packets"] - p0["tx_packets"], p1["rx_packets"] - p0["rx_packets"]
        row = {"sent": sent, "echoed": echoed, "lost": max(sent - echoed, 0),
               "lost_where": diff(l0, l1), "wall_s": round(wall, 2),
               "cpu_s": {k: round(c1[k] - c0[k], 2) for k in c1}}
        row["lost_counted"] = sum(row["lost_where"].values())
        return row, out

    # 2. iperf at each rate
    res["iperf"] = []
    for rate in RATES:
        row, out = phase(["iperf", "-c", DUT_IP, "-u", "-p", str(port), "-l", "64", "-b",
                          "%dpps" % rate, "-t", str(RATE_SECONDS)], RATE_SECONDS)
        row["offered_per_s"] = rate
        row["echoed_per_s"] = round(row["echoed"] / RATE_SECONDS)
        res["iperf"].append(row)
        print("  iperf %d/s: sent %d, echoed %d, lost %d (counted %d: %s)" %
              (rate, row["sent"], row["echoed"], row["lost"], row["lost_counted"],
               row["lost_where"]), file=sys.stderr)
    ok = [r for r in res["iperf"] if r["lost"] == 0]
    res["iperf_best_zero_loss_per_s"] = max((r["echoed_per_s"] for r in ok), default=0)

    # 3. trafgen, as fast as one CPU of the peer sends
    mac = json.loads(sh("ip", "-j", "link", "show", net.dut_if, ns=net.dut).stdout)[0]["address"]
    pmac = json.loads(sh("ip", "-j", "link", "show", net.peer_if,
                         ns=net.peer).stdout)[0]["address"]
    with tempfile.NamedTemporaryFile("w", suffix=".cfg", delete=False) as cfg:
        cfg.write("{ eth(da=%s, sa=%s), ipv4(saddr=%s, daddr=%s, ttl=64), "
                  "udp(sp=40000, dp=%d), fill('t', 18) }\n" % (mac, pmac, PEER_IP, DUT_IP, port))
    row, out = phase(["trafgen", "-o", net.peer_if, "-i", cfg.name, "-n", str(FRAMES), "-P", "1",
                      "--no-sock-mem", "--notouch-irq", "-C"], None)
    os.unlink(cfg.name)
    row["offered_per_s"] = round(row["sent"] / row["wall_s"]) if row["wall_s"] else None
    row["echoed_per_s"] = round(row["echoed"] / row["wall_s"]) if row["wall_s"] else None
    res["trafgen"] = row
    print("  trafgen: sent %d in %.2f s, echoed %d, lost %d (counted %d: %s)" %
          (row["sent"], row["wall_s"], row["echoed"], row["lost"], row["lost_counted"],
           row["lost_where"]), file=sys.stderr)
    return res


def main():
    result = header("servers", __doc__)
    result["servers"] = {}
    net = Namespaces(peer_ip=PEER_IP + "/24")
    tmp = tempfile.mkdtemp(prefix="pn-bench-servers.")
    ctl = os.path.join(tmp, "pollnet.sock")
    moderation = ["--set", "sockets.wake_batch=%d" % WAKE_BATCH,
                  "--set", "sockets.wake_delay=%d" % WAKE_DELAY_US]
    try:
        # pollnet as configured by default: its echo service and
        # pollnet-echo one per call and in batches; then pollnet again with
        # wake-up moderation, and pollnet-echo in batches
        for mod in (False, True):
            pn = Pollnet(os.path.join(build, "app", "pollnet"), net.dut,
                         "dpdk:net_af_packet0,iface=%s" % net.dut_if, DUT_IP + "/24",
                         extra=["--ctl", ctl, "--stats", os.path.join(tmp, "pollnet.stats")] +
                         (moderation if mod else []))
            deadline = time.time() + 10
            while sh("ping", "-c", "1", "-W", "1", DUT_IP, ns=net.peer, check=False).returncode:
                if time.time() > deadline:
                    raise SystemExit("pollnet does not answer ping")

            def pn_losses():
                r = pn.report()
                return {k: v for k, v in r.items()
                        if k == "port.rx_missed" or ".rx_drop." in k or ".tx_drop." in k or
                        k.startswith("sock.") and k.endswith("_drops")}

            if not mod:
                result["servers"]["echo"] = measure(
                    net, "pollnet's echo service", 7, pn_losses,
                    lambda: {"pollnet": proc_cpu(pn.proc.pid)})
            runs = ((("libpollnet-moderated", 32, 9002),) if mod else
                    (("libpollnet", 1, 9000), ("libpollnet-batch", 32, 9001)))
            for key, batch, port in runs:
                echo = spawn(net.dut, [os.path.join(build, "client", "pollnet-echo"), "--ctl",
                                       ctl, "--batch", str(batch), str(port)], cpu=0)
                epid = child_pid(echo, "pollnet-echo")
                time.sleep(0.5)
                result["servers"][key] = measure(
                    net, "pollnet-echo --batch %d (libpollnet)%s" %
                    (batch, ", wake-up moderation %d / %d us" % (WAKE_BATCH, WAKE_DELAY_US)
                     if mod else ""), port, pn_losses,
                    lambda: {"pollnet": proc_cpu(pn.proc.pid), "server": proc_cpu(epid)})
                result["servers"][key]["server_output"] = stop(echo)[-500:]
            pn.stop()
        result["moderation"] = {"wake_batch": WAKE_BATCH, "wake_delay_us": WAKE_DELAY_US}

        # the kernel
        sh("ip", "addr", "add", DUT_IP + "/24", "dev", net.dut_if, ns=net.dut)
        sh("ping", "-c", "1", "-W", "2", DUT_IP, ns=net.peer)
        kecho = spawn(net.dut, [os.path.join(build, "bench", "shm_bench"), "echo",
                                "kernel-mmsg", "9000"], cpu=0)
        kpid = child_pid(kecho, "shm_bench")
        time.sleep(0.5)

        def k_losses():
            u = snmp_udp(net.dut)
            d = link_stats(net.dut, net.dut_if)
            return {"udp.InErrors": u["InErrors"], "udp.SndbufErrors": u["SndbufErrors"],
                    "veth.rx_dropped": d["rx_dropped"], "veth.tx_dropped": d["tx_dropped"]}
        result["servers"]["kernel"] = measure(net, "the kernel (recvmmsg/sendmmsg echo)", 9000,
                                              k_losses, lambda: {"server": proc_cpu(kpid)})
        result["servers"]["kernel"]["server_output"] = stop(kecho)[-500:]
    finally:
        stop_all()
    S = result["servers"]

    def ratio(a, b):
        return round(a / b, 2) if a and b else None
    result["ratios"] = {
        "%s_over_kernel" % k: {
            "p50": ratio(S[k]["pingpong"]["p50_us"], S["kernel"]["pingpong"]["p50_us"]),
            "p99": ratio(S[k]["pingpong"]["p99_us"], S["kernel"]["pingpong"]["p99_us"]),
            "iperf_zero_loss": ratio(S[k]["iperf_best_zero_loss_per_s"],
                                     S["kernel"]["iperf_best_zero_loss_per_s"]),
            "trafgen_echoed": ratio(S[k]["trafgen"]["echoed_per_s"],
                                    S["kernel"]["trafgen"]["echoed_per_s"])}
        for k in ("echo", "libpollnet", "libpollnet-batch", "libpollnet-moderated")}
    write_result(result, out_json, result["ratios"])


if __name__ == "__main__":
    main()
