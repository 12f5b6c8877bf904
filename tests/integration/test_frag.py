#!/usr/bin/python3
"""Datagrams to 65,507 bytes both ways, in IP fragments, against the kernel.

First the kernel alone: two namespaces and a veth, frag_cases.py's client
in one with pollnet's address, its echo server in the other.  Then pollnet
on a tap (net_tap passes fragments as they come; net_af_packet does not,
see below) with the same address, the same echo server on the kernel behind
the tap, and the same client under pollnet-run: every line must be the
kernel's.  Then libpollnet's pollnet-echo answering the kernel's datagrams
to 65,507 bytes, the kernel's `ping -s 8000` answered, fragments the
reassembly must give up on (a lost piece, overlaps) counted by reason, and
the books: every frame the kernel sent is in pollnet's counters, and every
mbuf back.

usage: test_frag.py POLLNET_BINARY BUILD_DIR
"""
import difflib
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from netns import (check, finish, frames_accounted, kill_all, mbufs_back, Namespaces,  # noqa: E402
                   Pollnet, preload_setup, sh)

HERE = os.path.dirname(os.path.abspath(__file__))
CASES = os.path.join(HERE, "frag_cases.py")
DUT_IP = "198.18.0.2"
PEER_IP = "198.18.0.1"
ECHO = 9300
PNECHO = 9301


def start_echo(ns):
    p = subprocess.Popen(["ip", "netns", "exec", ns, "python3", CASES, "echo", PEER_IP,
                          str(ECHO), "200"])
    deadline = time.time() + 10
    while (":%d " % ECHO) not in sh("ss", "-uln", ns=ns).stdout + " " and \
            time.time() < deadline:
        time.sleep(0.1)
    return p


def transcript(ns, env, prefix=()):
    r = subprocess.run(["ip", "netns", "exec", ns] + list(prefix) +
                       ["python3", CASES, "cases", PEER_IP, str(ECHO)],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       env=env, timeout=120)
    return r.returncode, r.stdout.splitlines()


KERNEL_SEND = r"""
import os, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
for n in (1473, 8000, 60000, 65507):
    d = os.urandom(n)
    s.sendto(d, (sys.argv[1], int(sys.argv[2])))
    try:
        print(n, s.recv(65536) == d)
    except socket.timeout:
        print(n, "none")
"""

# Fragments pollnet must give up on, from the kernel's side (scapy's
# fragment() on a datagram to pollnet's echo service): a piece lost (its
# time runs out), and a piece that overlaps another.
HOSTILE = r"""
import sys
from scapy.all import IP, UDP, Raw, fragment, send, conf
conf.verb = 0
dst = sys.argv[1]
lost = fragment(IP(src=sys.argv[2], dst=dst, id=4242) / UDP(sport=4000, dport=7) /
                Raw(bytes(4000)), 1480)
send(lost[:-1])                         # the last piece never comes
ov = fragment(IP(src=sys.argv[2], dst=dst, id=4343) / UDP(sport=4001, dport=7) /
              Raw(bytes(3000)), 1480)
ov[1].frag -= 1                         # 8 bytes over the first piece
send(ov)
print("sent", len(lost) - 1 + len(ov))
"""


