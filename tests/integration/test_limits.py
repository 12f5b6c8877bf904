#!/usr/bin/python3
"""Clients cannot hurt each other through pollnet's control channel.

pollnet with small limits (sockets.max 30, max_per_client 8, max_per_user
20, control.max_clients_per_user 4): a client of user `nobody` that opens
sockets until refused gets EMFILE at 8; more sessions of the same user get
EDQUOT at 20 sockets in all, and a fifth session is refused with EDQUOT;
root meanwhile still gets sockets until the table is full (ENFILE).  Each
refusal is counted under its reason (control.refused.*), and freed sockets
are usable again.  Then the default limits (sockets.max 1024): three users
(nobody, daemon, bin) each get their share, a quarter of the table (256,
then EDQUOT), and still leave room: a fourth (sys) gets what is left but
the table's last sixteenth (192, then ENFILE), which only root takes (64,
then ENFILE); root is not held to a share (600 more once the others
closed theirs).  A second pollnet with 256-session room: the 257th
connection is refused with EUSERS.  Then four sessions of `nobody` flood
the control channel (socket, close, as fast as they go) while root runs the
lab's tests: they pass (no request of root's waits behind the flood).

usage: test_limits.py POLLNET BUILD_DIR
"""
import errno
import os
import pwd
import re
import socket
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from netns import (check, finish, for_other_users, mbufs_back, Namespaces, Pollnet,  # noqa: E402
                   need_root, sh)

DUT_IP, PEER_IP = "198.18.0.2", "198.18.0.1"
NOBODY = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]


# the protocol's version, as the header has it
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "abi",
                       "pn_versions.h")) as f:
    CTL_VERSION = int(re.search(r"#define PN_CTL_VERSION\s+(\d+)", f.read()).group(1))


