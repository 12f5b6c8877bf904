#!/usr/bin/python3
"""1000 clients killed with SIGKILL at random moments.

Clients (tests/integration/pn_client.c chaos) do everything a libpollnet
client does, in random order: sessions, sockets, binds, connects, bursts
of sends and receives, closes, blocking and not.  They run 40 at a time
and each is killed with SIGKILL a random 0-100 ms after it started (one in
ten while it may still be connecting): in the middle of a send, a receive,
a bind or connect, a close.  Afterwards pollnet has no
client and no socket left, its pool and its open file descriptors are back
to where they were, its counters reconcile, and it still passes the lab's
tests.

usage: test_clientfault.py POLLNET BUILD_DIR [CLIENTS]
"""
import os
import random
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from netns import check, finish, Namespaces, Pollnet, need_root, sh  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DUT_IP, PEER_IP = "198.18.0.2", "198.18.0.1"
LAB_PORT, ECHO_PORT = 26099, 26100
AT_ONCE = 40


def fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def main():
    need_root()
    binary, build = sys.argv[1], sys.argv[2]
    total = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
    pn_client = os.path.join(build, "tests", "pn_client")
    nettests = os.path.join(build, "client", "pollnet-nettests")
    tmp = tempfile.mkdtemp(prefix="pn-kill-")
    ctl = os.path.join(tmp, "pollnet.sock")
    net = Namespaces(peer_ip=PEER_IP + "/24")
    rnd = random.Random(int(time.time()))
    srv = subprocess.Popen(["ip", "netns", "exec", net.peer, "/usr/bin/python3",
                            os.path.join(HERE, "servers.py"), str(LAB_PORT), str(ECHO_PORT)],
                           stdout=subprocess.PIPE, text=True)
    try:
        check(srv.stdout.readline().strip() == "serving", "the kernel's echo server is up")
        pn = Pollnet(binary, net.dut, "dpdk:net_af_packet0,iface=%s" % net.dut_if,
                     DUT_IP + "/24", extra=["--ctl", ctl])
        check(open("/proc/%d/comm" % pn.proc.pid).read().strip() == "pollnet",
              "pollnet's own pid is known (%d)" % pn.proc.pid)
        r = sh(nettests, "--ctl", ctl, "--skip-dns", PEER_IP, str(LAB_PORT), check=False, timeout=120)
        check(r.returncode == 0, "the lab's tests pass before")
        base = pn.report()
        fd0 = fds(pn.proc.pid)
        killed, started, peak = 0, 0, 0
        t0 = time.time()
        while killed < total:
            wave = []
            for _ in range(min(AT_ONCE, total - killed)):
                wave.append(subprocess.Popen([pn_client, "chaos", ctl, PEER_IP, str(ECHO_PORT),
                                              str(rnd.randrange(1 << 30))],
                                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL))
            # most are killed once they run (mid-send, mid-receive, mid-bind),
            # some while they are still connecting
            for p in wave:
                if rnd.random() < 0.9:
                    started += p.stdout.readline() == b"chaos\n"
            born = time.time()
            deadlines = sorted((born + rnd.uniform(0, 0.1), i) for i in range(len(wave)))
            for when, i in deadlines:
                time.sleep(max(0, when - time.time()))
                wave[i].send_signal(signal.SIGKILL)
            c = pn.report()
            peak = max(peak, c["control.sockets"])
            for p in wave:
                p.wait()
                p.stdout.close()
            killed += len(wave)
        took = time.time() - t0
        check(killed == total, "%d clients killed with SIGKILL in %.0f s (%d had started, up to "
              "%d sockets open at a time)" % (killed, took, started, peak))
        check(started >= total * 8 // 10, "most were killed after they started (%d)" % started)
        deadline = time.time() + 20
        while True:
            c = pn.report()
            done = (c["control.clients"] == 0 and c["control.sockets"] == 0 and
                    c["pool.in_use_now"] == base["pool.in_use_now"] and fds(pn.proc.pid) == fd0)
            if done or time.time() > deadline:
                break
            time.sleep(0.2)
        check(pn.alive(), "pollnet is up")
        check(c["control.clients"] == 0 and c["control.sockets"] == 0,
              "no client and no socket left (%d, %d)" % (c["control.clients"], c["control.sockets"]))
        check(c["pool.in_use_now"] == base["pool.in_use_now"],
              "pool in use back to %d (%d)" % (base["pool.in_use_now"], c["pool.in_use_now"]))
        check(fds(pn.proc.pid) == fd0, "pollnet's open file descriptors back to %d (%d)" %
              (fd0, fds(pn.proc.pid)))
        check(c["stack.rx_frames"] == c["stack.rx_delivered"] + c["stack.rx_answered"] +
              c["stack.rx_dropped"] +
              c["stack.rx_merged"], "rx_frames %d == delivered + answered + dropped + merged" %
              c["stack.rx_frames"])
        check(c["stack.local_sent"] == c["stack.local_delivered"] + c["stack.local_no_socket"] +
              c["stack.local_ring_full"] + c["stack.local_to_kernel"],
              "local_sent == delivered + no_socket + ring_full + to_kernel")
        r = sh(nettests, "--ctl", ctl, "--skip-dns", PEER_IP, str(LAB_PORT), check=False, timeout=120)
        check(r.returncode == 0, "the lab's tests pass after")
        counters, _ = pn.stop()
        check(counters["pool.in_use"] == 0, "at exit every mbuf is back")
    finally:
        srv.kill()
        srv.wait()
    finish()


if __name__ == "__main__":
    main()
