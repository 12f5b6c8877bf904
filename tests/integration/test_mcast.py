#!/usr/bin/python3
"""Multicast as the kernel gives it: group membership, source filters and
IGMP, the same program on the kernel's sockets and under pollnet-run,
transcripts compared line by line.

One pair of namespaces, a veth between them; the peer runs mcast_cases.py's
peer: it sends to groups when asked, sends IGMP queries (v3, then v2) as a
querier would, and reports the IGMP messages it heard (their records, each
once).  First the kernel of pollnet's namespace has pollnet's address and
runs the cases; then pollnet takes the interface (net_af_packet) with that
address and the same script runs under pollnet-run.  Every line must be the
same.  Then pollnetctl groups while a libpollnet client holds a group, and
the books.

usage: test_mcast.py POLLNET_BINARY BUILD_DIR
"""
import difflib
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from netns import (check, finish, frames_accounted, kill_all, mbufs_back, Namespaces,  # noqa: E402
                   Pollnet, preload_setup, sh)

HERE = os.path.dirname(os.path.abspath(__file__))
CASES = os.path.join(HERE, "mcast_cases.py")
DUT_IP = "198.18.0.2"
PEER_IP = "198.18.0.1"
PEER_PORT = 9500


def transcript(net, env, prefix=()):
    r = subprocess.run(["ip", "netns", "exec", net.dut] + list(prefix) +
                       ["python3", CASES, "cases", PEER_IP, str(PEER_PORT), net.dut_if],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       env=env, timeout=200)
    return r.returncode, r.stdout.splitlines()


def main():
    binary, build, run, tmp, ctl, stats, env = preload_setup("pn-mcast-")
    net = Namespaces(peer_ip=PEER_IP + "/24")
    peer = subprocess.Popen(["ip", "netns", "exec", net.peer, "python3", CASES, "peer",
                             str(PEER_PORT), "500", net.peer_if])
    procs = [peer]
    try:
        deadline = time.time() + 10
        while (":%d " % PEER_PORT) not in sh("ss", "-uln", ns=net.peer).stdout + " " and \
                time.time() < deadline:
            time.sleep(0.1)
        sh("ip", "addr", "add", DUT_IP + "/24", "dev", net.dut_if, ns=net.dut)
        rc, kernel = transcript(net, dict(os.environ))
        check(rc == 0 and kernel[-1:] == ["## end"],
              "the cases run to their end on the kernel (exit %d)%s" %
              (rc, "" if rc == 0 else ":\n" + "\n".join(kernel[-15:])))
        sh("ip", "addr", "flush", "dev", net.dut_if, ns=net.dut)
        # (the kernel heard a v2 querier: a new namespace's kernel would
        # not matter, pollnet's own state starts afresh)
        tx0 = net.peer_counter("tx_packets")
        pn = Pollnet(binary, net.dut, "dpdk:net_af_packet0,iface=%s" % net.dut_if,
                     DUT_IP + "/24", extra=["--ctl", ctl, "--stats", stats])
        rc, ours = transcript(net, env, prefix=("sh", run))
        check(rc == 0 and ours[-1:] == ["## end"],
              "the cases run to their end under pollnet-run (exit %d)%s" %
              (rc, "" if rc == 0 else ":\n" + "\n".join(ours[-15:])))
        diff = list(difflib.unified_diff(kernel, ours, "kernel", "pollnet-run", lineterm="",
                                         n=1))
        check(kernel == ours, "every line as the kernel's (%d lines)%s" % (
            len(kernel), "" if kernel == ours else ":\n" + "\n".join(diff[:80])))

        # pollnetctl groups, while a program holds one
        holder = subprocess.Popen(
            ["ip", "netns", "exec", net.dut, "sh", run, "python3", "-c",
             "import socket, struct, time\n"
             "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
             "s.bind(('0.0.0.0', 9600))\n"
             "s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, struct.pack("
             "'4s4s', socket.inet_aton('239.5.5.5'), socket.inet_aton('%s')))\n"
             "print('joined', flush=True)\n"
             "time.sleep(30)\n" % DUT_IP], env=env, stdout=subprocess.PIPE, text=True)
        procs.append(holder)
        check(holder.stdout.readline().strip() == "joined", "a program joined 239.5.5.5")
        time.sleep(0.3)
        pctl = os.path.join(build, "app", "pollnetctl")
        r = sh(pctl, "-S", stats, "groups", "--json", check=False)
        g = json.loads(r.stdout) if r.returncode == 0 else {}
        groups = {x["group"]: x for x in g.get("groups", [])}
        check("239.5.5.5" in groups and groups["239.5.5.5"]["mode"] == "exclude" and
              groups["239.5.5.5"]["members"] == 1 and len(groups) == 1,
              "pollnetctl groups: 239.5.5.5, exclude nothing, one socket: %s" % r.stdout.strip())
        r = sh(pctl, "-S", stats, "groups", check=False)
        check(r.returncode == 0 and "239.5.5.5" in r.stdout and "IGMPv2" in r.stdout,
              "pollnetctl groups as text (the v2 querier still heard): %s" %
              r.stdout.strip().replace("\n", " | "))
        holder.kill()
        holder.wait()
        time.sleep(0.5)
        r = sh(pctl, "-S", stats, "groups", "--json", check=False)
        check(r.returncode == 0 and json.loads(r.stdout)["groups"] == [],
              "a killed program's membership goes with it: %s" % r.stdout.strip())

        c, _ = mbufs_back(pn)
        tx1 = net.peer_counter("tx_packets")
        frames_accounted("the cases", c, tx1 - tx0)
        check(c.get("stack.igmp_queries_in") == 3 and c.get("stack.udp_multicast", 0) > 0,
              "3 queries taken, group datagrams delivered: %s" %
              {k: c.get(k) for k in ("stack.igmp_queries_in", "stack.igmp_reports_out",
                                     "stack.udp_multicast", "stack.rx_drop.ip_group_not_joined",
                                     "stack.rx_drop.igmp_not_a_query")})
    finally:
        kill_all(procs)
    finish()


if __name__ == "__main__":
    main()
