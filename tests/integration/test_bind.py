#!/usr/bin/python3
"""Binding, connecting and disconnecting: pollnet beside the kernel, the
kernel being the oracle.

Each scenario is a list of steps (bind_steps.py's language).  The kernel
runs it on its own sockets in the peer namespace (the test's datagrams to
it come from that namespace), pollnet runs it on its sockets under
pollnet-run (the datagrams come over the veth), and the two must answer
alike, step for step.  The kernel's answers are checked too, against what
the scenario says it does (so that a kernel that changed would be noticed,
not copied).

What the kernel does that the scenarios show:
- two wildcard binds of one port with SO_REUSEADDR on both are allowed;
  a unicast datagram goes to one socket only, the one bound last, and when
  it closes, to the one bound before it;
- a disconnect (connect(AF_UNSPEC)) of a socket bound to a port it named
  keeps the port, whoever else is connected on it, and puts the socket
  first among the port's wildcard sockets; a disconnect of a socket never
  bound or connected does nothing, and says so with success;
- a disconnect of a socket whose port was chosen for it (connect's, or
  bind's to port 0) gives the port up, connected or not: it is free for any
  bind, the socket's name says port 0, and the socket may be bound again.

The scenarios of a disconnect that gives a port up run a third time over
pollnet's control protocol by hand (ctlproto.py), holding pollnet's
replies themselves beside the kernel's answers.

usage: test_bind.py POLLNET BUILD_DIR
"""
import errno
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from netns import answers_ping, check, finish, Namespaces, Pollnet, preload_setup, sh  # noqa: E402
import ctlproto  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DUT_IP, PEER_IP = "198.18.0.2", "198.18.0.1"

# (step, what the kernel answers); "recv N DPORT SPORT": N datagrams the
# test sends from SPORT (0: any) to DPORT
SCENARIOS = {
    "two SO_REUSEADDR wildcard binds: the last bound receives, then the other": [
        ("new a", "ok"), ("reuse a", "ok"), ("bind a 7100", "ok"),
        ("new b", "ok"), ("reuse b", "ok"), ("bind b 7100", "ok"),
        ("recv 3 7100 0", "b b b"),
        ("close b", "ok"),
        ("recv 3 7100 0", "a a a"),
        ("close a", "ok"),
    ],
    "three: the one bound in the middle closes, the last still receives": [
        ("new a", "ok"), ("reuse a", "ok"), ("bind a 7101", "ok"),
        ("new b", "ok"), ("reuse b", "ok"), ("bind b 7101", "ok"),
        ("new c", "ok"), ("reuse c", "ok"), ("bind c 7101", "ok"),
        ("recv 2 7101 0", "c c"),
        ("close b", "ok"),
        ("recv 2 7101 0", "c c"),
        ("close c", "ok"),
        ("recv 2 7101 0", "a a"),
    ],
    "SO_REUSEADDR on one of the two is not enough": [
        ("new a", "ok"), ("bind a 7102", "ok"),
        ("new b", "ok"), ("reuse b", "ok"), ("bind b 7102", "EADDRINUSE"),
        ("new c", "ok"), ("reuse c", "ok"), ("bind c 7103", "ok"),
        ("new d", "ok"), ("bind d 7103", "EADDRINUSE"),
    ],
    "a bound socket connects elsewhere: the other wildcard receives; back, it is first": [
        ("new a", "ok"), ("reuse a", "ok"), ("bind a 7105", "ok"),
        ("new b", "ok"), ("reuse b", "ok"), ("bind b 7105", "ok"),
        ("connect a 7201", "ok"),
        ("recv 2 7105 7203", "b b"),
        ("recv 2 7105 7201", "a a"),
        ("disconnect a", "ok"), ("name a", "7105"),
        ("recv 2 7105 7203", "a a"),
    ],
    "disconnect beside other connected sockets on the port: the port stays": [
        ("new a", "ok"), ("reuse a", "ok"), ("bind a 7104", "ok"), ("connect a 7201", "ok"),
        ("new b", "ok"), ("reuse b", "ok"), ("bind b 7104", "ok"), ("connect b 7202", "ok"),
        ("disconnect a", "ok"), ("name a", "7104"),
        ("recv 2 7104 7202", "b b"),
        ("recv 2 7104 7203", "a a"),
        ("disconnect b", "ok"), ("name b", "7104"),
        ("recv 2 7104 7202", "b b"),
    ],
    "a port it named stays its own through connect and disconnect": [
        ("new a", "ok"), ("bind a 7106", "ok"), ("connect a 7201", "ok"),
        ("disconnect a", "ok"), ("name a", "7106"),
        ("recv 2 7106 7209", "a a"),
        ("new b", "ok"), ("bind b 7106", "EADDRINUSE"),
    ],
}

