#!/usr/bin/python3
"""UDP as the kernel gives it: the same program on the kernel's sockets and
under pollnet-run, transcripts compared line by line.

One pair of namespaces, a veth between them; the peer's kernel runs a
reflector (udp_cases.py reflect) that reports what it saw of each datagram
(source, TOS, TTL) and answers with the TOS and TTL asked for.  First the
kernel of pollnet's namespace gets pollnet's address on its end and runs
udp_cases.py (options, TOS and TTL sent, control messages received,
shutdown, interface ioctls, routes, broadcasts both ways); then the address goes, pollnet takes
the interface (net_af_packet) with that address, and the same script runs
under pollnet-run.  Every line must be the same.  Then libpollnet's own
calls for the same (pollnet_set_tos, _ttl, pollnet_recvfrom_info).

usage: test_udp_oracle.py POLLNET_BINARY BUILD_DIR
"""
import difflib
import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from netns import (check, finish, frames_accounted, kill_all, mbufs_back, Namespaces,  # noqa: E402
                   Pollnet, preload_setup, sh)

HERE = os.path.dirname(os.path.abspath(__file__))
CASES = os.path.join(HERE, "udp_cases.py")
DUT_IP = "198.18.0.2"
PEER_IP = "198.18.0.1"
REFLECT = 9200


def transcript(net, env, prefix=()):
    r = subprocess.run(["ip", "netns", "exec", net.dut] + list(prefix) +
                       ["python3", CASES, "cases", PEER_IP, str(REFLECT), net.dut_if],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       env=env, timeout=120)
    return r.returncode, r.stdout.splitlines()


def main():
    binary, build, run, tmp, ctl, stats, env = preload_setup("pn-oracle-")
    net = Namespaces(peer_ip=PEER_IP + "/24")
    refl = subprocess.Popen(["ip", "netns", "exec", net.peer, "python3", CASES, "reflect",
                             str(REFLECT), "300", net.peer_if])
    procs = [refl]
    try:
        deadline = time.time() + 10     # the reflector is up when its port is bound
        while (":%d " % REFLECT) not in sh("ss", "-uln", ns=net.peer).stdout + " " and \
                time.time() < deadline:
            time.sleep(0.1)
        # the kernel, with pollnet's address (and its broadcast) on the link
        sh("ip", "addr", "add", DUT_IP + "/24", "brd", "+", "dev", net.dut_if, ns=net.dut)
        rc, kernel = transcript(net, dict(os.environ))
        check(rc == 0 and kernel[-1:] == ["## end"],
              "the cases run to their end on the kernel (exit %d)%s" %
              (rc, "" if rc == 0 else ":\n" + "\n".join(kernel[-15:])))
        sh("ip", "addr", "flush", "dev", net.dut_if, ns=net.dut)

        tx0 = net.peer_counter("tx_packets")
        pn = Pollnet(binary, net.dut, "dpdk:net_af_packet0,iface=%s" % net.dut_if,
                     DUT_IP + "/24", extra=["--ctl", ctl, "--stats", stats])
        rc, ours = transcript(net, env, prefix=("sh", run))
        check(rc == 0 and ours[-1:] == ["## end"],
              "the cases run to their end under pollnet-run (exit %d)%s" %
              (rc, "" if rc == 0 else ":\n" + "\n".join(ours[-15:])))
        case = "?"
        for k, p in zip(kernel, ours):
            if k.startswith("## "):
                case = k[3:]
            if k != p:
                break
        diff = list(difflib.unified_diff(kernel, ours, "kernel", "pollnet-run", lineterm="",
                                         n=1))
        check(kernel == ours, "every line as the kernel's (%d lines)%s" % (
            len(kernel), "" if kernel == ours else "; first difference in %s:\n%s" %
            (case, "\n".join(diff[:60]))))
        # the same through libpollnet's calls
        r = sh(os.path.join(build, "tests", "pn_client"), "info", ctl, PEER_IP, str(REFLECT),
               ns=net.dut, check=False)
        m = re.search(r'info peer-saw=(\{.*\}) dst=(\S+) tos=(\S+) ttl=(\d+) '
                      r'stamp-age-ms=(-?\d+)', r.stdout)
        seen = json.loads(m.group(1)) if m else {}
        check(m and seen.get("tos") == 0xb9 and seen.get("ttl") == 17 and
              m.group(2) == DUT_IP and m.group(3) == "0x2e" and m.group(4) == "33" and
              0 <= int(m.group(5)) < 1000,
              "libpollnet: pollnet_set_tos 0xb9 and _ttl 17 on the wire, "
              "pollnet_recvfrom_info: dst, TOS 0x2e, TTL 33, a fresh stamp: %s" % r.stdout.strip())
        # the books: every frame from the peer accounted for; the peer's two
        # broadcasts to port 9300 reached its four sockets (two of them
        # bound to another address, which pollnet-run's library then
        # drops): one delivery each, three copies
        c, _ = mbufs_back(pn)
        tx1 = net.peer_counter("tx_packets")
        frames_accounted("the cases", c, tx1 - tx0)
        check(c.get("stack.udp_broadcast") == 2 and c.get("stack.bcast_copies") == 6 and
              c.get("stack.bcast_copies_dropped") == 0,
              "2 broadcasts in, 6 copies, none dropped: %s" %
              {k: c.get(k) for k in ("stack.udp_broadcast", "stack.bcast_copies",
                                     "stack.bcast_copies_dropped")})
    finally:
        kill_all(procs)
    finish()


if __name__ == "__main__":
    main()
