#!/usr/bin/python3
"""bench/run.sh preload: the same unmodified programs (Debian's sockperf and
iperf 2) over pollnet-run and over the Linux kernel, one after the other in
one run, on this host.

Topology: two network namespaces joined by a veth pair.  The program under
test runs in one of them, either under pollnet-run (pollnet on the veth
through net_af_packet, its control thread on cpu 0 and its lcore on cpu 1)
or on the kernel (the same veth given pollnet's address); the kernel of the
other namespace is the peer.  The program under test is pinned to cpu 0 both
times; the peer's programs go where the scheduler puts them (pinned to cpu 0
as well, the peer's server and a client that spins before it sleeps take
turns on one core, and pollnet-run's round trip triples).

- sockperf ping-pong, 64 B, one message in flight, round trips (--full-rtt):
  the program under test is the client, the peer's sockperf the server.
- iperf -u, 64-byte payloads: the program under test is the server; the
  peer's client offers each rate in turn; iperf's own report gives what
  arrived and what was lost.
- sockperf throughput, 64 B, as fast as the peer's client sends (--mps max):
  the program under test is the server; what it got is pollnet's delivered
  count, or the kernel's UDP InDatagrams, and what was lost pollnet's
  udp_ring_full (and the port's rx_missed), or the kernel's RcvbufErrors.

Each program's CPU time is read from /proc (and pollnet's, whose lcore
polls all the time, is given beside it).

usage: preload.py BUILD_DIR OUT_JSON
"""
import os
import re
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
from netns import Namespaces, Pollnet, sh  # noqa: E402
from benchproc import (header, ns_cmd, proc_cpu, snmp_udp, spawn, stop,  # noqa: E402
                       stop_all, write_result)

DUT_IP, PEER_IP = "198.18.0.2", "198.18.0.1"
RATES = [25000, 50000, 100000, 200000]          # datagrams/s offered to iperf's server
PP_SECONDS, RATE_SECONDS, TP_SECONDS = 5, 3, 3

build, out_json = sys.argv[1], sys.argv[2]
run = os.path.join(build, "client", "pollnet-run")


def cpu_seconds(out):
    m = re.findall(r"cpu ([\d.]+) ([\d.]+)", out)
    return float(m[-1][0]) + float(m[-1][1]) if m else None


def measure(net, dut_prefix, counters):
    """The three measurements; dut_prefix runs a program on the side under
    test (["sh", pollnet-run] or []); counters() gives (received, lost)."""
    res = {}
    # 1. round trips
    srv = spawn(net.peer, ["sockperf", "server", "-i", PEER_IP, "-p", "11111"], cpu=None)
    time.sleep(0.5)
    out = sh(*ns_cmd(net.dut, ["/usr/bin/time", "-f", "cpu %U %S"] + dut_prefix +
                     ["sockperf", "ping-pong", "-i", PEER_IP, "-p", "11111", "-t",
                      str(PP_SECONDS), "-m", "64", "--full-rtt"]), check=False,
             timeout=120).stdout
    stop(srv)
    q = {k: float(v) for k, v in re.findall(r"percentile (\d+\.\d+) =\s*([\d.]+)", out)}
    m = re.search(r"\[Valid Duration\] RunTime=([\d.]+) sec; SentMessages=(\d+); "
                  r"ReceivedMessages=(\d+)", out)
    if not m or "50.000" not in q:
        raise SystemExit("sockperf ping-pong failed:\n" + out[-2000:])
    res["pingpong"] = {"p50_us": q["50.000"], "p99_us": q["99.000"], "p999_us": q["99.900"],
                       "round_trips": int(m.group(3)),
                       "round_trips_per_s": round(int(m.group(3)) / float(m.group(1))),
                       "client_cpu_s": cpu_seconds(out), "seconds": float(m.group(1))}
    print("  ping-pong: p50 %.1f us, p99 %.1f us" % (q["50.000"], q["99.000"]), file=sys.stderr)

    # 2. iperf -u at each rate
    res["iperf"] = []
    for rate in RATES:
        srv = spawn(net.dut, ["/usr/bin/time", "-f", "cpu %U %S"] + dut_prefix +
                    ["iperf", "-s", "-u", "-p", "5001", "-l", "64"])
        time.sleep(1)
        c0 = counters()
        out = sh(*ns_cmd(net.peer, ["iperf", "-c", DUT_IP, "-u", "-p", "5001", "-l", "64",
                                    "-b", "%dpps" % rate, "-t", str(RATE_SECONDS)], cpu=None),
                 check=False, timeout=60).stdout
        time.sleep(0.5)
        c1 = counters()
        sout = stop(srv)
        rep = re.search(r"Server Report:.*?(\d+)/\s*(\d+) \(", out, re.S)
        sent = re.search(r"Sent (\d+) datagrams", out)
        row = {"offered_per_s": rate,
               "sent": int(sent.group(1)) if sent else None,
               "lost": int(rep.group(1)) if rep else None,
               "total": int(rep.group(2)) if rep else None,
               "received_by_stack": c1[0] - c0[0], "dropped_by_stack": c1[1] - c0[1],
               "server_cpu_s": cpu_seconds(sout)}
        row["achieved_per_s"] = round(row["sent"] / RATE_SECONDS) if row["sent"] else None
        res["iperf"].append(row)
        print("  iperf %d/s: sent %s, lost %s of %s" % (rate, row["sent"], row["lost"],
                                                     row["total"]), file=sys.stderr)
    ok = [r for r in res["iperf"] if r["lost"] == 0 and r["total"]]
    res["iperf_best_zero_loss_per_s"] = max((r["achieved_per_s"] for r in ok), default=0)

    # 3. sockperf throughput, as fast as the peer sends
    srv = spawn(net.dut, ["/usr/bin/time", "-f", "cpu %U %S"] + dut_prefix +
                ["sockperf", "server", "-i", DUT_IP, "-p", "11112"])
    time.sleep(1)
    c0 = counters()
    out = sh(*ns_cmd(net.peer, ["sockperf", "throughput", "-i", DUT_IP, "-p", "11112", "-t",
                                str(TP_SECONDS), "-m", "64", "--mps", "max"], cpu=None),
             check=False, timeout=60).stdout
    time.sleep(0.5)
    c1 = counters()
    sout = stop(srv)
    m = re.search(r"Total of (\d+) messages sent in ([\d.]+) sec", out)
    if not m:
        raise SystemExit("sockperf throughput failed:\n" + out[-2000:])
    sent, secs = int(m.group(1)), float(m.group(2))
    got, lost = c1[0] - c0[0], c1[1] - c0[1]
    res["throughput"] = {"sent": sent, "seconds": secs, "offered_per_s": round(sent / secs),
                         "received": got, "received_per_s": round(got / secs),
                         "lost_counted": lost, "server_cpu_s": cpu_seconds(sout)}
    print("  sockperf tp: sent %d, received %d, lost (counted) %d" % (sent, got, lost),
          file=sys.stderr)
    return res


