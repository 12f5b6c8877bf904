#!/usr/bin/python3
"""pollnet beside the kernel on the kernel's own interface: --port xdp:IFACE.

A veth whose namespace's kernel has the address, as a host's NIC has it.
pollnet attaches its XDP program there (net_af_xdp) and takes no address
of its own.  From the peer: the kernel's TCP (socat, as ssh would be) and
its ping keep working, UDP to pollnet's echo port is pollnet's, UDP to a
kernel socket the kernel's, to no one's port the kernel's port
unreachable.  One table of UDP ports for both: the kernel cannot bind
pollnet's port, pollnet-run cannot bind the kernel's; a program on the
host itself reaches pollnet's echo, and pollnet-run the kernel's; nsd,
unmodified, answers dig over UDP (pollnet) and TCP (the kernel).  pollnet sends
through the kernel's neighbour table (an address the kernel never
resolved: pollnet asks it to), gets the ICMP errors about its own
datagrams, and counts the program's verdicts.  After SIGINT and after
SIGKILL the program is gone and the kernel has its ports back, TCP and
ping whole.  A program someone else attached is not replaced, and a
second address in the config is an error.

usage: test_xdp.py POLLNET_BINARY BUILD_DIR
"""
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from netns import (check, finish, kill_all, Namespaces, Pollnet, preload_setup,  # noqa: E402
                   sh)
from test_exception import (BIND, nsd_both, sockets, tcp_echo_server, UDP_ASK,  # noqa: E402
                            UDP_ECHO, udp_beside)

HERE = os.path.dirname(os.path.abspath(__file__))
DUT_IP = "198.18.0.2"
PEER_IP = "198.18.0.1"
PEER_IP2 = "198.18.0.3"         # an address the dut's kernel never resolved

SEND_TO = r"""
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.sendto(b"from pollnet", (sys.argv[1], 9400))
print("sent")
"""

PEER_RECV = r"""
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 9400))
s.settimeout(5)
print("ready", flush=True)
try:
    d, a = s.recvfrom(100)
    print("got %r from %s" % (d, a[0]))
except OSError as e:
    print(type(e).__name__)
"""

# one socket per flow: each datagram echoed? (3 tries each)
FLOWS = r"""
import socket, sys
ip, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
ok = 0
for i in range(n):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2)
    msg = b"flow %d" % i
    for attempt in range(3):
        s.sendto(msg, (ip, port))
        try:
            if s.recvfrom(100)[0] == msg:
                ok += 1
                break
        except socket.timeout:
            pass
    s.close()
print("%d of %d echoed" % (ok, n))
"""

# a steady stream: N datagrams GAP seconds apart, then how many came back
STREAM = r"""
import socket, sys, time
ip, port, n, gap = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setblocking(False)
got, t = set(), time.monotonic()
for i in range(n):
    s.sendto(b"%d" % i, (ip, port))
    t += gap
    while time.monotonic() < t:
        try:
            got.add(s.recv(100))
        except BlockingIOError:
            pass
s.settimeout(1)
try:
    while len(got) < n:
        got.add(s.recv(100))
except socket.timeout:
    pass
print("%d of %d echoed" % (len(got), n))
"""

# the kernel's UDP echo on port 7 once pollnet is gone
KERNEL_7 = r"""
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 7))
s.settimeout(5)
print("bound", flush=True)
d, a = s.recvfrom(100)
s.sendto(b"kernel: " + d, a)
"""

# DPDK 22.11's net_af_xdp does not return its fill ring's mbufs at close
AF_XDP_FILL_RING = 2048


def prog_on(net):
    out = sh("ip", "link", "show", net.dut_if, ns=net.dut).stdout
    m = re.search(r"prog/xdp id \d+ name (\S+)", out)
    return m.group(1) if m else None


def kernel_whole(net, what):
    """The kernel's TCP (socat) and ping on its own address."""
    r = sh("python3", os.path.join(HERE, "tcp_echo_client.py"), DUT_IP, "9100", "1000000",
           ns=net.peer, check=False, timeout=60)
    check(r.returncode == 0 and "back intact" in r.stdout,
          "%s: TCP to the kernel's socat on its address, 1 MB: %s" % (what, r.stdout.strip()))
    r = sh("ping", "-c", "3", "-i", "0.2", "-W", "2", DUT_IP, ns=net.peer, check=False)
    check(r.returncode == 0 and "DUP" not in r.stdout and " 3 received" in r.stdout,
          "%s: the peer's pings answered by the kernel, once each" % what)


