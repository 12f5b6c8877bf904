#!/usr/bin/python3
"""Real DNS servers, unmodified, on pollnet: Debian's unbound and dnsmasq
under pollnet-run on a veth (net_af_packet), answering dnsperf from the
kernel peer's namespace.  Each must answer every query (0 lost), with the
books exact: the queries dnsperf sent are the datagrams pollnet delivered
to the server's socket, and its answers the ones pollnet sent.

usage: test_dns_servers.py POLLNET_BINARY BUILD_DIR
"""
import json
import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from netns import (answers_ping, check, finish, kill_all, mbufs_back, Namespaces,  # noqa: E402
                   Pollnet, preload_setup, sh)

DUT_IP = "198.18.0.2"
PEER_IP = "198.18.0.1"
NAMES = 64
QUERIES = 20000


def zone_lines():
    """The names dnsperf asks for, as unbound's local-data."""
    return ["host%d.pollnet.test A 198.18.1.%d" % (i, i % 250 + 1) for i in range(NAMES)]


def dnsperf(net, tmp, port):
    """dnsperf from the peer: QUERIES questions, 20 in flight; its figures."""
    qf = os.path.join(tmp, "queries")
    with open(qf, "w") as f:
        for i in range(NAMES):
            f.write("host%d.pollnet.test A\n" % i)
    r = sh("dnsperf", "-s", DUT_IP, "-p", str(port), "-d", qf, "-n",
           str(QUERIES // NAMES), "-c", "1", "-q", "20", "-t", "2", ns=net.peer,
           check=False, timeout=120)
    sent = re.search(r"Queries sent:\s+(\d+)", r.stdout)
    done = re.search(r"Queries completed:\s+(\d+)", r.stdout)
    lost = re.search(r"Queries lost:\s+(\d+)", r.stdout)
    qps = re.search(r"Queries per second:\s+([\d.]+)", r.stdout)
    noerr = re.search(r"NOERROR (\d+)", r.stdout)
    return {k: (float(v.group(1)) if v else None) for k, v in
            (("sent", sent), ("completed", done), ("lost", lost), ("qps", qps),
             ("noerror", noerr))}, r.stdout


def books(ctlbin, stats, port, want):
    """The datagrams in and out of the sockets bound to port, from
    pollnetctl sockets --json, once the segment shows want of each (pollnet
    publishes its sockets' counters now and then), or after 5 s."""
    deadline = time.time() + 5
    while True:
        js = json.loads(sh(ctlbin, "--stats", stats, "sockets", "--json").stdout)
        mine = [e for e in js if e["local_port"] == port]
        got = (sum(e["rx_datagrams"] for e in mine), sum(e["tx_datagrams"] for e in mine),
               sum(e["rx_drops"] + e["tx_drops"] for e in mine))
        if (got[0] >= want and got[1] >= want) or time.time() > deadline:
            return got
        time.sleep(0.1)


def main():
    binary, build, run, tmp, ctl, stats, env = preload_setup("pn-dns-")
    ctlbin = os.path.join(build, "app", "pollnetctl")
    net = Namespaces(peer_ip=PEER_IP + "/24")
    procs = []
    try:
        pn = Pollnet(binary, net.dut, "dpdk:net_af_packet0,iface=%s" % net.dut_if,
                     DUT_IP + "/24", extra=["--ctl", ctl, "--stats", stats])
        answers_ping(net, DUT_IP)

        # unbound: a local zone, UDP only
        conf = os.path.join(tmp, "unbound.conf")
        with open(conf, "w") as f:
            f.write("server:\n  interface: 0.0.0.0\n  port: 5353\n  do-ip6: no\n  do-tcp: no\n"
                    "  chroot: \"\"\n  username: \"\"\n  directory: \"%s\"\n  pidfile: \"\"\n"
                    "  use-syslog: no\n  logfile: \"\"\n  verbosity: 1\n  num-threads: 1\n"
                    "  access-control: 0.0.0.0/0 allow\n  local-zone: \"pollnet.test.\" static\n"
                    % tmp)
            for line in zone_lines():
                f.write("  local-data: \"%s\"\n" % line)
            f.write("remote-control:\n  control-enable: no\n")
        ub = subprocess.Popen(["ip", "netns", "exec", net.dut, "sh", run, "unbound", "-d", "-c",
                               conf], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, env=env)
        procs.append(ub)
        time.sleep(2)
        check(ub.poll() is None, "unbound starts under pollnet-run%s" %
              ("" if ub.poll() is None else ": " + ub.communicate()[0][-1500:]))
        res, out = dnsperf(net, tmp, 5353)
        print(out)
        check(res["sent"] and res["lost"] == 0 and res["noerror"] == res["sent"],
              "unbound answers dnsperf: %s" % res)
        rx, tx, drops = books(ctlbin, stats, 5353, res["sent"])
        check(rx == res["sent"] and tx == res["sent"] and drops == 0,
              "the books: unbound's socket received %d and sent %d datagrams, dropped %d"
              % (rx, tx, drops))
        ub.terminate()
        ub.wait(10)

        # dnsmasq: every interface (it binds the wildcard and reads each
        # query's IP_PKTINFO), then --bind-interfaces on pollnet's address
        # (--listen-address pollnet's address is for later: dnsmasq's TCP
        # socket on the kernel cannot bind an address the kernel lacks)
        # (a sanitizer build runs programs with ASan's runtime preloaded,
        # which dnsmasq does not survive even without pollnet-run: it hangs
        # in textdomain() on glibc's locale lock before it opens a socket)
        asan = "asan" in env.get("LD_PRELOAD", "")
        if asan:
            print("skip dnsmasq: it hangs at start with ASan's runtime preloaded, "
                  "pollnet or not")
        for how, extra in (("the wildcard", []),) if not asan else ():
            dm = subprocess.Popen(["ip", "netns", "exec", net.dut, "sh", run, "dnsmasq",
                                   "--no-daemon", "--no-resolv", "--no-hosts", "--port=5354",
                                   "--user=root", "--pid-file=", "--local=/pollnet.test/",
                                   "--log-facility=-"] + extra +
                                  ["--host-record=host%d.pollnet.test,198.18.1.%d" %
                                   (i, i % 250 + 1) for i in range(NAMES)],
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                  env=env)
            procs.append(dm)
            time.sleep(2)
            check(dm.poll() is None, "dnsmasq (%s) starts under pollnet-run%s" % (
                how, "" if dm.poll() is None else ": " + dm.communicate()[0][-1500:]))
            if dm.poll() is not None:
                continue
            res, out = dnsperf(net, tmp, 5354)
            rx, tx, drops = books(ctlbin, stats, 5354, res["sent"])
            check(res["sent"] and res["lost"] == 0 and res["noerror"] == res["sent"] and
                  rx == res["sent"] and tx == res["sent"] and drops == 0,
                  "dnsmasq (%s) answers dnsperf, its socket received %d and sent %d, "
                  "dropped %d: %s" % (how, rx, tx, drops, res))
            dm.terminate()
            log = dm.communicate(timeout=10)[0]
            if res["lost"] != 0 or not res["sent"]:
                print(log[-2000:])
    finally:
        kill_all(procs)
    mbufs_back(pn)
    finish()


if __name__ == "__main__":
    main()