def main():
    result = header("preload", __doc__)
    result["sockperf"] = sh("sockperf", "--version", check=False).stdout.split("\n")[0].strip()
    net = Namespaces(peer_ip=PEER_IP + "/24")
    tmp = "/tmp/pn-bench-preload"
    os.makedirs(tmp, exist_ok=True)
    ctl = os.path.join(tmp, "pollnet.sock")
    os.environ["POLLNET_CTL"] = ctl
    try:
        # pollnet-run
        print("pollnet-run (pollnet on net_af_packet, lcore on cpu 1):", file=sys.stderr)
        pn = Pollnet(os.path.join(build, "app", "pollnet"), net.dut,
                     "dpdk:net_af_packet0,iface=%s" % net.dut_if, DUT_IP + "/24",
                     extra=["--ctl", ctl, "--stats", os.path.join(tmp, "pollnet.stats")])
        deadline = time.time() + 10
        while sh("ping", "-c", "1", "-W", "1", DUT_IP, ns=net.peer, check=False).returncode:
            if time.time() > deadline:
                raise SystemExit("pollnet does not answer ping")
        cpu0 = proc_cpu(pn.proc.pid)

        def pn_counters():
            r = pn.report()
            return (r.get("stack.udp_delivered", 0),
                    r.get("stack.rx_drop.udp_ring_full", 0) + r.get("port.rx_missed", 0))
        t0 = time.time()
        result["pollnet_run"] = measure(net, ["sh", run], pn_counters)
        result["pollnet_run"]["pollnet_cpu_s"] = round(proc_cpu(pn.proc.pid) - cpu0, 2)
        result["pollnet_run"]["wall_s"] = round(time.time() - t0, 1)
        pn.stop()

        # the kernel, same veth, same address
        print("the Linux kernel (the same veth and address):", file=sys.stderr)
        sh("ip", "addr", "add", DUT_IP + "/24", "dev", net.dut_if, ns=net.dut)
        sh("ping", "-c", "1", "-W", "2", DUT_IP, ns=net.peer)

        def k_counters():
            u = snmp_udp(net.dut)
            return u["InDatagrams"], u["RcvbufErrors"]
        result["kernel"] = measure(net, [], k_counters)
    finally:
        stop_all()
    P, K = result["pollnet_run"], result["kernel"]
    result["ratios"] = {
        "pingpong_p50_kernel_over_pollnet": round(K["pingpong"]["p50_us"] /
                                                  P["pingpong"]["p50_us"], 2),
        "pingpong_p99_kernel_over_pollnet": round(K["pingpong"]["p99_us"] /
                                                  P["pingpong"]["p99_us"], 2),
        "iperf_zero_loss_pollnet_over_kernel": round(P["iperf_best_zero_loss_per_s"] /
                                                     max(K["iperf_best_zero_loss_per_s"], 1), 2),
        "sockperf_tp_received_pollnet_over_kernel": round(P["throughput"]["received_per_s"] /
                                                          max(K["throughput"]["received_per_s"],
                                                              1), 2),
    }
    write_result(result, out_json, result["ratios"])


if __name__ == "__main__":
    main()
