#!/usr/bin/python3
"""More than pollnet can take, from a real generator, and every frame found.

From the peer's namespace over a veth (pollnet on net_af_packet): trafgen
(netsniff-ng) sends 64-byte UDP frames to the echo service, unpaced, then
iperf (2) sends 1470-byte datagrams to a closed port at 1 Gbit/s (answered
with port unreachables as far as their rate limit goes).  Both
are faster than pollnet, whose receive ring is made small (128 frames), so
the kernel drops frames in it.  Afterwards every frame the peer's interface sent
must be in exactly one place of pollnet's:

    peer tx_packets == port.rx_packets + port.rx_missed
    port.rx_packets == stack.rx_frames
    stack.rx_frames == rx_delivered + rx_answered + every rx_drop

(port.rx_missed: what the kernel dropped before pollnet read it, from the
af_packet sockets' PACKET_STATISTICS and the interface's rx_dropped; DPDK's
own counters miss it).  Then pollnet still answers and its pool is back.
The figures are printed for the record; no rate is asserted.

usage: test_overload.py POLLNET_BINARY
"""
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from netns import check, finish, frames_accounted, Namespaces, Pollnet, need_root, sh  # noqa: E402

DUT_IP, PEER_IP = "198.18.0.2", "198.18.0.1"
FRAMES = 400000


def reconcile(what, before, after, peer_tx):
    d = {k: after[k] - before[k] for k in after if k in before}
    print("%s: peer sent %d frames; port rx %d, missed %d (%.1f %%); stack delivered %d, "
          "answered %d, dropped %d %s" % (
              what, peer_tx, d["port.rx_packets"], d["port.rx_missed"],
              100.0 * d["port.rx_missed"] / max(peer_tx, 1), d["stack.rx_delivered"],
              d["stack.rx_answered"], d["stack.rx_dropped"],
              {k[len("stack.rx_drop."):]: v for k, v in d.items()
               if k.startswith("stack.rx_drop.") and v}), flush=True)
    frames_accounted(what, d, peer_tx)
    return d


def main():
    need_root()
    binary = sys.argv[1]
    net = Namespaces(peer_ip=PEER_IP + "/24")
    # a receive ring of 128 frames (DPDK's default is 512): overflowing
    # it must not depend on how fast this machine is
    pn = Pollnet(binary, net.dut, "dpdk:net_af_packet0,iface=%s,framecnt=128" % net.dut_if,
                 DUT_IP + "/24")
    dut_mac = re.search(r"mac ([0-9A-Fa-f:]{17})", pn.output()).group(1).lower()
    peer_mac = sh("cat", "/sys/class/net/%s/address" % net.peer_if, ns=net.peer).stdout.strip()
    r = sh("ping", "-c", "1", "-W", "2", DUT_IP, ns=net.peer, check=False)
    check(r.returncode == 0, "pollnet answers ping")
    # the echoes go to a socket, not to a closed port (no ICMP back)
    sink = subprocess.Popen(["ip", "netns", "exec", net.peer, "/usr/bin/python3", "-c",
                             "import socket, time; s = socket.socket(socket.AF_INET, "
                             "socket.SOCK_DGRAM); s.setsockopt(socket.SOL_SOCKET, "
                             "socket.SO_RCVBUF, 1 << 20); s.bind(('%s', 40000)); "
                             "print('bound', flush=True); time.sleep(120)" % PEER_IP],
                            stdout=subprocess.PIPE, text=True)
    check(sink.stdout.readline().strip() == "bound", "a sink for the echoes on the peer")

    # 1. trafgen: 64-byte frames to the echo service, as fast as it goes
    cfg = tempfile.NamedTemporaryFile("w", suffix=".cfg", delete=False)
    cfg.write("{ eth(da=%s, sa=%s), ipv4(saddr=%s, daddr=%s, ttl=64), "
              "udp(sp=40000, dp=7), fill('p', 18) }\n" % (dut_mac, peer_mac, PEER_IP, DUT_IP))
    cfg.close()
    before, tx0 = pn.report(), net.peer_counter("tx_packets")
    t0 = time.time()
    r = sh("trafgen", "-o", net.peer_if, "-i", cfg.name, "-n", str(FRAMES), "-P", "1",
           "--no-sock-mem", "--notouch-irq", "-C", ns=net.peer, check=False, timeout=120)
    dt = time.time() - t0
    os.unlink(cfg.name)
    check(r.returncode == 0 and ("%d packets outgoing" % FRAMES) in r.stdout,
          "trafgen sent %d frames in %.2f s (%.0f kpps offered)" % (FRAMES, dt, FRAMES / dt / 1e3))
    time.sleep(1)
    after, tx1 = pn.report(), net.peer_counter("tx_packets")
    d = reconcile("trafgen 64 B", before, after, tx1 - tx0)
    check(d["port.rx_missed"] > 0, "overloaded: the kernel dropped frames in pollnet's ring "
          "and they are counted (%d)" % d["port.rx_missed"])
    echoed = after["sock.echo.tx_pkts"] - before["sock.echo.tx_pkts"]
    print("trafgen 64 B: the echo service answered %d, refused %d" %
          (echoed, after["sock.echo.tx_drops"] - before["sock.echo.tx_drops"]))

    # 2. iperf: 1470-byte datagrams to a closed port, 1 Gbit/s for 1 s
    before, tx0 = pn.report(), net.peer_counter("tx_packets")
    t0 = time.time()
    r = sh("iperf", "-u", "-c", DUT_IP, "-p", "9", "-l", "1470", "-b", "1000M", "-t", "1",
           ns=net.peer, check=False, timeout=60)
    m = re.search(r"Sent (\d+) datagrams", r.stdout)
    check(m is not None, "iperf sent its datagrams (%s)" % (m.group(0) if m else r.stdout[-200:]))
    time.sleep(1)
    after, tx1 = pn.report(), net.peer_counter("tx_packets")
    t1 = time.time()
    d = reconcile("iperf 1470 B", before, after, tx1 - tx0)
    # a closed port: a port unreachable for each, as far as the rate limit
    # (1000 a second, bursts of 50) goes; the rest are counted as limited
    sent_unreach, limited = d["stack.icmp_unreach_sent"], d["stack.icmp_unreach_limited"]
    check(m is not None and sent_unreach + limited >= int(m.group(1)) - d["port.rx_missed"] and
          limited == d["stack.rx_drop.udp_no_socket"],
          "iperf's datagrams that got in: %d answered with a port unreachable, %d over the "
          "rate limit (udp_no_socket %d)" % (sent_unreach, limited,
                                             d["stack.rx_drop.udp_no_socket"]))
    check(0 < sent_unreach <= 50 + 1000 * (t1 - t0) + 1,
          "port unreachables within the rate limit: %d in %.1f s" % (sent_unreach, t1 - t0))

    sink.kill()
    sink.wait()
    r = sh("ping", "-c", "3", "-i", "0.2", "-W", "2", DUT_IP, ns=net.peer, check=False)
    check(" 3 received" in r.stdout, "pollnet still answers ping")
    counters, _ = pn.stop()
    check(counters["pool.in_use"] == 0, "at exit every mbuf is back")
    finish(pn.log_path)


if __name__ == "__main__":
    main()