def refused_start(binary, net, extra, want, what, port=None, lcores=None):
    lc = ["--lcores", lcores] if lcores else ["-l", "0-1"]
    r = sh("ip", "netns", "exec", net.dut, binary, *lc, "--in-memory", "--no-pci",
           "--log-level=error", "--", "--port", port or "xdp:" + net.dut_if, *extra,
           check=False, timeout=60)
    out = (r.stdout or "") + (r.stderr or "")
    check(r.returncode != 0 and want in out,
          "%s: %s" % (what, [x for x in out.splitlines() if want in x] or out))


def main():
    binary, build, run, tmp, ctl, stats, env = preload_setup("pn-xdp-")
    net = Namespaces(peer_ip=PEER_IP + "/24")
    sh("ip", "addr", "add", PEER_IP2 + "/24", "dev", net.peer_if, ns=net.peer)
    sh("ip", "addr", "add", DUT_IP + "/24", "dev", net.dut_if, ns=net.dut)
    procs = []
    try:
        procs.append(tcp_echo_server(net))
        kecho = subprocess.Popen(["ip", "netns", "exec", net.dut, "python3", "-c", UDP_ECHO,
                                  DUT_IP, "9200"], stdout=subprocess.PIPE, text=True)
        procs.append(kecho)
        kecho.stdout.readline()

        pn = Pollnet(binary, net.dut, "xdp:" + net.dut_if, None,
                     extra=["--ctl", ctl, "--stats", stats])
        banner = [x for x in pn.output().splitlines() if x.startswith("pollnet: port")][0]
        check("ip %s/24" % DUT_IP in banner and "beside the kernel" in banner,
              "pollnet takes the kernel's address: %s" % banner)
        check(prog_on(net) == "pollnet_xdp", "its XDP program on %s: %s" %
              (net.dut_if, prog_on(net)))
        kernel_whole(net, "with pollnet")

        both = udp_beside(net, run, env)
        procs.append(both)
        r = sockets(build, stats, ":9300")
        check(":9300" in r.stdout and "udp-run" in r.stdout,
              "pollnetctl sockets: its UDP socket is pollnet's")
        check("the kernel's (pollnet's XDP program passes it on %s)" % net.dut_if in r.stdout,
              "pollnetctl sockets: the other ports the kernel's: %s" %
              r.stdout.strip().splitlines()[-1])
        kill_all([both])
        nsd_both(net, run, env, tmp, build, stats, procs)

        # sending: an address the kernel has not resolved yet
        check(PEER_IP2 not in sh("ip", "neigh", "show", ns=net.dut).stdout,
              "the dut's kernel has no neighbour %s yet" % PEER_IP2)
        peer = subprocess.Popen(["ip", "netns", "exec", net.peer, "python3", "-c", PEER_RECV,
                                 PEER_IP2], stdout=subprocess.PIPE, text=True)
        procs.append(peer)
        peer.stdout.readline()
        r = sh("sh", run, "python3", "-c", SEND_TO, PEER_IP2, ns=net.dut, env=env, check=False)
        got = peer.communicate(timeout=10)[0].strip()
        check(got == "got b'from pollnet' from %s" % DUT_IP,
              "pollnet-run sends to %s, which the kernel resolved for pollnet: %s" %
              (PEER_IP2, got))
        neigh = sh("ip", "neigh", "show", PEER_IP2, ns=net.dut).stdout.strip()
        check("lladdr" in neigh, "the kernel's neighbour table has it: %s" % neigh)
        r = sh("sh", run, "python3", "-c", UDP_ASK, PEER_IP, "9998", ns=net.dut, env=env,
               check=False)
        check(r.stdout.strip() == "udp 9998: ConnectionRefusedError",
              "the peer's port unreachable reaches pollnet's connected socket: %s" %
              r.stdout.strip())

        r = sh(os.path.join(build, "app", "pollnetctl"), "-S", stats, "stats", check=False)
        v = {m.group(1): int(m.group(2)) for m in
             re.finditer(r"^port\.xdp\.(\w+)\s+(\d+)", r.stdout, re.M)}
        check(v.get("to_pollnet", 0) >= 2 and v.get("to_kernel", 0) > 100,
              "pollnetctl stats: the program's verdicts %s" % v)

        c, out = pn.stop()
        check("check rx_frames == rx_delivered + rx_answered + rx_dropped + rx_merged + "
              "rx_kernel: ok" in out, "every frame pollnet got accounted for")
        check(c.get("port.xdp.to_pollnet") == c.get("stack.rx_frames"),
              "pollnet got what its program gave it: %s and %s" %
              (c.get("port.xdp.to_pollnet"), c.get("stack.rx_frames")))
        check(c.get("stack.arp_requests_in", 0) == 0 and c.get("stack.icmp_echo_replies", 0) == 0,
              "pollnet saw no ARP and no ping: the kernel's")
        check(c.get("pool.in_use", 0) <= AF_XDP_FILL_RING + 32,
              "mbufs back but the fill ring's that net_af_xdp keeps: %d in use" %
              c.get("pool.in_use", 0))
        check(prog_on(net) is None, "after SIGINT, no XDP program on %s" % net.dut_if)
        r = sh("python3", "-c", BIND, "7", ns=net.dut, check=False)
        check(r.stdout.strip() == "bound", "the kernel has port 7 back")

        # SIGKILL: the link goes with the process, the kernel gets it all back
        # (this time its lcore sleeps on its AF_XDP socket when idle)
        # (idle_after 10 us: between its 10 ms sleeps it polls that long,
        # so a datagram almost never lands while it is awake; with 1 ms,
        # one in eleven did), with naps of 2 ms while a stream comes
        # (dataplane.moderation)
        pn = Pollnet(binary, net.dut, "xdp:" + net.dut_if, None,
                     extra=["--set", "dataplane.idle=interrupt",
                            "--set", "dataplane.idle_after=10",
                            "--set", "dataplane.moderation=2000"])
        check(prog_on(net) == "pollnet_xdp", "pollnet again")
        for i in range(3):
            time.sleep(0.1)
            r = sh("python3", "-c", UDP_ASK, DUT_IP, "7", ns=net.peer, check=False)
            check(r.stdout.strip() == "udp 7: b'hello 7'", "its echo: %s" % r.stdout.strip())
        c = pn.report()
        check(c.get("lcore0.sleeps", 0) > 0 and c.get("lcore0.irq_wakes", 0) >= 3,
              "dataplane.idle = interrupt: the lcore slept on its AF_XDP socket and the "
              "datagrams woke it (sleeps %s, irq_wakes %s)" % (c.get("lcore0.sleeps"),
                                                             c.get("lcore0.irq_wakes")))
        # a stream of 400 datagrams 0.5 ms apart: woken by the first, the
        # lcore then looks every 2 ms and finds some each time: a few
        # interrupts, not one per datagram; once it stops, asleep again
        r = sh("python3", "-c", STREAM, DUT_IP, "7", "400", "0.0005", ns=net.peer, check=False)
        check(r.stdout.strip() == "400 of 400 echoed", "a stream to the echo with "
              "dataplane.moderation: %s" % r.stdout.strip())
        c2 = pn.report()
        naps = c2.get("lcore0.naps", 0) - c.get("lcore0.naps", 0)
        irqs = c2.get("lcore0.irq_wakes", 0) - c.get("lcore0.irq_wakes", 0)
        check(naps >= 40 and irqs <= 100, "the stream taken in batches: %d naps of 2 ms, "
              "%d interrupts for 400 datagrams" % (naps, irqs))
        time.sleep(0.3)
        c3 = pn.report()
        check(c3.get("lcore0.sleeps", 0) > c2.get("lcore0.sleeps", 0) and
              c3.get("lcore0.naps", 0) - c2.get("lcore0.naps", 0) <= 2,
              "after the stream the lcore sleeps on the interrupt again (naps %d, sleeps %d)" %
              (c3.get("lcore0.naps", 0) - c2.get("lcore0.naps", 0),
               c3.get("lcore0.sleeps", 0) - c2.get("lcore0.sleeps", 0)))
        pn.kill()
        time.sleep(0.3)
        check(prog_on(net) is None, "after SIGKILL, no XDP program on %s" % net.dut_if)
        k7 = subprocess.Popen(["ip", "netns", "exec", net.dut, "python3", "-c", KERNEL_7],
                              stdout=subprocess.PIPE, text=True)
        procs.append(k7)
        check(k7.stdout.readline().strip() == "bound", "the kernel binds port 7 at once")
        r = sh("python3", "-c", UDP_ASK, DUT_IP, "7", ns=net.peer, check=False)
        check(r.stdout.strip() == "udp 7: b'kernel: hello 7'",
              "and answers on it: %s" % r.stdout.strip())
        kernel_whole(net, "after SIGKILL")

        # refusals
        sh("ip", "link", "set", "dev", net.dut_if, "xdpgeneric", "obj",
           os.path.join(build, "pmd", "pollnet_xdp.o"), "sec", "xdp", ns=net.dut)
        refused_start(binary, net, [], "has an XDP program already",
                      "an XDP program someone attached is not replaced")
        check(prog_on(net) == "pollnet_xdp", "and stays")
        sh("ip", "link", "set", "dev", net.dut_if, "xdpgeneric", "off", ns=net.dut)
        refused_start(binary, net, ["--ip", "198.18.0.9/24"], "the kernel's, %s" % DUT_IP,
                      "a second address in the config is an error")
        refused_start(binary, net, ["--ip", DUT_IP + "/24", "--set", "port.exception=pn0"],
                      "the kernel has the interface already",
                      "so is an exception path beside it")
        check(prog_on(net) is None, "nothing left on %s" % net.dut_if)
        refused_start(binary, net, [], "one queue per data-plane lcore",
                      "queues=2 with one lcore is an error", port="xdp:%s,queues=2" % net.dut_if)
        refused_start(binary, net, [], "2 queues, but the interface receives on 1",
                      "two queues where the interface has one: said plainly",
                      port="xdp:%s,queues=2" % net.dut_if, lcores="0@0,1@0,2@1")

        # two queues, two lcores: a veth made with two receive queues (the
        # peer's two transmit queues hash each socket's flow to one), a
        # net_af_xdp device on each queue, the socket table steering what
        # one lcore's queue took for the other's socket
        sh("ip", "link", "del", net.dut_if, ns=net.dut)
        sh("ip", "link", "add", net.dut_if, "netns", net.dut, "numtxqueues", "2",
           "numrxqueues", "2", "type", "veth", "peer", "name", net.peer_if, "netns", net.peer,
           "numtxqueues", "2", "numrxqueues", "2")
        for ns, dev, ip in ((net.dut, net.dut_if, DUT_IP), (net.peer, net.peer_if, PEER_IP)):
            sh("ip", "link", "set", dev, "up", ns=ns)
            sh("ip", "addr", "add", ip + "/24", "dev", dev, ns=ns)
        sh("ethtool", "-K", net.peer_if, "tx", "off", ns=net.peer)
        pn = Pollnet(binary, net.dut, "xdp:" + net.dut_if, None, lcores="0@0,1@0,2@1",
                     extra=["--ctl", ctl, "--stats", stats])
        check(prog_on(net) == "pollnet_xdp", "two queues: pollnet's program on %s" % net.dut_if)
        c0 = pn.report()
        r = sh("python3", "-c", FLOWS, DUT_IP, "7", "64", ns=net.peer, check=False, timeout=120)
        c = pn.report()
        d = {k: c.get(k, 0) - c0.get(k, 0) for k in ("lcore0.rx_frames", "lcore1.rx_frames",
                                                     "stack.rx_steered", "port.xdp.to_pollnet")}
        check(r.stdout.strip() == "64 of 64 echoed",
              "64 flows (a socket each) to the echo service, each answered: %s" %
              r.stdout.strip())
        check(d["lcore0.rx_frames"] > 0 and d["lcore1.rx_frames"] > 0,
              "both queues received, one lcore each (%d and %d frames)" %
              (d["lcore0.rx_frames"], d["lcore1.rx_frames"]))
        check(d["stack.rx_steered"] > 0 and
              d["stack.rx_steered"] < d["lcore0.rx_frames"] + d["lcore1.rx_frames"],
              "the lcore that does not own the echo socket handed its datagrams over "
              "(%d steered)" % d["stack.rx_steered"])
        check(d["port.xdp.to_pollnet"] == d["lcore0.rx_frames"] + d["lcore1.rx_frames"],
              "the program's verdicts are the lcores' frames (%d)" % d["port.xdp.to_pollnet"])
        kernel_whole(net, "beside pollnet on two queues")
        pn.stop()
        check(prog_on(net) is None, "two queues: nothing left after pollnet")
    finally:
        kill_all(procs)
    finish()


if __name__ == "__main__":
    main()
