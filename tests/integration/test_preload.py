#!/usr/bin/python3
"""Unmodified programs on pollnet, through pollnet-run (LD_PRELOAD).

pollnet runs on a veth (net_af_packet) in one namespace; the Linux kernel
is the peer in the other.  Debian's own programs (socat, OpenBSD nc,
python3) run under pollnet-run in pollnet's namespace, whose kernel has no
address on that link: a datagram that went through the kernel instead of
pollnet would have nowhere to go.  Each exchange is checked end to end, and
pollnet's counters show that the datagrams went through it.

usage: test_preload.py POLLNET_BINARY BUILD_DIR
"""
import json
import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from netns import (answers_ping, check, finish, kill_all, mbufs_back, Namespaces, Pollnet,  # noqa: E402
                   preload_setup, sh)

HERE = os.path.dirname(os.path.abspath(__file__))
DUT_IP = "198.18.0.2"
PEER_IP = "198.18.0.1"
ECHO = 9100          # the kernel's echo server, in the peer namespace
LAB = 9101


def delivered(pn):
    r = pn.report()
    return r.get("stack.udp_delivered", 0), r.get("stack.tx_frames", 0)


def iperf_checks(net, pn, under, spawn, env, run):
    """iperf 2, UDP: a server and a client under pollnet-run, the kernel's
    iperf on the other end; the datagram counts of its reports against
    pollnet's."""
    rx0, tx0 = delivered(pn)
    # the client on pollnet, the kernel's server
    srv = spawn(["iperf", "-s", "-u", "-p", "5301", "-l", "1000"], net.peer)
    time.sleep(0.5)
    r = under("iperf", "-c", PEER_IP, "-u", "-p", "5301", "-l", "1000", "-b", "20M", "-t", "2",
              timeout=60)
    srv.kill()
    sent = re.search(r"Sent (\d+) datagrams", r.stdout)
    rep = re.search(r"Server Report:.*?(\d+)/\s*(\d+) \(", r.stdout, re.S)
    rx1, tx1 = delivered(pn)
    # iperf's count of datagrams sent has the closing one in, its server's
    # (any server's) total has not
    check(r.returncode == 0 and sent and rep and int(rep.group(1)) == 0 and
          int(rep.group(2)) == int(sent.group(1)) - 1,
          "iperf -c -u on pollnet: %s datagrams sent, the kernel's server got %s, lost %s" %
          (sent and sent.group(1), rep and rep.group(2), rep and rep.group(1)))
    # the final datagrams (a negative sequence number) repeat until the
    # server reports: pollnet sent those too, and delivered the report
    check(sent and tx1 - tx0 >= int(sent.group(1)) - 1 and rx1 - rx0 >= 1,
          "pollnet sent them all: %d datagrams (the test's and the end marks: %s), "
          "delivered %d (the server's report)" % (tx1 - tx0, sent and sent.group(1), rx1 - rx0))

    # the server on pollnet, the kernel's client
    srv = spawn(["sh", run, "iperf", "-s", "-u", "-p", "5302", "-l", "1000"], net.dut)
    time.sleep(1)
    rx0, tx0 = delivered(pn)
    r = sh("iperf", "-c", DUT_IP, "-u", "-p", "5302", "-l", "1000", "-b", "20M", "-t", "2",
           ns=net.peer, check=False)
    srv.kill()
    out = srv.communicate()[0]
    rx1, tx1 = delivered(pn)
    sent = re.search(r"Sent (\d+) datagrams", r.stdout)
    rep = re.search(r"Server Report:.*?(\d+)/\s*(\d+) \(", r.stdout, re.S)
    own = re.findall(r"(\d+)/\s*(\d+) \(", out)
    # (iperf binds a new listener beside the socket it connected)
    check("bind failed" not in out, "iperf -s -u on pollnet: its listener bound again "
          "beside the connected socket (SO_REUSEADDR)%s" %
          ("" if "bind failed" not in out else ": " + out[-300:]))
    check(r.returncode == 0 and sent and rep and int(rep.group(1)) == 0 and
          int(rep.group(2)) == int(sent.group(1)) - 1 and own and
          own[-1] == (rep.group(1), rep.group(2)),
          "iperf -s -u on pollnet: the kernel's client sent %s, the server got %s, lost %s "
          "(its own report: %s)" % (sent and sent.group(1), rep and rep.group(2),
                                    rep and rep.group(1), own[-1:] if own else out[-300:]))
    check(sent and rx1 - rx0 >= int(sent.group(1)) - 1 and tx1 - tx0 >= 1,
          "pollnet delivered them all: %d (the test's and the end marks: %s), sent %d "
          "(the report)" % (rx1 - rx0, sent and sent.group(1), tx1 - tx0))


