#!/usr/bin/python3
"""bench/run.sh exception: what the exception path costs the kernel's TCP.

Two network namespaces and a veth, as bench/servers.py.  First the kernel
alone: the veth has the address, an iperf (2) TCP server in that namespace,
the client in the peer's, RUNS runs of SECONDS each.  Then pollnet takes the
veth (net_af_packet, its lcore on cpu 1) with port.exception = pn0: the
kernel has the same address on pn0, and every TCP segment goes through
pollnet both ways; the same server and client; twice, with pollnet's own
tap (exception_driver = tap: a flow's segments in one burst written as one
GSO frame) and with DPDK's net_tap (a write per frame).  Reported:
TCP throughput (the median run), pollnet's CPU seconds over its runs, and
the frames the exception path carried each way.  (virtio_user on vhost-net,
the other exception driver, needs /dev/vhost-net, which this host's kernel
does not have.)

usage: exception.py BUILD_DIR OUT_JSON
       exception.py --guest BUILD_DIR OUT_JSON
"""
GUEST_DOC = """bench/run.sh exception (its guest part): the same in the QEMU guest
(deploy/pollnet-guest --net tap, TCG, 2 vCPUs): iperf 2 TCP from the host's
kernel in the tap's namespace (10.0.2.2) to an iperf server on the guest's
kernel, RUNS runs of SECONDS each, four boots: the guest's kernel on its
own e1000 driver, then behind pollnet's e1000 driver and its exception path
(pn0) on pollnet's tap, on DPDK's net_tap, and on virtio_user with
vhost-net.

usage: exception.py --guest BUILD_DIR OUT_JSON
"""
import os
import re
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
from netns import Namespaces, Pollnet, sh  # noqa: E402
from benchproc import header, proc_cpu, spawn, stop, stop_all, write_result  # noqa: E402

DUT_IP, PEER_IP = "198.18.0.2", "198.18.0.1"
RUNS, SECONDS = 3, 5


def tcp_runs(net):
    srv = spawn(net.dut, ["iperf", "-s", "-p", "5201", "-B", DUT_IP], cpu=0)
    deadline = time.time() + 10
    while ":5201 " not in sh("ss", "-tln", ns=net.dut).stdout and time.time() < deadline:
        time.sleep(0.1)
    mbps = []
    for _ in range(RUNS):
        r = sh("iperf", "-c", DUT_IP, "-p", "5201", "-t", str(SECONDS), "-f", "m", ns=net.peer,
               check=False, timeout=SECONDS + 30)
        m = re.findall(r"([\d.]+) Mbits/sec", r.stdout)
        mbps.append(float(m[-1]) if m else 0.0)
        print("  %s Mbit/s" % (m[-1] if m else r.stdout.strip()), file=sys.stderr)
    stop(srv)
    return {"runs_mbps": mbps, "mbps": statistics.median(mbps)}


GUEST_NS = "pollnet-guest"
# the guest: an iperf server on its kernel until the host says "done" (UDP
# to the kernel: pollnet's exception path passes it)
GUEST_SCRIPT = ("iperf -s -p 7100 > /dev/null 2>&1 & P=$!; "
                "nc.openbsd -u -l -W 1 9998 > /dev/null; kill $P; true")


