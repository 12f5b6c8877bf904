#!/usr/bin/python3
"""libpollnet against the Linux kernel: the lab's socket tests through
pollnet on a veth, with the lab's server.py, a UDP echo server and a dnsmasq
(local record, no upstream) on the kernel side.  Then clients killed with
SIGKILL mid-stream, a client scribbling over its own region, local delivery
between sockets, and who may connect.  After each part: pollnet is up, the
counters reconcile, and the pool's in-use count is back where it started.

usage: test_sockets.py POLLNET BUILD_DIR
"""
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from netns import answers_ping, check, finish, for_other_users, Namespaces, Pollnet, need_root, sh  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DUT_IP, PEER_IP = "198.18.0.2", "198.18.0.1"
LAB_PORT, ECHO_PORT = 26099, 26100


def main():
    need_root()
    binary, build = sys.argv[1], sys.argv[2]
    nettests = os.path.join(build, "client", "pollnet-nettests")
    echo_tool = os.path.join(build, "client", "pollnet-echo")
    pn_client = os.path.join(build, "tests", "pn_client")
    tmp = tempfile.mkdtemp(prefix="pn-sock-")
    os.chmod(tmp, 0o755)
    ctl = os.path.join(tmp, "pollnet.sock")
    net = Namespaces(peer_ip=PEER_IP + "/24")
    procs = []

    def spawn(cmd, ns=None, **kw):
        if ns:
            cmd = ["ip", "netns", "exec", ns] + cmd
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True, **kw)
        procs.append(p)
        return p

    try:
        srv = spawn(["/usr/bin/python3", os.path.join(HERE, "servers.py"),
                     str(LAB_PORT), str(ECHO_PORT)], ns=net.peer)
        check(srv.stdout.readline().strip() == "serving", "lab server and echo server up")
        spawn(["dnsmasq", "-k", "--no-resolv", "--no-hosts", "--conf-file=/dev/null",
               "--listen-address=" + PEER_IP, "--bind-interfaces", "--port=53",
               "--address=/pollnet.test/198.18.0.77", "--user=root",
               "--pid-file=" + os.path.join(tmp, "dnsmasq.pid")], ns=net.peer)
        # allow_users: only `nobody` besides root; mode 0666 so that anyone
        # can knock and the credential check decides
        pn = Pollnet(binary, net.dut, "dpdk:net_af_packet0,iface=%s" % net.dut_if,
                     DUT_IP + "/24", extra=["--ctl", ctl, "--set", "control.mode=0666",
                                            "--set", "control.allow_users=nobody"])
        # the first exchange right after start, as a user would: the peer's
        # ping answered, then at once the lab's tests (their "one ping" once
        # lost both replies here)
        answers_ping(net, DUT_IP)
        first = sh(nettests, "--ctl", ctl, "--skip-dns", PEER_IP, str(ECHO_PORT), check=False,
                   timeout=120)
        check(re.search(r"testing one ping: .*OK", first.stdout) is not None,
              "right after start, one ping against the kernel's echo server: " +
              first.stdout.strip().splitlines()[1][:70])
        check(first.returncode == 0, "right after start, the lab's tests pass")
        base = pn.report()
        pool0 = base["pool.in_use_now"]

        def settled(what):
            deadline = time.time() + 10
            while True:
                c = pn.report()
                ok = (c["control.sockets"] == 0 and c["control.clients"] == 0 and
                      c["pool.in_use_now"] == pool0)
                if ok or time.time() > deadline:
                    break
                time.sleep(0.2)
            check(pn.alive(), "%s: pollnet is up" % what)
            check(c["stack.rx_frames"] == c["stack.rx_delivered"] + c["stack.rx_answered"] +
                  c["stack.rx_dropped"] + c["stack.rx_merged"],
                  "%s: rx_frames %d == delivered + answered + dropped + merged" %
                  (what, c["stack.rx_frames"]))
            check(c["stack.local_sent"] == c["stack.local_delivered"] +
                  c["stack.local_no_socket"] + c["stack.local_ring_full"] +
                  c["stack.local_to_kernel"],
                  "%s: local_sent %d == delivered + no_socket + ring_full + to_kernel" %
                  (what, c["stack.local_sent"]))
            check(c["control.sockets"] == 0 and c["control.clients"] == 0,
                  "%s: every socket and session closed (%d, %d)" %
                  (what, c["control.sockets"], c["control.clients"]))
            check(c["pool.in_use_now"] == pool0, "%s: pool in use back to %d (now %d)" %
                  (what, pool0, c["pool.in_use_now"]))
            return c

        # 1-4. the lab's tests
        r = sh(nettests, "--ctl", ctl, "--dns", PEER_IP, "--dns-name", "pollnet.test",
               "--dns-expect", "198.18.0.77", PEER_IP, str(LAB_PORT), check=False, timeout=120)
        print(r.stdout)
        for t in ("one ping", "single-process pings", "multi-process pings", "DNS"):
            check(re.search(r"testing %s: .*OK" % t, r.stdout) is not None, "lab test: " + t)
        check(r.returncode == 0, "pollnet-nettests exit status 0")
        c = settled("lab tests")
        check(c["stack.rx_drop.udp_no_socket"] - base["stack.rx_drop.udp_no_socket"] <= 1,
              "the one-ping test's second reply: dropped as no_socket or read before close")

        # 5. 20 clients SIGKILLed in the middle of a stream
        kids = [spawn([pn_client, "stream", ctl, PEER_IP, str(ECHO_PORT)]) for _ in range(20)]
        started = sum(k.stdout.readline().strip() == "streaming" for k in kids)
        check(started == 20, "20 clients streaming (%d)" % started)
        mid = pn.report()
        check(mid["control.sockets"] == 20, "20 sockets open mid-stream (%d)" % mid["control.sockets"])
        for k in kids:
            k.send_signal(signal.SIGKILL)
            k.wait()
        settled("20 clients killed")
        r = sh(nettests, "--ctl", ctl, "--skip-dns", PEER_IP, str(LAB_PORT), check=False, timeout=120)
        check(r.returncode == 0, "pollnet keeps serving after the kills")

        # 6. a client writing garbage over its own region
        bad = spawn([pn_client, "scribble", ctl, PEER_IP, str(ECHO_PORT), "4"])
        check(bad.stdout.readline().startswith("scribbling"), "a client scribbles over its region")
        r = sh(nettests, "--ctl", ctl, "--skip-dns", PEER_IP, str(LAB_PORT), check=False, timeout=120)
        check(r.returncode == 0, "other sockets keep working meanwhile")
        bad.wait(timeout=30)
        c = settled("scribbler")

        # local delivery: pollnet-echo and the built-in echo service, reached
        # at pollnet's own address without touching the NIC
        echo = spawn([echo_tool, "--ctl", ctl, "7000"])
        check(echo.stdout.readline().startswith("pollnet-echo: echoing"), "pollnet-echo up")
        before = pn.report()
        r = sh(nettests, "--ctl", ctl, "--skip-dns", DUT_IP, "7000", check=False, timeout=120)
        check(r.returncode == 0, "lab tests against pollnet-echo, locally")
        r = sh(nettests, "--ctl", ctl, "--skip-dns", DUT_IP, "7", check=False, timeout=120)
        check(r.returncode == 0, "lab tests against the built-in echo service, locally")
        for args, port in ((["--zero-copy"], "7001"), (["--zero-copy", "--batch", "1"], "7002")):
            zc = spawn([echo_tool, "--ctl", ctl] + args + [port])
            check(zc.stdout.readline().startswith("pollnet-echo: echoing"),
                  "pollnet-echo %s up" % " ".join(args))
            r = sh(nettests, "--ctl", ctl, "--skip-dns", DUT_IP, port, check=False, timeout=120)
            check(r.returncode == 0, "lab tests against pollnet-echo %s, locally" % " ".join(args))
            zc.send_signal(signal.SIGTERM)
            zc.communicate(timeout=10)
        # connected to 127.0.0.1: the answer comes from the address used,
        # as on the kernel's loopback (it used to come from our address
        # and be dropped as local_no_socket)
        for port, what in (("7", "the built-in echo service"), ("7000", "pollnet-echo")):
            r = sh(nettests, "--ctl", ctl, "--skip-dns", "127.0.0.1", port, check=False, timeout=120)
            check(r.returncode == 0, "lab tests against %s at 127.0.0.1:%s: %s" %
                  (what, port, r.stdout.strip().splitlines()[-1]))
        # what the peer's kernel does now and then (its neighbour entry
        # refreshed), made certain: pollnet answers, and that is not local
        # traffic
        r = sh("arping", "-c", "2", "-w", "3", "-I", net.peer_if, DUT_IP, ns=net.peer, check=False)
        check(r.returncode == 0, "the peer refreshes its ARP entry meanwhile")
        c = pn.report()
        # Whatever else the lcores handed the port in that window is ARP
        # (our requests, our answers to the peer's refreshes) or ICMP
        # answers: none of it a datagram.  (Counted by the lcore at loop
        # boundaries, so exact whatever else the peer sends meanwhile.)
        d = {k: c[k] - before[k] for k in ("port.tx_packets", "stack.tx_frames",
                                          "stack.arp_requests_out", "stack.rx_answered")}
        check(d["stack.tx_frames"] == d["stack.arp_requests_out"] + d["stack.rx_answered"],
              "local traffic never reached the port: %d frames left (port: %d), all ARP/ICMP "
              "(%d requests, %d answers)" % (d["stack.tx_frames"], d["port.tx_packets"],
                                             d["stack.arp_requests_out"], d["stack.rx_answered"]))
        check(c["stack.local_delivered"] >= 4 * 2 * (1 + 100 + 10),
              "local datagrams delivered: %d" % c["stack.local_delivered"])
        # datagrams longer than a frame (the peer's kernel fragments them,
        # net_af_packet's reassembles): pollnet-echo and the echo service
        # send each back whole, in fragments.
        c0 = pn.report()
        code = ("import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
                "s.settimeout(1)\nfor port in (7000, 7):\n"
                "    for n in (1472, 1473, 1600, 1900):\n"
                "        s.sendto(b'o' * n, ('%s', port))\n"
                "        try:\n            print(port, n, len(s.recvfrom(4096)[0]))\n"
                "        except socket.timeout:\n            print(port, n, 'none')\n" % DUT_IP)
        r = sh("/usr/bin/python3", "-c", code, ns=net.peer, check=False)
        answers = r.stdout.split()
        check(answers == ["7000", "1472", "1472", "7000", "1473", "1473", "7000", "1600", "1600",
                          "7000", "1900", "1900", "7", "1472", "1472", "7", "1473", "1473",
                          "7", "1600", "1600", "7", "1900", "1900"],
              "every datagram echoed whole: %s" % " ".join(answers))
        c = pn.report()
        check(c["stack.udp_oversize"] - c0["stack.udp_oversize"] == 6,
              "datagrams over 1472 bytes counted as oversize (%d)" %
              (c["stack.udp_oversize"] - c0["stack.udp_oversize"]))
        check(c["stack.fragmented"] - c0["stack.fragmented"] == 6 and
              c["stack.frags_out"] - c0["stack.frags_out"] == 12 and
              c["stack.tx_drop.too_big"] == c0["stack.tx_drop.too_big"],
              "the 6 over 1472 bytes went back in 2 fragments each (%d datagrams, %d "
              "fragments)" % (c["stack.fragmented"] - c0["stack.fragmented"],
                              c["stack.frags_out"] - c0["stack.frags_out"]))
        r = sh(pn_client, "small", ctl, PEER_IP, str(ECHO_PORT), check=False)
        check(r.stdout.strip() == "got 100 trunc=1",
              "a 500-byte answer read into 100 bytes says so (%s)" % r.stdout.strip())
        c0 = pn.report()
        r = sh(pn_client, "borrow", ctl, PEER_IP, str(ECHO_PORT), check=False, timeout=60)
        c = pn.report()
        check(r.returncode == 0 and r.stdout.startswith("borrow ok"),
              "pollnet_recv_borrow/pollnet_recv_release: views in order, intact while lent, "
              "releases checked: %s" % r.stdout.strip()[-300:])
        check(c["stack.rx_drop.udp_ring_full"] - c0["stack.rx_drop.udp_ring_full"] == 4,
              "16 lent datagrams hold a 16-entry ring: the 4 that came next were dropped "
              "(udp_ring_full %d)" % (c["stack.rx_drop.udp_ring_full"] -
                                      c0["stack.rx_drop.udp_ring_full"]))
        r = sh(pn_client, "pollfd", ctl, PEER_IP, str(ECHO_PORT), "200", check=False,
               timeout=60)
        check(r.returncode == 0 and r.stdout.startswith("pollfd ok"),
              "pollnet_fd() with a non-blocking socket, as pollnet.h says: every echo wakes "
              "the poll, and while nothing comes the poll sleeps: %s" % r.stdout.strip()[:300])
        r = sh(pn_client, "batch", ctl, PEER_IP, str(ECHO_PORT), "3000", check=False, timeout=60)
        check(r.returncode == 0 and r.stdout.startswith("batch ok"),
              "pollnet_sendmmsg/pollnet_recvmmsg, each echo once and in order, and their "
              "edges: %s" % r.stdout.strip()[-300:])
        echo.send_signal(signal.SIGTERM)
        out = echo.communicate(timeout=10)[0]
        check(" 0 truncated" in out,
              "pollnet-echo echoed all it took: " + out.strip().splitlines()[-1])
        settled("local delivery")

        # a client on the data-plane lcore's own CPU (-l 0-1: cpu 1), as on
        # any 2-core machine: it sleeps instead of spinning, and the lcore
        # gives it the CPU when its socket moves (lcore0.yields); on the
        # other CPU nothing yields.  The datagrams come from the peer's
        # kernel, one round trip at a time, the sender on cpu 0.
        for cpu, shared in ((1, True), (0, False)):
            e = spawn(["taskset", "-c", str(cpu), echo_tool, "--ctl", ctl, "7003"])
            check(e.stdout.readline().startswith("pollnet-echo: echoing"),
                  "pollnet-echo up on cpu %d" % cpu)
            y0 = pn.report()["lcore0.yields"]
            r = sh("taskset", "-c", "0", os.path.join(build, "bench", "shm_bench"), "rtt",
                   "kernel", DUT_IP, "7003", "500", "64", ns=net.peer, check=False, timeout=120)
            y = pn.report()["lcore0.yields"] - y0
            check(r.returncode == 0 and '"round_trips": 500,' in r.stdout,
                  "500 round trips to pollnet-echo on cpu %d: %s" % (cpu, r.stdout.strip()[-120:]))
            check(y >= 500 if shared else y == 0,
                  "pollnet-echo on cpu %d: the lcore (cpu 1) yielded %d times%s" %
                  (cpu, y, " (at least once per datagram)" if shared else " (never)"))
            e.send_signal(signal.SIGTERM)
            e.communicate(timeout=10)
            time.sleep(0.1)         # (its last yields: 1 ms of idle loops)

        # who may connect: root and `nobody` (allow_users), not `daemon`;
        # and only root binds below 1024
        (any_nettests, any_echo), env = for_other_users(build, nettests, echo_tool)
        r = sh("setpriv", "--reuid=daemon", "--regid=daemon", "--clear-groups",
               any_nettests, "--ctl", ctl, "--skip-dns", PEER_IP, str(LAB_PORT), check=False,
               env=env)
        check(r.returncode != 0 and "Permission denied" in r.stdout,
              "user daemon is refused: " + " ".join(r.stdout.split())[:90])
        r = sh("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
               any_nettests, "--ctl", ctl, "--skip-dns", PEER_IP, str(LAB_PORT), check=False,
               env=env)
        check(r.returncode == 0, "user nobody (allowed) passes the lab tests")
        r = sh("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
               any_echo, "--ctl", ctl, "--datagrams", "1", "80", check=False, env=env)
        check(r.returncode != 0 and "Permission denied" in r.stdout,
              "nobody cannot bind port 80")
        c = settled("credentials")
        check(c["control.refused"] >= 1, "refusals counted (%d)" % c["control.refused"])

        counters, out = pn.stop()
        check(counters["pool.in_use"] == 0, "at exit every mbuf is back")
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    finish(pn.log_path)


if __name__ == "__main__":
    main()