def sockperf_checks(net, pn, under, spawn, run):
    """sockperf: ping-pong and throughput, each side under pollnet-run."""
    srv = spawn(["sockperf", "server", "-i", PEER_IP, "-p", "11111"], net.peer)
    time.sleep(0.5)
    r = under("sockperf", "ping-pong", "-i", PEER_IP, "-p", "11111", "-t", "2", "-m", "64",
              timeout=60)
    srv.kill()
    m = re.search(r"\[Valid Duration\].*SentMessages=(\d+); ReceivedMessages=(\d+)", r.stdout)
    p50 = re.search(r"percentile 50.000 =\s*([\d.]+)", r.stdout)
    check(r.returncode == 0 and m and int(m.group(1)) > 100 and
          int(m.group(1)) == int(m.group(2)) and p50,
          "sockperf ping-pong on pollnet, the kernel's server: %s sent, %s received, "
          "p50 %s usec" % (m and m.group(1), m and m.group(2), p50 and p50.group(1)))

    srv = spawn(["sh", run, "sockperf", "server", "-i", DUT_IP, "-p", "11112"], net.dut)
    time.sleep(1)
    r = sh("sockperf", "ping-pong", "-i", DUT_IP, "-p", "11112", "-t", "2", "-m", "64",
           ns=net.peer, check=False)
    m = re.search(r"\[Valid Duration\].*SentMessages=(\d+); ReceivedMessages=(\d+)", r.stdout)
    check(r.returncode == 0 and m and int(m.group(1)) > 100 and
          int(m.group(1)) == int(m.group(2)),
          "sockperf server on pollnet, the kernel's ping-pong: %s sent, %s received" %
          (m and m.group(1), m and m.group(2)))
    c0 = pn.report()
    r = sh("sockperf", "throughput", "-i", DUT_IP, "-p", "11112", "-t", "2", "-m", "64",
           "--mps", "20000", ns=net.peer, check=False)
    time.sleep(0.5)
    c1 = pn.report()
    srv.kill()

    def moved(name):
        return c1.get(name, 0) - c0.get(name, 0)

    rx, full, missed = (moved("stack.udp_delivered"), moved("stack.rx_drop.udp_ring_full"),
                        moved("port.rx_missed"))
    m = re.search(r"Total of (\d+) messages sent", r.stdout)
    # every datagram delivered or counted: the server's ring full, or the
    # port's ring (the kernel's, on af_packet) when pollnet's lcore was not
    # scheduled in time on a busy 2-core machine
    check(r.returncode == 0 and m and rx + full + missed >= int(m.group(1)) and
          rx >= 0.95 * int(m.group(1)),
          "sockperf throughput to a server on pollnet: %s sent at 20000/s, pollnet "
          "delivered %d, its ring full for %d, the port's ring for %d" %
          (m and m.group(1), rx, full, missed))


