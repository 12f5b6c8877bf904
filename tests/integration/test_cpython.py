#!/usr/bin/python3
"""CPython's own tests of UDP sockets (Debian's libpython3.11-testsuite),
under pollnet-run as on the kernel.

In a namespace where pollnet runs on a veth (net_af_packet), Debian's
python3 runs test_socket's UDP classes and test_asyncio's datagram,
sock_recvfrom/sock_sendto and UDP tests twice: on the kernel's sockets,
then under pollnet-run (where their sockets, on 127.0.0.1, go through
pollnet's local delivery).  Both must pass, every test with the same
outcome, and pollnet's counters must show the datagrams.

usage: test_cpython.py POLLNET_BINARY BUILD_DIR
"""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from netns import check, finish, mbufs_back, Namespaces, Pollnet, preload_setup  # noqa: E402

PYTHON = "/usr/bin/python3"     # Debian's, whose test suite is installed
TESTS = ["test_socket", "test_asyncio.test_events", "test_asyncio.test_sock_lowlevel",
         "test_asyncio.test_base_events"]
MATCH = ["*UDP*", "*udp*", "*datagram*", "*recvfrom*", "*sendto*"]
DUT_IP = "198.18.0.2"


def regrtest(net, env, tmp, prefix=()):
    args = [PYTHON, "-m", "test", "-v"] + TESTS
    for m in MATCH:
        args += ["-m", m]
    r = subprocess.run(["ip", "netns", "exec", net.dut] + list(prefix) + args, cwd=tmp,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                       timeout=600)
    outcomes = dict(re.findall(r"^(\w+ \([\w.]+\)) \.\.\. (ok|skipped.*|FAIL|ERROR)$",
                               r.stdout, re.M))
    return r, outcomes


def main():
    binary, build, run, tmp, ctl, stats, env = preload_setup("pn-cpython-")
    net = Namespaces()
    kernel, k = regrtest(net, dict(os.environ), tmp)
    check(kernel.returncode == 0 and len(k) > 200,
          "on the kernel: %d tests, exit %d" % (len(k), kernel.returncode))
    pn = Pollnet(binary, net.dut, "dpdk:net_af_packet0,iface=%s" % net.dut_if, DUT_IP + "/24",
                 extra=["--ctl", ctl, "--stats", stats])
    c0 = pn.report()
    ours, p = regrtest(net, env, tmp, prefix=("sh", run))
    c1 = pn.report()
    bad = sorted(t for t in k if p.get(t) != k[t])
    check(ours.returncode == 0 and not bad and len(p) == len(k),
          "under pollnet-run: %d tests, exit %d, every one as on the kernel%s" % (
              len(p), ours.returncode, "" if not bad else "; not: " + "; ".join(
                  "%s: %s, kernel %s" % (t, p.get(t), k[t]) for t in bad[:10])))
    if ours.returncode != 0:
        print(ours.stdout[-4000:])
    local = c1["stack.local_delivered"] - c0["stack.local_delivered"]
    check(local >= 50, "their datagrams went through pollnet (%d delivered locally)" % local)
    mbufs_back(pn)
    finish()


if __name__ == "__main__":
    main()