def guest_runs(build, driver, extra):
    g = subprocess.Popen([os.path.join(HERE, "..", "deploy", "pollnet-guest"), "--net", "tap",
                          "--driver", driver, "--pcap", "none", "--timeout", "600"] + extra +
                         ["run", "--", GUEST_SCRIPT], stdout=subprocess.DEVNULL,
                         stderr=subprocess.STDOUT, start_new_session=True,
                         env=dict(os.environ, POLLNET_BUILD=os.path.abspath(build)))
    mbps = []
    deadline = time.time() + 300
    try:
        while len(mbps) < RUNS and time.time() < deadline and g.poll() is None:
            r = subprocess.run(["ip", "netns", "exec", GUEST_NS, "iperf", "-c", "10.0.2.15",
                                "-p", "7100", "-t", str(SECONDS), "-f", "m"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               timeout=SECONDS + 60)
            m = re.findall(r"([\d.]+) Mbits/sec", r.stdout)
            if m:
                mbps.append(float(m[-1]))
                print("  %s Mbit/s" % m[-1], file=sys.stderr)
            else:
                time.sleep(2)           # not up yet
        subprocess.run(["ip", "netns", "exec", GUEST_NS, "/usr/bin/python3", "-c",
                        "import socket; socket.socket(2, 2).sendto(b'done', "
                        "('10.0.2.15', 9998))"], stderr=subprocess.DEVNULL)
        g.wait(timeout=120)
    finally:
        stop(g) if g.poll() is None else None
    return {"runs_mbps": mbps, "mbps": statistics.median(mbps) if mbps else None}


def main_guest(build, out_json):
    result = header("exception-guest", GUEST_DOC)
    for key, driver, extra in (("kernel", "kernel", []), ("exception_tap", "e1000", []),
                               ("exception_net_tap", "e1000",
                                ["--set", "port.exception_driver=net_tap"]),
                               ("exception_vhost", "e1000",
                                ["--set", "port.exception_driver=vhost"])):
        print("the guest: %s" % key, file=sys.stderr)
        result[key] = guest_runs(build, driver, extra)
    k = result["kernel"]["mbps"]
    result["ratios"] = {x: round(result[x]["mbps"] / k, 2) if k and result[x]["mbps"] else None
                        for x in ("exception_tap", "exception_net_tap", "exception_vhost")}
    write_result(result, out_json, result["ratios"])


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--guest":
        main_guest(sys.argv[2], sys.argv[3])
        return
    if len(sys.argv) != 3:
        sys.exit(__doc__.split("usage:")[1].strip())
    build, out_json = sys.argv[1], sys.argv[2]
    result = header("exception", __doc__)
    net = Namespaces(peer_ip=PEER_IP + "/24")
    try:
        sh("ip", "addr", "add", DUT_IP + "/24", "dev", net.dut_if, ns=net.dut)
        print("the kernel alone", file=sys.stderr)
        result["kernel"] = tcp_runs(net)
        sh("ip", "addr", "flush", "dev", net.dut_if, ns=net.dut)
        for key, drv in (("exception_tap", "tap"), ("exception_net_tap", "net_tap")):
            pn = Pollnet(os.path.join(build, "app", "pollnet"), net.dut,
                         "dpdk:net_af_packet0,iface=%s,framecnt=4096" % net.dut_if,
                         DUT_IP + "/24", extra=["--set", "port.exception=pn0",
                                                "--set", "port.exception_driver=" + drv])
            print("the kernel behind pollnet's exception path (%s)" % drv, file=sys.stderr)
            cpu0 = proc_cpu(pn.proc.pid)
            result[key] = tcp_runs(net)
            result[key]["pollnet_cpu_s"] = round(proc_cpu(pn.proc.pid) - cpu0, 2)
            counters, _ = pn.stop()
            result[key]["counters"] = {
                k: v for k, v in counters.items()
                if k.startswith("exception.") and v or k in ("port.rx_missed",
                                                            "stack.rx_kernel")}
    finally:
        stop_all()
        net.close()
    k = result["kernel"]["mbps"]
    result["ratio"] = round(result["exception_tap"]["mbps"] / k, 2) if k else None
    result["ratio_net_tap"] = round(result["exception_net_tap"]["mbps"] / k, 2) if k else None
    write_result(result, out_json, {"kernel_mbps": k,
                                    "exception_mbps": result["exception_tap"]["mbps"],
                                    "ratio": result["ratio"],
                                    "ratio_net_tap": result["ratio_net_tap"]})


if __name__ == "__main__":
    main()