def main():
    binary, build, run, tmp, ctl, stats, env = preload_setup("pn-frag-")
    procs = []
    try:
        # the kernel alone
        net = Namespaces(peer_ip=PEER_IP + "/24")
        procs.append(start_echo(net.peer))
        sh("ip", "addr", "add", DUT_IP + "/24", "dev", net.dut_if, ns=net.dut)
        rc, kernel = transcript(net.dut, dict(os.environ))
        check(rc == 0 and kernel[-1:] == ["## end"],
              "the cases run to their end on the kernel (exit %d)%s" %
              (rc, "" if rc == 0 else ":\n" + "\n".join(kernel[-15:])))
        kill_all(procs)
        net.close()

        # pollnet on a tap, the kernel behind it
        net = Namespaces(peer_ip=PEER_IP + "/24", tap=True)
        procs = [start_echo(net.peer)]
        tx0 = net.peer_counter("tx_packets")
        pn = Pollnet(binary, net.dut, "dpdk:net_tap0,iface=%s" % net.peer_if,
                     DUT_IP + "/24", extra=["--ctl", ctl, "--stats", stats])
        rc, ours = transcript(net.dut, env, prefix=("sh", run))
        check(rc == 0 and ours[-1:] == ["## end"],
              "the cases run to their end under pollnet-run (exit %d)%s" %
              (rc, "" if rc == 0 else ":\n" + "\n".join(ours[-15:])))
        diff = list(difflib.unified_diff(kernel, ours, "kernel", "pollnet-run", lineterm="",
                                         n=1))
        check(kernel == ours, "every line as the kernel's (%d lines)%s" % (
            len(kernel), "" if kernel == ours else ":\n" + "\n".join(diff[:60])))
        c = pn.report()
        check(c["stack.reassembled"] > 0 and c["stack.fragmented"] > 0,
              "pollnet made datagrams whole (%d) and sent some in fragments (%d)" %
              (c["stack.reassembled"], c["stack.fragmented"]))

        # libpollnet: pollnet-echo answers the kernel's datagrams whole
        echo = subprocess.Popen(["ip", "netns", "exec", net.dut,
                                 os.path.join(build, "client", "pollnet-echo"),
                                 "-c", ctl, str(PNECHO)],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        procs.append(echo)
        time.sleep(0.5)
        r = sh("/usr/bin/python3", "-c", KERNEL_SEND, DUT_IP, str(PNECHO), ns=net.peer,
               check=False)
        check(r.stdout.split() == ["1473", "True", "8000", "True", "60000", "True",
                                   "65507", "True"],
              "pollnet-echo sent back 1473, 8000, 60000 and 65507 bytes intact: %s" %
              " ".join(r.stdout.split()))
        r = sh("/usr/bin/python3", "-c", KERNEL_SEND, DUT_IP, "7", ns=net.peer, check=False)
        check(r.stdout.split() == ["1473", "True", "8000", "True", "60000", "True",
                                   "65507", "True"],
              "the echo service too: %s" % " ".join(r.stdout.split()))

        # ping -s 8000: the request in 6 fragments, the answer too
        r = sh("ping", "-c", "3", "-i", "0.2", "-W", "2", "-s", "8000", DUT_IP, ns=net.peer,
               check=False)
        check(r.returncode == 0 and " 0% packet loss" in r.stdout,
              "ping -s 8000 answered: %s" % r.stdout.strip().splitlines()[-2:])

        # what the reassembly gives up on, each by its reason
        c0 = pn.report()
        r = sh("/usr/bin/python3", "-c", HOSTILE, DUT_IP, PEER_IP, ns=net.peer, check=False)
        check(r.returncode == 0, "scapy sent the bad fragments: %s" % r.stdout.strip())
        c = pn.report()
        d = {k: c[k] - c0[k] for k in ("stack.rx_drop.frag_overlap", "stack.frags_held",
                                       "stack.rx_merged")}
        check(d["stack.rx_drop.frag_overlap"] == 2 and d["stack.frags_held"] == 3 and
              d["stack.rx_merged"] == 3,
              "an overlap takes its datagram (2 fragments, frag_overlap; its third piece "
              "then waits as a datagram begun anew, as Linux's), the lost piece's datagram "
              "waits (3 held in all): %s" % d)

        echo.terminate()
        out = echo.communicate(timeout=10)[0]
        check("0 truncated" in out, "pollnet-echo: %s" % out.strip().splitlines()[-1:])
        time.sleep(0.3)
        tx1 = net.peer_counter("tx_packets")
        c, _ = mbufs_back(pn)
        check(c["stack.rx_drop.frag_timeout"] + c["stack.frags_held"] == 3,
              "the 3 waiting fragments still held or given up at the stop (%d, %d)" %
              (c["stack.frags_held"], c["stack.rx_drop.frag_timeout"]))
        frames_accounted("the cases", c, tx1 - tx0)
    finally:
        kill_all(procs)
    finish()


if __name__ == "__main__":
    main()