# The same, through the control protocol by hand: no datagrams.
RAW_SCENARIOS = {
    "a port connect chose is given up by a disconnect": [
        ("new a", "ok"), ("connect a 7201", "ok"), ("name a", "e1"),
        ("disconnect a", "ok"), ("name a", "0"),
        ("new b", "ok"), ("bind b e1", "ok"),
    ],
    "... and one bind chose, connected or not": [
        ("new a", "ok"), ("bind a 0", "ok"), ("name a", "e1"), ("connect a 7201", "ok"),
        ("disconnect a", "ok"), ("name a", "0"),
        ("new b", "ok"), ("bind b e1", "ok"),
        ("new c", "ok"), ("bind c 0", "ok"), ("name c", "e2"),
        ("disconnect c", "ok"), ("name c", "0"),
        ("new d", "ok"), ("bind d e2", "ok"),
        ("bind c e2", "EADDRINUSE"), ("bind c 0", "ok"), ("connect c 7201", "ok"),
    ],
    "a disconnect of a socket never bound": [
        ("new a", "ok"), ("disconnect a", "ok"), ("name a", "0"),
    ],
    "a port it named it keeps, beside other connected sockets": [
        ("new a", "ok"), ("reuse a", "ok"), ("bind a 7107", "ok"), ("connect a 7201", "ok"),
        ("new b", "ok"), ("reuse b", "ok"), ("bind b 7107", "ok"), ("connect b 7202", "ok"),
        ("disconnect a", "ok"), ("name a", "7107"),
        ("new c", "ok"), ("bind c 7107", "EADDRINUSE"),
    ],
}

SEND = """
import socket, sys
ip, dport, sport, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", sport))
for i in range(n):
    s.sendto(b"datagram %d" % i, (ip, dport))
"""


class Steps:
    """bind_steps.py in namespace ns (under pollnet-run with run)."""

    def __init__(self, ns, env, run=None):
        cmd = ["/usr/bin/python3", os.path.join(HERE, "bind_steps.py"), PEER_IP]
        if run:
            cmd = ["sh", run] + cmd
        self.p = subprocess.Popen(["ip", "netns", "exec", ns] + cmd, stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                  env=env, bufsize=1)

    def step(self, s):
        self.p.stdin.write(s + "\n")
        self.p.stdin.flush()

    def answer(self):
        return self.p.stdout.readline().strip()

    def close(self):
        self.p.stdin.close()
        rest = self.p.stdout.read()
        self.p.wait(timeout=30)
        return rest


class Raw:
    """The same steps over pollnet's control protocol: what a client asks
    and what the replies say (name: the local port of the last reply)."""

    def __init__(self, ctl):
        self.s = ctlproto.Session(ctl)
        self.socks, self.reuse, self.port = {}, {}, {}
        self.ephemeral, self.named = {}, set()

    def port_name(self, p):
        if p == 0 or p in self.named:
            return str(p)
        return self.ephemeral.setdefault(p, "e%d" % (len(self.ephemeral) + 1))

    def port_of(self, text):
        if text.startswith("e"):
            return next(p for p, n in self.ephemeral.items() if n == text)
        self.named.add(int(text))
        return int(text)

    def run(self, step):
        w = step.split()
        op, x = w[0], w[1]
        if op == "new":
            self.socks[x], self.reuse[x], self.port[x] = self.s.socket(), False, 0
            return "ok"
        sid = self.socks[x]
        if op == "reuse":
            self.reuse[x] = True
            return "ok"
        if op == "name":
            return self.port_name(self.port[x])
        if op == "bind":
            st, p = self.s.bind(sid, self.port_of(w[2]), self.reuse[x])
        elif op == "connect":
            st, p = self.s.connect(sid, PEER_IP, self.port_of(w[2]))
        elif op == "disconnect":
            st, p = self.s.connect(sid, "0.0.0.0", 0)
        elif op == "close":
            st, p = self.s.close_socket(sid), 0
        else:
            return "unknown step " + op
        if st == 0:
            self.port[x] = p
            return "ok"
        return errno_name(-st)


