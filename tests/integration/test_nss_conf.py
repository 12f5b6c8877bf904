#!/usr/bin/python3
"""libnss_pollnet reads resolv.conf once, and again only when it changes.

pollnet runs on a veth (net_af_packet) in one namespace; the peer
namespace has two addresses, each with a dnsmasq that gives the same name
its own address.  One python3 process under pollnet-run
(nss_lookups.py) looks the name up many times, counting the opens of
resolv.conf (ip netns exec puts /etc/netns/NS/resolv.conf over it),
switches resolv.conf from one nameserver to the other between two lookups,
and looks names up from several threads at once and from children forked
meanwhile.

usage: test_nss_conf.py POLLNET_BINARY BUILD_DIR
"""
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from netns import answers_ping, check, finish, Namespaces, Pollnet, preload_setup, sh  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DUT_IP = "198.18.0.2"
NS_A, NS_B = "198.18.0.1", "198.18.0.3"
ADDR_A, ADDR_B = "198.18.0.77", "198.18.0.88"
NAME = "web.pollnet.test"


def dnsmasq(ns, listen, addr, log):
    # (not under a sanitizer runtime: the kernel's side of the test)
    # its log to a file: a pipe nobody reads until the end would fill up
    # and stop it answering
    return subprocess.Popen(["ip", "netns", "exec", ns, "dnsmasq", "--no-daemon",
                             "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
                             "--bind-interfaces", "--listen-address=" + listen, "--port=53",
                             "--local=/pollnet.test/", "--user=root",
                             "--host-record=%s,%s" % (NAME, addr),
                             "--log-queries", "--log-facility=-"],
                            stdout=log, stderr=subprocess.STDOUT)


def main():
    binary, build, run, tmp, ctl, stats, env = preload_setup("pn-nss-")
    net = Namespaces(peer_ip=NS_A + "/24")
    sh("ip", "addr", "add", NS_B + "/24", "dev", net.peer_if, ns=net.peer)
    etc = "/etc/netns/%s" % net.dut
    servers = []
    try:
        # the same size, so that only the mtime tells them apart
        confs = []
        for ns in (NS_A, NS_B):
            path = os.path.join(tmp, "resolv.conf." + ns)
            with open(path, "w") as f:
                f.write("nameserver %s\nsearch pollnet.test\noptions timeout:2 attempts:2\n" %
                        ns)
            confs.append(path)
        os.makedirs(etc, exist_ok=True)
        shutil.copy(confs[0], os.path.join(etc, "resolv.conf"))
        logs = [open(os.path.join(tmp, "dnsmasq-%s.log" % ns), "w+") for ns in (NS_A, NS_B)]
        servers = [dnsmasq(net.peer, NS_A, ADDR_A, logs[0]),
                   dnsmasq(net.peer, NS_B, ADDR_B, logs[1])]
        pn = Pollnet(binary, net.dut, "dpdk:net_af_packet0,iface=%s" % net.dut_if,
                     DUT_IP + "/24", extra=["--ctl", ctl, "--stats", stats])
        answers_ping(net, DUT_IP)
        r = subprocess.run(["ip", "netns", "exec", net.dut, "sh", run, "python3",
                            os.path.join(HERE, "nss_lookups.py"), NAME, confs[0], ADDR_A,
                            confs[1], ADDR_B], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, env=env, timeout=240)
        for line in r.stdout.splitlines():
            if line.startswith("ok   "):
                check(True, line[5:])
            elif line.startswith("FAIL "):
                check(False, line[5:])
        check(r.returncode == 0, "nss_lookups.py: exit status 0%s" %
              ("" if r.returncode == 0 else " (%d)\n%s" % (r.returncode, r.stdout[-2000:])))
        asked = []
        for s, log in zip(servers, logs):
            s.kill()
            s.wait()
            log.seek(0)
            asked.append(log.read().count("query[A] " + NAME))
        check(asked[0] >= 60 and asked[1] >= 20,
              "both nameservers were asked (%d and %d questions for %s's A)" %
              (asked[0], asked[1], NAME))
        counters, _ = pn.stop()
        check(counters.get("pool.in_use", 0) == 0, "every mbuf returned")
    finally:
        for s in servers:
            if s.poll() is None:
                s.kill()
        shutil.rmtree(etc, ignore_errors=True)
        shutil.rmtree(tmp, ignore_errors=True)
    finish()


if __name__ == "__main__":
    main()
