#!/usr/bin/python3
"""The kernel's transcripts for the guest: udp_cases.py, frag_cases.py and
mcast_cases.py with the guest's addresses, and the guest's compared with
them.

deploy/guest/test.sh (the tap boot) runs the two case scripts in the guest
under pollnet-run, on pollnet's e1000 (or DPDK's), against their peers on
the host's kernel behind the tap (10.0.2.2).  Their reference is the same
scripts on the kernel's sockets with the same addresses: here, two
namespaces and a veth, 10.0.2.15/24 with a default route via 10.0.2.2 (as
pollnet's configuration in the guest), and the peers on 10.0.2.2.

usage: guest_oracle.py kernel DIR
           writes DIR/udp.kernel, DIR/frag.kernel and DIR/mcast.kernel
       guest_oracle.py compare NAME KERNEL_FILE CONSOLE_LOG
           the guest's lines "CASE-NAME ..." in CONSOLE_LOG against
           KERNEL_FILE; prints the verdict, exits 1 on a difference
"""
import difflib
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from netns import kill_all, Namespaces, sh  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
GUEST_IP, HOST_IP = "10.0.2.15", "10.0.2.2"
UDP_PORT, FRAG_PORT, MCAST_PORT = 9200, 9300, 9500      # as deploy/guest/test.sh's peers


def bound(ns, port):
    deadline = time.time() + 10
    while (":%d " % port) not in sh("ss", "-uln", ns=ns).stdout + " " and \
            time.time() < deadline:
        time.sleep(0.1)


def kernel(out_dir):
    net = Namespaces(peer_ip=HOST_IP + "/24")
    sh("ip", "addr", "add", GUEST_IP + "/24", "brd", "+", "dev", net.dut_if, ns=net.dut)
    sh("ip", "route", "add", "default", "via", HOST_IP, ns=net.dut)
    procs = [subprocess.Popen(["ip", "netns", "exec", net.peer, "python3",
                               os.path.join(HERE, "frag_cases.py"), "echo", HOST_IP,
                               str(FRAG_PORT), "200"]),
             subprocess.Popen(["ip", "netns", "exec", net.peer, "python3",
                               os.path.join(HERE, "mcast_cases.py"), "peer", str(MCAST_PORT),
                               "200", net.peer_if]),
             subprocess.Popen(["ip", "netns", "exec", net.peer, "python3",
                               os.path.join(HERE, "udp_cases.py"), "reflect", str(UDP_PORT),
                               "200", net.peer_if])]
    rc = 0
    try:
        for port in (UDP_PORT, FRAG_PORT, MCAST_PORT):
            bound(net.peer, port)
        for name, port in (("udp", UDP_PORT), ("frag", FRAG_PORT), ("mcast", MCAST_PORT)):
            r = subprocess.run(["ip", "netns", "exec", net.dut, "python3",
                                os.path.join(HERE, name + "_cases.py"), "cases", HOST_IP,
                                str(port), net.dut_if], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, timeout=200)
            lines = r.stdout.splitlines()
            with open(os.path.join(out_dir, name + ".kernel"), "w") as f:
                f.write(r.stdout)
            ok = r.returncode == 0 and lines[-1:] == ["## end"]
            print("%s: the kernel's transcript, %d lines%s" %
                  (name, len(lines), "" if ok else " (unfinished, exit %d)" % r.returncode))
            rc |= not ok
    finally:
        kill_all(procs)
        net.close()
    return rc


def compare(name, kernel_file, console):
    want = open(kernel_file).read().splitlines()
    tag = "CASE-%s " % name
    got = [line.rstrip("\r\n")[len(tag):] for line in open(console, errors="replace")
           if line.startswith(tag)]
    if want and want == got:
        print("%s_cases.py in the guest under pollnet-run: every line as the kernel's (%d)" %
              (name, len(want)))
        return 0
    diff = difflib.unified_diff(want, got, "kernel", "guest", lineterm="", n=1)
    print("%s_cases.py in the guest under pollnet-run: %d lines, the kernel's %d:\n%s" %
          (name, len(got), len(want), "\n".join(list(diff)[:60])))
    return 1


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "kernel":
        return kernel(sys.argv[2])
    if len(sys.argv) == 5 and sys.argv[1] == "compare":
        return compare(sys.argv[2], sys.argv[3], sys.argv[4])
    print(__doc__.split("usage:")[1], file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
