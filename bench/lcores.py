#!/usr/bin/python3
"""bench/run.sh lcores: pollnet with one data-plane lcore and with two, each
with its own queue, under the same flood, on two ports:

  afp   net_af_packet, qpairs=N: its sockets in a PACKET_FANOUT_HASH group,
        the kernel's flow hash spreading the flows (pollnet's own address)
  xdp   xdp: on the kernel's address, a net_af_xdp device per queue of the
        veth, which has as many receive queues as lcores, its peer as many
        transmit queues (ethtool -L; with two, the peer's transmit queue,
        chosen by each flow's hash, picks the receive queue)

and three placements:

  1 lcore             control thread on cpu 0, the lcore on cpu 1
  2 lcores, cpus 1+1  both lcores on cpu 1 (the generator keeps cpu 0)
  2 lcores, cpus 1+0  one lcore on each cpu, the second beside the generator

Two pollnet-echo processes (ports 9001 and 9002, --batch 32, --ring 4096),
each pinned to the CPU of the lcore that owns its socket (sockets go to the
lcores in turn: with two lcores, one each).  Two network namespaces joined
by a veth made with two queues each way on both ends; the peer's trafgen
(netsniff-ng), pinned to cpu 0, sends FRAMES 64-byte frames as fast as it
can through the kernel's queueing (--qdisc-path: its default bypass would
put every frame on the transmit queue of its CPU), FLOWS flows in turn
(source ports from 40000 up, to 9001 and 9002 alternately), so that the
hashes spread them over the queues.  Each case runs REPS times; the run of median echoed/s is the
one reported, with every run's.  Echoed: the peer veth's receive count.
Per lcore: the frames its queue received, and the datagrams it handed to
the other lcore's socket (stack.rx_steered over the run).  CPU: every CPU's
busy time (wall less idle, iowait and steal: benchproc.busy) over the
phase, per echoed datagram.

usage: lcores.py BUILD_DIR OUT_JSON
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
FRAMES, REPS, GEN_CPU, FLOWS = 1000000, 3, 0, 16
PLACES = [  # name, --lcores, data-plane lcores' CPUs (in order)
    ("1 lcore", "0@0,1@1", [1]),
    ("2 lcores, cpus 1+1", "0@0,1@1,2@1", [1, 1]),
    ("2 lcores, cpus 1+0", "0@0,1@1,2@0", [1, 0]),
]
CASES = [(kind + ", " + name, kind, lcores, cpus) for kind in ("afp", "xdp")
         for name, lcores, cpus in PLACES]
PORTS = [9001, 9002]

if len(sys.argv) != 3:
    sys.exit(__doc__.split("usage:")[1].strip())
build, out_json = sys.argv[1], sys.argv[2]


def trafgen_cfg(net, dut_mac):
    pmac = json.loads(sh("ip", "-j", "link", "show", net.peer_if, ns=net.peer).stdout)[0]["address"]
    f = tempfile.NamedTemporaryFile("w", suffix=".cfg", delete=False)
    for i in range(FLOWS):
        f.write("{ eth(da=%s, sa=%s), ipv4(saddr=%s, daddr=%s, ttl=64), "
                "udp(sp=%d, dp=%d), fill('t', 18) }\n" % (dut_mac, pmac, PEER_IP, DUT_IP,
                                                         40000 + i, PORTS[i % 2]))
    f.close()
    return f.name


def flood(net, dut_mac, pn, n):
    """One run: sent, echoed, echoed/s, busy s, per lcore rx frames and steered."""
    cfg = trafgen_cfg(net, dut_mac)
    c0 = pn.report()
    (t0, r0), b0, w0 = peer_link(net), busy(), time.time()
    out = sh(*ns_cmd(net.peer, ["trafgen", "-o", net.peer_if, "-i", cfg, "-n", str(FRAMES),
                                "-P", "1", "--no-sock-mem", "--notouch-irq", "-C", "-q"],
                     cpu=GEN_CPU), check=False, timeout=300).stdout
    wall, b1 = time.time() - w0, busy()
    time.sleep(1)                       # the last echoes
    (t1, r1), c1 = peer_link(net), pn.report()
    os.unlink(cfg)
    if not re.search(r"(\d+) packets outgoing", out):
        return None                     # trafgen gave up on a full veth (EAGAIN)
    echoed = r1 - r0
    return {"sent": t1 - t0, "echoed": echoed, "wall_s": round(wall, 2),
            "echoed_per_s": round(echoed / wall) if wall else 0,
            "busy_s": round(b1 - b0, 3),
            "cpu_us_per_echo": round((b1 - b0) / echoed * 1e6, 2) if echoed else None,
            "rx_frames": [c1.get("lcore%d.rx_frames" % i, 0) - c0.get("lcore%d.rx_frames" % i, 0)
                          for i in range(n)],
            "steered": c1.get("stack.rx_steered", 0) - c0.get("stack.rx_steered", 0),
            "yields": [c1.get("lcore%d.yields" % i, 0) - c0.get("lcore%d.yields" % i, 0)
                       for i in range(n)],
            "udp_ring_full": c1.get("stack.rx_drop.udp_ring_full", 0) -
            c0.get("stack.rx_drop.udp_ring_full", 0),
            "rx_missed": c1.get("port.rx_missed", 0) - c0.get("port.rx_missed", 0)}


def main():
    result = header("lcores", __doc__)
    result["settings"] = {"frames": FRAMES, "reps": REPS, "generator_cpu": GEN_CPU}
    net = Namespaces(peer_ip=PEER_IP + "/24")
    # the veth again, with two queues each way on both ends
    sh("ip", "link", "del", net.dut_if, ns=net.dut)
    sh("ip", "link", "add", net.dut_if, "netns", net.dut, "numtxqueues", "2", "numrxqueues", "2",
       "type", "veth", "peer", "name", net.peer_if, "netns", net.peer, "numtxqueues", "2",
       "numrxqueues", "2")
    sh("ethtool", "-K", net.peer_if, "tx", "off", ns=net.peer)
    sh("ip", "addr", "add", PEER_IP + "/24", "dev", net.peer_if, ns=net.peer)
    for ns, dev in ((net.dut, net.dut_if), (net.peer, net.peer_if)):
        sh("ip", "link", "set", dev, "up", ns=ns)
    tmp = tempfile.mkdtemp(prefix="pn-bench-lcores.")
    ctl = os.path.join(tmp, "pollnet.sock")
    R = result["cases"] = {}
    try:
        for name, kind, lcores, cpus in CASES:
            n = len(cpus)
            if kind == "afp":
                port = "dpdk:net_af_packet0,iface=%s,qpairs=%d,framecnt=4096" % (net.dut_if, n)
                ip = DUT_IP + "/24"
            else:               # the kernel's address, pollnet beside it
                sh("ip", "addr", "replace", DUT_IP + "/24", "dev", net.dut_if, ns=net.dut)
                # as many receive queues as lcores (with more, the others'
                # datagrams would reach pollnet through the kernel), and
                # the peer as many transmit queues (veth's XDP wants no more)
                sh("ethtool", "-L", net.peer_if, "tx", str(n), ns=net.peer)
                sh("ethtool", "-L", net.dut_if, "rx", str(n), ns=net.dut)
                port, ip = "xdp:" + net.dut_if, None
            pn = Pollnet(os.path.join(build, "app", "pollnet"), net.dut, port, ip,
                         lcores=lcores, extra=["--ctl", ctl])
            dut_mac = json.loads(sh("ip", "-j", "link", "show", net.dut_if,
                                    ns=net.dut).stdout)[0]["address"]
            sh("ip", "neigh", "replace", DUT_IP, "lladdr", dut_mac, "dev", net.peer_if, "nud",
               "permanent", ns=net.peer)
            echoes = []
            for i, p in enumerate(PORTS):   # socket i is lcore (i % n)'s
                e = spawn(net.dut, [os.path.join(build, "client", "pollnet-echo"), "--ctl", ctl,
                                    "--batch", "32", "--ring", "4096", str(p)],
                          cpu=cpus[i % n])
                if not e.stdout.readline().startswith("pollnet-echo: echoing"):
                    raise SystemExit("pollnet-echo on port %d did not start" % p)
                echoes.append(e)
            time.sleep(0.5)
            runs, failed = [], 0
            while len(runs) < REPS:
                r = flood(net, dut_mac, pn, n)
                if r is None:
                    failed += 1
                    if failed > 3:
                        raise SystemExit("%s: trafgen failed %d times" % (name, failed))
                    continue
                runs.append(r)
            for e in echoes:
                stop(e)
            pn.stop()
            if kind == "xdp":
                sh("ip", "addr", "del", DUT_IP + "/24", "dev", net.dut_if, ns=net.dut)
            runs.sort(key=lambda r: r["echoed_per_s"])
            row = dict(runs[len(runs) // 2])
            row["echoed_per_s_runs"] = [r["echoed_per_s"] for r in runs]
            row["port"], row["lcores"], row["cpus"] = port, lcores, cpus
            R[name] = row
            print("== %s: echoed %d of %d (%d/s; runs %s), %.2f us CPU per echo, rx per lcore "
                  "%s, steered %d, yields %s" % (name, row["echoed"], row["sent"],
                                                 row["echoed_per_s"], row["echoed_per_s_runs"],
                                                 row["cpu_us_per_echo"] or 0, row["rx_frames"],
                                                 row["steered"], row["yields"]),
                  file=sys.stderr)
    finally:
        stop_all()
        net.close()
    ratios = {k: round(v["echoed_per_s"] / max(R[k.split(",")[0] + ", 1 lcore"]["echoed_per_s"],
                                               1), 2) for k, v in R.items()}
    result["echoed_over_1_lcore"] = ratios
    write_result(result, out_json, ratios)


if __name__ == "__main__":
    main()