def hello(path):
    """One raw control connection and its HELLO (abi/pn_control.h): the
    reply's status (0, or a negative errno)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(path)
    try:
        s.send(struct.pack("=IIIIHHIII", 1, 1, 0, 0, 0, CTL_VERSION, 0, 0, 0))  # HELLO, seq 1
    except OSError:
        pass                      # turned away already: the reason is queued
    s.settimeout(5)
    rep = s.recv(64)
    status = struct.unpack("=Ii", rep[:8])[1] if len(rep) >= 8 else None
    return s, status


def sockets_settle(pn, n, seconds):
    """Wait until pollnet counts n sockets (closed sessions' sockets go at
    the control thread's pace), at most seconds."""
    deadline = time.time() + seconds
    while pn.report()["control.sockets"] != n and time.time() < deadline:
        time.sleep(0.1)


def release(procs, pn):
    """The hogs told to exit (their stdin closed), then pollnet stopped:
    every mbuf back."""
    for p in procs:
        p.stdin.close()
        p.wait(timeout=30)
    procs.clear()
    mbufs_back(pn)


def main():
    need_root()
    binary, build = sys.argv[1], sys.argv[2]
    # nobody runs them too: copies it can read
    (pn_client, nettests), env = for_other_users(build, os.path.join(build, "tests", "pn_client"),
                                                 os.path.join(build, "client", "pollnet-nettests"))
    tmp = tempfile.mkdtemp(prefix="pn-limits-")
    os.chmod(tmp, 0o755)
    ctl = os.path.join(tmp, "pollnet.sock")
    net = Namespaces(peer_ip=PEER_IP + "/24")
    procs = []

    def hog(n, as_nobody=True, user=None):
        who = NOBODY if as_nobody and user is None else []
        if user is not None:
            who = ["setpriv", "--reuid=" + user, "--regid=%d" % pwd.getpwnam(user).pw_gid,
                   "--clear-groups"]
        p = subprocess.Popen(who + [pn_client, "hog", ctl, str(n)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
        procs.append(p)
        return p, p.stdout.readline().strip()

    try:
        pn = Pollnet(binary, net.dut, "dpdk:net_af_packet0,iface=%s" % net.dut_if,
                     DUT_IP + "/24", extra=[
                         "--ctl", ctl, "--set", "control.mode=0666",
                         "--set", "control.allow_users=nobody", "--set", "sockets.max=30",
                         "--set", "sockets.max_per_client=8", "--set", "sockets.max_per_user=20",
                         "--set", "control.max_clients_per_user=4"])
        _, out = hog(100)
        check(out.startswith("opened 8: ") and "sockets.max_per_client" in out,
              "nobody's first session: 8 sockets, then EMFILE (%s)" % out)
        _, out = hog(100)
        check(out.startswith("opened 8: "), "its second session: 8 more (%s)" % out)
        _, out = hog(100)
        check(out.startswith("opened 4: ") and "sockets.max_per_user" in out,
              "its third: 4, then the user's 20 are used up: EDQUOT (%s)" % out)
        _, out = hog(0)
        check(out.startswith("opened 0: ok"), "its fourth session opens (no sockets left to it)")
        r = sh(*(NOBODY + [pn_client, "hog", ctl, "1"]), check=False, input="", env=env)
        check("max_clients_per_user" in r.stdout,
              "a fifth session of nobody's is refused: EDQUOT (%s)" % r.stdout.strip())
        root1, out = hog(100, as_nobody=False)
        check(out.startswith("opened 8: "), "root is not held back by nobody: 8 (%s)" % out)
        _, out = hog(100, as_nobody=False)
        check(out.startswith("opened 2: ") and "sockets.max)" in out,
              "then the table's 30 are full: ENFILE (%s)" % out)
        c = pn.report()
        for reason, n in (("client_sockets", 3), ("user_sockets", 1), ("user_clients", 1),
                          ("sockets_full", 1), ("credentials", 0), ("clients_full", 0)):
            check(c["control.refused." + reason] == n,
                  "control.refused.%s == %d (%d)" % (reason, n, c["control.refused." + reason]))
        check(c["control.refused"] == 6, "control.refused == 6, the sum (%d)" % c["control.refused"])
        check(c["control.sockets"] == 30, "30 sockets open (%d)" % c["control.sockets"])
        # freed sockets are usable again
        root1.stdin.close()
        root1.wait(timeout=10)
        sockets_settle(pn, 22, 5)
        _, out = hog(8, as_nobody=False)
        check(out == "opened 8: ok", "root's sockets back after its session closed (%s)" % out)
        release(procs, pn)

        # the default limits: three users (and a fourth) cannot take the
        # table from each other, nor from root
        pn = Pollnet(binary, net.dut, "dpdk:net_af_packet0,iface=%s" % net.dut_if,
                     DUT_IP + "/24", extra=[
                         "--ctl", ctl, "--set", "control.mode=0666",
                         "--set", "control.allow_users=nobody,daemon,bin,sys"])
        users = {}
        for user in ("nobody", "daemon", "bin"):
            got = [hog(200, user=user), hog(200, user=user)]
            users[user] = [p for p, _ in got]
            out = [o for _, o in got]
            check(out[0] == "opened 200: ok" and out[1].startswith("opened 56: ") and
                  "sockets.max_per_user" in out[1],
                  "user %s gets its share, a quarter of the 1024: 256, then EDQUOT (%s)" %
                  (user, "; ".join(out)))
        _, out = hog(200, user="sys")
        check(out.startswith("opened 192: ") and "sockets.max)" in out,
              "a fourth user gets the rest but the last 64: 192, then ENFILE (%s)" % out)
        _, out = hog(200, as_nobody=False)
        check(out.startswith("opened 64: ") and "sockets.max)" in out,
              "root gets the last 64, then ENFILE (%s)" % out)
        c = pn.report()
        check(c["control.sockets"] == 1024, "1024 sockets open (%d)" % c["control.sockets"])
        check(c["control.refused.user_sockets"] == 3 and c["control.refused.sockets_full"] == 2,
              "refusals: user_sockets 3 (%d), sockets_full 2 (%d)" %
              (c["control.refused.user_sockets"], c["control.refused.sockets_full"]))
        for user in ("nobody", "daemon", "bin"):
            for p in users[user]:
                p.stdin.close()
                p.wait(timeout=30)
        sockets_settle(pn, 256, 10)
        out = [hog(200, as_nobody=False)[1] for _ in range(3)]
        check(out == ["opened 200: ok"] * 3,
              "root is held to no share: 600 more beside its 64 (%s)" % "; ".join(out))
        release(procs, pn)

        # every session slot taken: the next is told EUSERS
        pn = Pollnet(binary, net.dut, "dpdk:net_af_packet0,iface=%s" % net.dut_if,
                     DUT_IP + "/24", extra=["--ctl", ctl, "--set", "control.max_clients_per_user=256"])
        conns = [hello(ctl) for _ in range(256)]
        check(all(st == 0 for _, st in conns), "256 sessions accepted")
        extra, st = hello(ctl)
        check(st == -errno.EUSERS, "the 257th is told EUSERS (%s)" % st)
        for sk, _ in conns + [(extra, 0)]:
            sk.close()
        c = pn.report()
        check(c["control.refused.clients_full"] == 1, "control.refused.clients_full == 1")
        pn.stop()

        # a flood of control requests from one user does not starve another's
        pn = Pollnet(binary, net.dut, "dpdk:net_af_packet0,iface=%s" % net.dut_if,
                     DUT_IP + "/24", extra=["--ctl", ctl, "--set", "control.mode=0666",
                                            "--set", "control.allow_users=nobody"])
        srv = subprocess.Popen(["ip", "netns", "exec", net.peer, "/usr/bin/python3",
                                os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                             "servers.py"), "26099", "26100"],
                               stdout=subprocess.PIPE, text=True)
        procs.append(srv)
        check(srv.stdout.readline().strip() == "serving", "the lab's server is up")
        t0 = time.time()
        r = sh(nettests, "--ctl", ctl, "--skip-dns", PEER_IP, "26099", check=False, timeout=120)
        alone = time.time() - t0
        check(r.returncode == 0, "root's lab tests, alone: %.1f s" % alone)
        floods = [subprocess.Popen(NOBODY + [pn_client, "flood", ctl, "8"],
                                   stdout=subprocess.PIPE, text=True, env=env) for _ in range(4)]
        procs.extend(floods)
        check(all(f.stdout.readline().strip() == "flooding" for f in floods),
              "four sessions of nobody's flood the control channel")
        t0 = time.time()
        r = sh(nettests, "--ctl", ctl, "--skip-dns", PEER_IP, "26099", check=False, timeout=120)
        took = time.time() - t0
        ops = [f.communicate(timeout=30)[0].strip() for f in floods]
        check(r.returncode == 0, "root's lab tests pass during the flood (%.1f s; %s)" %
              (took, "; ".join(ops)))
        check(all(o.startswith("flooded ") and o.endswith(": ok") for o in ops),
              "the flooders themselves were served too")
        counters, _ = pn.stop()
        check(counters["control.sockets"] == 0 and counters["pool.in_use"] == 0,
              "afterwards no socket is left and every mbuf is back")
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    finish()


if __name__ == "__main__":
    main()