def errno_name(e):
    return errno.errorcode.get(e, str(e))


def main():
    binary, build, run, tmp, ctl, stats, env = preload_setup("pn-bind-")
    ctlbin = os.path.join(build, "app", "pollnetctl")
    net = Namespaces(peer_ip=PEER_IP + "/24")
    pn = Pollnet(binary, net.dut, "dpdk:net_af_packet0,iface=%s" % net.dut_if, DUT_IP + "/24",
                 extra=["--ctl", ctl, "--stats", stats])
    answers_ping(net, DUT_IP)

    def send(target, dport, sport, n):
        sh("/usr/bin/python3", "-c", SEND, target, dport, sport, str(n), ns=net.peer)

    for name, steps in list(SCENARIOS.items()) + list(RAW_SCENARIOS.items()):
        kernel = Steps(net.peer, env)
        ours = Steps(net.dut, env, run=run)
        bad = []
        for step, expect in steps:
            w = step.split()
            for who, target in ((kernel, PEER_IP), (ours, DUT_IP)):
                who.step(" ".join(w[:2]) if w[0] == "recv" else step)
                if w[0] == "recv":
                    send(target, w[2], w[3], int(w[1]))
            k, o = kernel.answer(), ours.answer()
            if k != expect or o != k:
                bad.append("%s: kernel %r%s, pollnet %r" %
                           (step, k, "" if k == expect else " (expected %r)" % expect, o))
        rest = kernel.close() + ours.close()
        check(not bad and not rest.strip(), "%s%s" % (name, "".join("\n       " + b for b in bad) +
                                                       ("\n       " + rest.strip() if rest.strip()
                                                        else "")))

    for name, steps in RAW_SCENARIOS.items():
        kernel = Steps(net.peer, env)
        raw = Raw(ctl)
        bad = []
        for step, expect in steps:
            kernel.step(step)
            k, o = kernel.answer(), raw.run(step)
            if k != expect or o != k:
                bad.append("%s: kernel %r%s, pollnet %r" %
                           (step, k, "" if k == expect else " (expected %r)" % expect, o))
        raw.s.close()
        rest = kernel.close()
        check(not bad and not rest.strip(), "control protocol: %s%s" %
              (name, "".join("\n       " + b for b in bad) +
               ("\n       " + rest.strip() if rest.strip() else "")))

    # what pollnetctl shows of a socket that gave its port up: unbound
    raw = ctlproto.Session(ctl)
    sid = raw.socket()
    _, port = raw.connect(sid, PEER_IP, 7201)

    def shown(want):
        """(local port, connected, local address) once it is want, or
        what it is after 5 s (the control thread publishes now and then)"""
        deadline = time.time() + 5
        while True:
            r = sh(ctlbin, "--stats", stats, "sockets", "--json", check=False)
            e = next((x for x in json.loads(r.stdout) if x.get("id") == sid), None) \
                if r.returncode == 0 else None
            got = e and (e["local_port"], e["connected"], e["local_addr"])
            if got == want or time.time() > deadline:
                return got
            time.sleep(0.1)

    got = shown((port, 1, DUT_IP))
    check(got == (port, 1, DUT_IP), "pollnetctl sockets: connected, on the port connect chose "
          "(%s)" % (got,))
    raw.connect(sid, "0.0.0.0", 0)
    got = shown((0, 0, "0.0.0.0"))
    check(got == (0, 0, "0.0.0.0"), "pollnetctl sockets: disconnected, it is unbound: port 0, "
          "not connected (%s)" % (got,))
    raw.close()

    c = pn.report()
    check(c["stack.rx_frames"] == c["stack.rx_delivered"] + c["stack.rx_answered"] +
          c["stack.rx_dropped"] +
          c["stack.rx_merged"], "rx_frames %d == delivered + answered + dropped + merged" %
          c["stack.rx_frames"])
    counters, _ = pn.stop()
    check(counters["pool.in_use"] == 0, "at exit every mbuf is back")
    finish(pn.log_path)


if __name__ == "__main__":
    main()