def dns_checks(net, pn, under, spawn, tmp):
    """Name lookups: glibc's (getent, python's getaddrinfo) and dig's own,
    against dnsmasq in the peer namespace; pollnet's namespace has the
    resolv.conf (ip netns exec puts /etc/netns/NS/ over /etc)."""
    etc = "/etc/netns/%s" % net.dut
    os.makedirs(etc, exist_ok=True)
    dns = None
    try:
        with open(os.path.join(etc, "resolv.conf"), "w") as f:
            f.write("nameserver %s\nsearch pollnet.test\noptions timeout:2 attempts:2\n" %
                    PEER_IP)
        # (not spawn(): the kernel's own programs run without a sanitizer
        # runtime preloaded)
        dns = subprocess.Popen(["ip", "netns", "exec", net.peer, "dnsmasq", "--no-daemon", "--no-resolv", "--no-hosts",
                     "--bind-interfaces", "--listen-address=" + PEER_IP, "--port=53",
                     "--local=/pollnet.test/", "--user=root",
                     "--host-record=web.pollnet.test,198.18.0.77,2001:db8::77",
                     "--cname=alias.pollnet.test,web.pollnet.test",
                     "--log-queries", "--log-facility=-"], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
        time.sleep(1)
        rx0, tx0 = delivered(pn)
        r = under("getent", "hosts", "web.pollnet.test")
        check(r.returncode == 0 and r.stdout.split()[:2] == ["2001:db8::77", "web.pollnet.test"],
              "getent hosts web.pollnet.test (AAAA first, as getent asks): %r" % r.stdout)
        r = under("getent", "ahostsv4", "web")
        check(r.returncode == 0 and r.stdout.split()[:1] == ["198.18.0.77"] and
              "web.pollnet.test" in r.stdout,
              "getent ahostsv4 web (the search list): %r" % r.stdout.splitlines()[:1])
        # getent ahosts asks with AI_ADDRCONFIG: IPv4 is configured (pollnet's
        # address), IPv6 is not (this namespace's kernel has none)
        r = under("getent", "ahosts", "alias.pollnet.test")
        check(r.returncode == 0 and "198.18.0.77" in r.stdout and "2001:db8::77" not in r.stdout
              and "web.pollnet.test" in r.stdout,
              "getent ahosts through a CNAME (AI_ADDRCONFIG: IPv4 only), the canonical name: %r"
              % r.stdout.splitlines()[:1])
        r = under("getent", "hosts", "198.18.0.77")
        check(r.returncode == 0 and r.stdout.split() == ["198.18.0.77", "web.pollnet.test"],
              "getent hosts 198.18.0.77 (PTR): %r" % r.stdout)
        r = under("getent", "hosts", "nosuch.pollnet.test")
        check(r.returncode == 2 and r.stdout == "",
              "getent hosts nosuch.pollnet.test: not found, status 2 (%d)" % r.returncode)
        r = under("python3", "-c", "import socket; print(socket.getaddrinfo('web.pollnet.test', "
                  "53, socket.AF_INET, socket.SOCK_DGRAM)[0][4][0])")
        check(r.stdout.strip() == "198.18.0.77",
              "python3 socket.getaddrinfo: %r" % r.stdout.strip()[-200:])
        rx1, tx1 = delivered(pn)
        check(rx1 - rx0 >= 8 and tx1 - tx0 >= 8,
              "the questions and answers went through pollnet (%d out, %d in)" %
              (tx1 - tx0, rx1 - rx0))
        # dig has its own resolver, on libuv, which makes some of its calls
        # through syscall()
        r = under("dig", "+short", "+tries=1", "+time=2", "web.pollnet.test", "A")
        check(r.returncode == 0 and r.stdout.strip() == "198.18.0.77",
              "dig +short web.pollnet.test (libuv's sockets, dig's resolv.conf): %r" %
              r.stdout.strip()[-200:])
        # without pollnet-run, pollnet's namespace has no route anywhere
        r = sh("getent", "hosts", "web.pollnet.test", ns=net.dut, check=False)
        check(r.returncode != 0, "the same lookup without pollnet-run fails (%d): the "
              "kernel has no way there" % r.returncode)
        dns.kill()
        log = dns.communicate()[0]
        check(log.count("query[A] web.pollnet.test") >= 2,
              "dnsmasq's log has the questions (%d for web.pollnet.test's A)" %
              log.count("query[A] web.pollnet.test"))
    finally:
        if dns is not None and dns.poll() is None:
            dns.kill()
        shutil.rmtree(etc, ignore_errors=True)


def main():
    binary, build, run, tmp, ctl, stats, env = preload_setup("pn-preload-")
    ctlbin = os.path.join(build, "app", "pollnetctl")
    net = Namespaces(peer_ip=PEER_IP + "/24")
    procs = []

    def spawn(cmd, ns, **kw):
        p = subprocess.Popen(["ip", "netns", "exec", ns] + cmd, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, env=env, **kw)
        procs.append(p)
        return p

    def under(*cmd, timeout=30, inp=None):
        """cmd under pollnet-run in pollnet's namespace."""
        return subprocess.run(["ip", "netns", "exec", net.dut, "sh", run] + list(cmd),
                              input=inp, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, env=env, timeout=timeout)

    try:
        srv = spawn(["/usr/bin/python3", os.path.join(HERE, "servers.py"), str(LAB), str(ECHO)],
                    net.peer)
        check(srv.stdout.readline().strip() == "serving", "the kernel's echo server is up")
        pn = Pollnet(binary, net.dut, "dpdk:net_af_packet0,iface=%s" % net.dut_if,
                     DUT_IP + "/24", extra=["--ctl", ctl, "--stats", stats])
        answers_ping(net, DUT_IP)

        # the wrapper itself
        r = subprocess.run(["sh", run, "--help"], stdout=subprocess.PIPE, text=True)
        check(r.returncode == 0 and "Usage: pollnet-run" in r.stdout, "pollnet-run --help")
        r = subprocess.run(["sh", run, "--bogus"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
        check(r.returncode == 2 and "unknown option --bogus" in r.stderr,
              "pollnet-run --bogus: usage, status 2")
        r = subprocess.run(["sh", run, "--ctl", os.path.join(tmp, "nothing"), "python3", "-c",
                            "import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM)"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=30,
                           env=env)
        check(r.returncode != 0 and "cannot reach pollnet at" in r.stdout and
              "Network is down" in r.stdout,
              "no pollnet: socket() fails, and says why (%s)" %
              r.stdout.strip().splitlines()[-1:])

        before = pn.report()

        # socat as a client, to the kernel
        r = under("socat", "-T", "3", "-", "UDP4:%s:%d" % (PEER_IP, ECHO), inp="socat says hi\n")
        check(r.returncode == 0 and r.stdout == "socat says hi\n",
              "socat client -> kernel echo: %r" % r.stdout[:60])

        # OpenBSD nc as a client
        r = under("nc", "-u", "-w", "2", PEER_IP, str(ECHO), inp="nc says hi\n")
        check("nc says hi" in r.stdout, "nc -u client -> kernel echo: %r" % r.stdout[:60])

        # socat as a server (a child per datagram: fork), the kernel as client
        srv = spawn(["sh", run, "socat", "UDP4-RECVFROM:9200,fork", "SYSTEM:cat"], net.dut)
        time.sleep(1)
        got = []
        for i in range(3):
            r = sh("/usr/bin/python3", "-c",
                   "import socket,sys; s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);"
                   "s.settimeout(3); s.sendto(b'req%d', ('%s', 9200));"
                   "print(s.recvfrom(100)[0].decode())" % (i, DUT_IP),
                   ns=net.peer, check=False)
            got.append(r.stdout.strip())
        check(got == ["req0", "req1", "req2"],
              "socat UDP4-RECVFROM,fork server answers the kernel: %s" % got)
        srv.kill()

        # nc as a server: it learns its peer with MSG_PEEK, then connects
        srv = spawn(["sh", run, "nc", "-u", "-l", "-W", "1", "9201"], net.dut)
        time.sleep(1)
        sh("/usr/bin/python3", "-c",
           "import socket; s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);"
           "s.sendto(b'to nc\\n', ('%s', 9201))" % DUT_IP, ns=net.peer)
        try:
            out = srv.communicate(timeout=10)[0]
        except subprocess.TimeoutExpired:
            srv.kill()
            out = srv.communicate()[0]
        check(out == "to nc\n", "nc -u -l server received the kernel's datagram: %r" % out[:80])

        # local delivery: a socat server and a socat client, both on pollnet
        srv = spawn(["sh", run, "socat", "UDP4-RECVFROM:9202,fork", "SYSTEM:cat"], net.dut)
        time.sleep(1)
        for dst in ("127.0.0.1", DUT_IP):
            r = under("socat", "-T", "3", "-", "UDP4:%s:9202" % dst, inp="local %s\n" % dst)
            check(r.stdout == "local %s\n" % dst,
                  "socat to socat through local delivery (%s): %r" % (dst, r.stdout[:60]))
        srv.kill()

        # python3's socket module
        for case in ("blocking", "timeout", "selectors", "asyncio", "sigalrm", "fork",
                     "subprocess", "dup", "reuse", "threads", "unsupported"):
            r = under("python3", os.path.join(HERE, "preload_py.py"), case, PEER_IP, str(ECHO),
                      timeout=60)
            for line in r.stdout.splitlines():
                if line.startswith("ok "):
                    check(True, "python3: " + line[3:])
            check(r.returncode == 0, "python3 %s: exit status 0%s" %
                  (case, "" if r.returncode == 0 else "\n" + r.stdout[-1500:]))

        # SO_RCVBUF sizes the rings; pollnetctl sockets shows the socket
        # as a pollnet-run one, with what it was refused
        py = spawn(["sh", run, "python3", os.path.join(HERE, "preload_py.py"), "buffers",
                    PEER_IP, str(ECHO)], net.dut, stdin=subprocess.PIPE)
        line = py.stdout.readline()
        while line.startswith("ok "):
            check(True, "python3: " + line[3:].strip())
            line = py.stdout.readline()
        check(line.startswith("ready "), "python3 buffers: %r" % line)
        port = int(line.split()[1]) if line.startswith("ready ") else -1
        time.sleep(0.3)     # pollnet publishes the socket table every 100 ms
        js = json.loads(sh(ctlbin, "--stats", stats, "sockets", "--json").stdout)
        mine = [e for e in js if e["local_port"] == port]
        check(len(mine) == 1 and mine[0]["preload"] == 1 and mine[0]["rx_ring"] == 2048 and
              mine[0]["tx_ring"] == 64 and mine[0]["refused"] == 1 and
              mine[0]["last_refused"] == "IP_OPTIONS",
              "pollnetctl sockets --json: preload 1, rings 2048/64, refused 1 (IP_OPTIONS): %s" %
              {k: mine[0][k] for k in ("preload", "rx_ring", "tx_ring", "refused",
                                       "last_refused")} if mine else js)
        table = sh(ctlbin, "--stats", stats, "sockets").stdout
        row = [ln for ln in table.splitlines() if ":%d " % port in ln]
        check(len(row) == 1 and " udp-run " in row[0] and row[0].endswith("1 (IP_OPTIONS)"),
              "pollnetctl sockets: udp-run, REFUSED 1 (IP_OPTIONS): %r" % row)
        py.stdin.write("\n")
        py.stdin.flush()
        check(py.wait(timeout=10) == 0, "python3 buffers: exit status 0")

        iperf_checks(net, pn, under, spawn, env, run)
        sockperf_checks(net, pn, under, spawn, run)
        dns_checks(net, pn, under, spawn, tmp)

        for p in procs:
            if p.poll() is None:
                p.kill()
        # every program gone: every socket gone with it (forked children
        # included: a socket goes when its last descriptor closes)
        deadline = time.time() + 5
        while True:
            after = pn.report()
            if after.get("control.sockets", -1) == 0 or time.time() > deadline:
                break
            time.sleep(0.2)
        check(after.get("control.sockets", -1) == 0 and after.get("control.clients", -1) == 0,
              "the programs gone, pollnet holds no socket and no session of theirs "
              "(%s sockets, %s sessions)" % (after.get("control.sockets"),
                                             after.get("control.clients")))
        moved = after.get("stack.udp_delivered", 0) - before.get("stack.udp_delivered", 0)
        check(moved > 0, "pollnet delivered the programs' datagrams (%d)" % moved)
        _, out = mbufs_back(pn)
        print(out[out.rfind("\nport "):][:2000])
    finally:
        kill_all(procs)
    finish()


if __name__ == "__main__":
    main()
