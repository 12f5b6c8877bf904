#!/usr/bin/python3
"""pollnet beside the kernel: the exception path.

pollnet on a veth (net_af_packet) with port.exception = pn0: the kernel of
pollnet's namespace gets pn0, a tap with pollnet's address and MAC, and
everything pollnet does not consume.  From the peer's kernel: TCP to a
kernel server on pollnet's address (socat), pings (pollnet answers them,
once), UDP to a kernel socket, to pollnet's echo service, and to a port no
one holds (the kernel's port unreachable); one table of UDP ports (the
kernel cannot bind pollnet's, pollnet-run not the kernel's).  From the kernel behind pn0: a
ping out.  A program under pollnet-run with a UDP and a TCP socket on one
port, and nsd, unmodified, answering dig over both: UDP through pollnet,
TCP through the kernel.  Then the
books: every frame from the peer delivered, answered, dropped or given to
the kernel, counted by kind both ways, every mbuf back, the kernel's
settings on the veth as they were; and after a SIGKILL, pn0 gone.

usage: test_exception.py POLLNET_BINARY BUILD_DIR
"""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from netns import (check, finish, frames_accounted, kill_all, mbufs_back, Namespaces,  # noqa: E402
                   Pollnet, preload_setup, sh)

HERE = os.path.dirname(os.path.abspath(__file__))
DUT_IP = "198.18.0.2"
PEER_IP = "198.18.0.1"

UDP_ASK = r"""
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
s.connect((sys.argv[1], int(sys.argv[2])))
s.send(b"hello " + sys.argv[2].encode())
try:
    print("udp %s: %r" % (sys.argv[2], s.recv(100)))
except OSError as e:
    print("udp %s: %s" % (sys.argv[2], type(e).__name__))
"""

# a kernel UDP echo
UDP_ECHO = r"""
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
print("bound", flush=True)
while True:
    d, a = s.recvfrom(2048)
    s.sendto(b"kernel: " + d, a)
"""

# bind a UDP port on every address: "bound", or the error's name
BIND = r"""
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
try:
    s.bind(("0.0.0.0", int(sys.argv[1])))
    print("bound")
except OSError as e:
    print(type(e).__name__)
"""

# one port, UDP and TCP (as a DNS server has it), under pollnet-run
BOTH = r"""
import select, socket, sys
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(("0.0.0.0", 9300))
t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
t.bind((sys.argv[1], 9300))
t.listen(4)
print("bound", flush=True)
while True:
    r, _, _ = select.select([u, t], [], [], 30)
    if not r:
        break
    if u in r:
        d, a = u.recvfrom(2048)
        u.sendto(b"udp via pollnet: " + d, a)
    if t in r:
        c, _ = t.accept()
        c.sendall(b"tcp via the kernel: " + c.recv(100))
        c.close()
"""

NSD_CONF = """server:
  ip-address: %(ip)s
  port: 5300
  do-ip6: no
  username: ""
  chroot: ""
  zonesdir: "%(d)s"
  database: ""
  pidfile: "%(d)s/nsd.pid"
  xfrdfile: "%(d)s/xfrd.state"
  zonelistfile: "%(d)s/zone.list"
  xfrdir: "%(d)s"
  server-count: 1
  logfile: "%(d)s/nsd.log"
remote-control:
  control-enable: no
zone:
  name: pollnet.test
  zonefile: pollnet.test.zone
"""
ZONE = """$ORIGIN pollnet.test.
$TTL 300
@ IN SOA ns.pollnet.test. admin.pollnet.test. 1 3600 600 86400 300
@ IN NS ns
ns IN A %s
www IN A 198.18.1.1
"""

IFCONF = r"""
import array, fcntl, socket, struct
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
buf = array.array("B", b"\0" * 40 * 16)
n = struct.unpack("iL", fcntl.ioctl(s, 0x8912, struct.pack("iL", len(buf),
                                                           buf.buffer_info()[0])))[0]
print(" ".join(buf.tobytes()[i:i + 16].rstrip(b"\0").decode() for i in range(0, n, 40)))
s.setsockopt(socket.SOL_SOCKET, 25, b"pn0")
print(s.getsockopt(socket.SOL_SOCKET, 25, 16))
"""

TCP_ASK = r"""
import socket, sys
s = socket.create_connection((sys.argv[1], 9300), timeout=5)
s.sendall(b"hi")
print("tcp 9300: %r" % s.recv(100))
"""


def nsd_both(net, run, env, tmp, build, stats, procs):
    """nsd, unmodified, under pollnet-run on pollnet's address: its UDP
    through pollnet, its TCP through the kernel, each answering the peer's
    dig."""
    nd = os.path.join(tmp, "nsd")
    os.makedirs(nd)
    with open(os.path.join(nd, "nsd.conf"), "w") as f:
        f.write(NSD_CONF % {"ip": DUT_IP, "d": nd})
    with open(os.path.join(nd, "pollnet.test.zone"), "w") as f:
        f.write(ZONE % DUT_IP)
    nsd = subprocess.Popen(["ip", "netns", "exec", net.dut, "sh", run, "nsd", "-d", "-c",
                            os.path.join(nd, "nsd.conf")], env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                           start_new_session=True)
    procs.append(nsd)
    log = os.path.join(nd, "nsd.log")
    deadline = time.time() + 15
    while time.time() < deadline and not (os.path.exists(log) and
                                          "nsd started" in open(log).read()):
        time.sleep(0.2)
    for how in ("+notcp", "+tcp"):
        r = sh("dig", "@" + DUT_IP, "-p", "5300", "www.pollnet.test", "+short", how,
               "+time=3", "+tries=1", ns=net.peer, check=False)
        check(r.stdout.strip() == "198.18.1.1",
              "nsd under pollnet-run answers dig %s: %s" % (how, r.stdout.strip()))
    r = sockets(build, stats, ":5300")
    check(":5300" in r.stdout and "udp-run" in r.stdout,
          "pollnetctl sockets: nsd's UDP socket is pollnet's")
    os.killpg(nsd.pid, 15)
    nsd.wait(timeout=10)


def tcp_echo_server(net):
    """The kernel's TCP echo on port 9100 in pollnet's namespace (socat),
    listening."""
    srv = subprocess.Popen(["ip", "netns", "exec", net.dut, "socat",
                            "TCP-LISTEN:9100,reuseaddr,fork", "EXEC:cat"])
    deadline = time.time() + 10
    while ":9100 " not in sh("ss", "-tln", ns=net.dut).stdout and time.time() < deadline:
        time.sleep(0.1)
    return srv


def udp_beside(net, run, env, dut_ip=DUT_IP):
    """From the peer, UDP to pollnet's echo service (7), to the kernel's
    echo (9200, running), to no one's port; one table of UDP ports (the
    kernel cannot bind 7, pollnet-run not 9200); a program under pollnet-run
    with a UDP and a TCP socket on port 9300, reached over both; on the
    host itself, a kernel program to pollnet's echo and a pollnet-run one
    to the kernel's.  Returns the program on 9300, still running."""
    for port, want in (("7", "b'hello 7'"), ("9200", "b'kernel: hello 9200'"),
                       ("9999", "ConnectionRefusedError")):
        r = sh("python3", "-c", UDP_ASK, dut_ip, port, ns=net.peer, check=False)
        check(r.stdout.strip() == "udp %s: %s" % (port, want),
              "UDP to port %s: %s" % (port, r.stdout.strip()))
    r = sh("python3", "-c", BIND, "7", ns=net.dut, check=False)
    check(r.stdout.strip() == "OSError", "the kernel cannot bind pollnet's port 7: %s" %
          r.stdout.strip())
    r = sh("sh", run, "python3", "-c", BIND, "9200", ns=net.dut, env=env, check=False)
    check(r.stdout.strip() == "OSError",
          "pollnet-run cannot bind the kernel's port 9200: %s" % r.stdout.strip())
    both = subprocess.Popen(["ip", "netns", "exec", net.dut, "sh", run, "python3", "-c",
                             BOTH, dut_ip], env=env, stdout=subprocess.PIPE, text=True)
    check(both.stdout.readline().strip() == "bound",
          "under pollnet-run, a UDP and a TCP socket bound to port 9300")
    r = sh("python3", "-c", UDP_ASK, dut_ip, "9300", ns=net.peer, check=False)
    check("udp via pollnet: hello 9300" in r.stdout, "its UDP: %s" % r.stdout.strip())
    r = sh("python3", "-c", TCP_ASK, dut_ip, ns=net.peer, check=False)
    check("tcp via the kernel: hi" in r.stdout, "its TCP: %s" % r.stdout.strip())
    # neighbours on one address: a kernel program on this host to pollnet's
    # echo, a pollnet-run program to the kernel's echo
    r = sh("python3", "-c", UDP_ASK, dut_ip, "7", ns=net.dut, check=False)
    check(r.stdout.strip() == "udp 7: b'hello 7'",
          "a kernel program on pollnet's host to pollnet's echo: %s" % r.stdout.strip())
    r = sh("sh", run, "python3", "-c", UDP_ASK, dut_ip, "9200", ns=net.dut, env=env,
           check=False)
    check(r.stdout.strip() == "udp 9200: b'kernel: hello 9200'",
          "a pollnet-run program to the kernel's echo on its host: %s" % r.stdout.strip())
    return both


def sysctls(net):
    return [sh("cat", "/proc/sys/net/%s/conf/%s/%s" % (f, net.dut_if, k), ns=net.dut).stdout
            .strip() for f, k in (("ipv4", "arp_ignore"), ("ipv4", "rp_filter"),
                                  ("ipv6", "disable_ipv6"))]


def sockets(build, stats, port):
    """pollnetctl sockets once it shows port (the segment's socket table is
    up to 100 ms old: PN_STATS_CTL_MS), or after 2 s."""
    deadline = time.time() + 2
    while True:
        r = sh(os.path.join(build, "app", "pollnetctl"), "-S", stats, "sockets", check=False)
        if port in r.stdout or time.time() > deadline:
            return r
        time.sleep(0.05)


def reserved(net):
    return sh("cat", "/proc/sys/net/ipv4/ip_local_reserved_ports", ns=net.dut).stdout.strip()


def main():
    binary, build, run, tmp, ctl, stats, env = preload_setup("pn-exc-")
    net = Namespaces(peer_ip=PEER_IP + "/24")
    before = sysctls(net)
    procs = []
    try:
        tx0 = net.peer_counter("tx_packets")
        pn = Pollnet(binary, net.dut, "dpdk:net_af_packet0,iface=%s" % net.dut_if,
                     DUT_IP + "/24", extra=["--ctl", ctl, "--stats", stats,
                                            "--set", "port.exception=pn0"])
        check("the kernel's pn0 beside it (tap)" in pn.output(),
              "pollnet says so: %s" % [x for x in pn.output().splitlines()
                                         if x.startswith("pollnet: port")])
        addr = sh("ip", "-o", "-4", "addr", "show", "dev", "pn0", ns=net.dut, check=False)
        check(("inet %s/24" % DUT_IP) in addr.stdout,
              "the kernel's pn0 has pollnet's address: %s" % addr.stdout.strip())
        mac = [sh("cat", "/sys/class/net/%s/address" % i, ns=net.dut).stdout.strip()
               for i in ("pn0", net.dut_if)]
        check(mac[0] == mac[1], "and its MAC (%s, the veth's)" % mac[0])
        check(reserved(net) == "49152-65535",
              "the kernel picks no port pollnet gives: ip_local_reserved_ports = %s" %
              reserved(net))
        check(sysctls(net) == ["8", "1", "1"],
              "the kernel keeps off the veth: arp_ignore, rp_filter, disable_ipv6 = %s" %
              sysctls(net))

        # TCP to a kernel server on pollnet's address
        procs.append(tcp_echo_server(net))
        r = sh("python3", os.path.join(HERE, "tcp_echo_client.py"), DUT_IP, "9100", "1000000",
               ns=net.peer, check=False, timeout=60)
        check(r.returncode == 0 and "back intact" in r.stdout,
              "TCP from the peer to a kernel server on pollnet's address: %s" %
              r.stdout.strip())
        c = pn.report()
        check(0 < c["exception.port.tx_frames"] < c["exception.to_kernel.tcp"] and
              c["exception.port.tx_errors"] == 0,
              "the peer's segments of one flow went to the kernel merged, fewer writes than "
              "segments (%d TCP segments in %d frames, %d lost)" %
              (c["exception.to_kernel.tcp"], c["exception.port.tx_frames"],
               c["exception.port.tx_errors"]))

        # pings: the peer's, answered by pollnet alone; the kernel's out
        r = sh("ping", "-c", "3", "-i", "0.2", "-W", "2", DUT_IP, ns=net.peer, check=False)
        check(r.returncode == 0 and "DUP" not in r.stdout and " 3 received" in r.stdout,
              "the peer pings pollnet's address: answered once each (%s)" %
              r.stdout.strip().splitlines()[-2])
        r = sh("ping", "-c", "3", "-i", "0.2", "-W", "2", PEER_IP, ns=net.dut, check=False)
        check(r.returncode == 0 and "DUP" not in r.stdout and " 3 received" in r.stdout,
              "the kernel behind pn0 pings the peer (%s)" % r.stdout.strip().splitlines()[-2])

        # UDP: the kernel's socket, pollnet's echo service, no one's port
        kecho = subprocess.Popen(["ip", "netns", "exec", net.dut, "python3", "-c", UDP_ECHO,
                                  DUT_IP, "9200"], stdout=subprocess.PIPE, text=True)
        procs.append(kecho)
        kecho.stdout.readline()
        procs.append(udp_beside(net, run, env))
        r = sh("sh", run, "python3", "-c", IFCONF, ns=net.dut, env=env, check=False)
        lines = r.stdout.splitlines() + ["", ""]
        check(lines[0].split() == ["lo", "pn0"],
              "under pollnet-run, SIOCGIFCONF lists pn0 once, the kernel's: %s" % lines[0])
        check(lines[1] == repr(b"pn0\0"),
              "SO_BINDTODEVICE pn0 (a name as long as an int) read back: %s" % lines[1])
        r = sockets(build, stats, ":9300")
        check(":9300" in r.stdout and "udp-run" in r.stdout,
              "pollnetctl sockets: its UDP socket is pollnet's%s" %
              ("" if ":9300" in r.stdout and "udp-run" in r.stdout else ":\n" + r.stdout))
        check("UDP to a port no socket above holds: the kernel's, through pn0" in r.stdout,
              "pollnetctl sockets: the other ports the kernel's: %s" %
              r.stdout.strip().splitlines()[-1])
        kill_all(procs)

        nsd_both(net, run, env, tmp, build, stats, procs)

        r = sh(os.path.join(build, "app", "pollnetctl"), "-S", stats, "stats", check=False)
        check("exception.to_kernel.tcp" in r.stdout, "pollnetctl stats shows the exception path")
        c, _ = mbufs_back(pn)
        tx1 = net.peer_counter("tx_packets")
        frames_accounted("the exception path", c, tx1 - tx0)
        k = {x: c.get("exception.%s" % x, 0) for x in (
            "to_kernel.tcp", "from_kernel.tcp", "to_kernel.udp", "from_kernel.udp",
            "to_kernel.icmp", "from_kernel.icmp", "to_kernel.arp", "to_kernel_dropped",
            "from_kernel_dropped")}
        check(k["to_kernel.tcp"] > 100 and k["from_kernel.tcp"] > 100 and
              k["to_kernel.udp"] >= 2 and k["from_kernel.udp"] >= 1 and
              k["to_kernel.icmp"] >= 3 and k["from_kernel.icmp"] >= 4 and
              k["to_kernel.arp"] >= 1 and k["to_kernel_dropped"] == 0 and
              k["from_kernel_dropped"] == 0,
              "counted both ways, by kind: %s" % k)
        check(c.get("stack.icmp_echo_replies") == 3, "pollnet answered the peer's 3 pings")
        check(sysctls(net) == before, "the veth's settings back as they were: %s" %
              sysctls(net))
        check(reserved(net) == "", "no port reserved any more: '%s'" % reserved(net))
        check(sh("ip", "link", "show", "pn0", ns=net.dut, check=False).returncode != 0,
              "pn0 gone with pollnet")

        # a SIGKILL: the tap goes with its descriptor
        pn = Pollnet(binary, net.dut, "dpdk:net_af_packet0,iface=%s" % net.dut_if,
                     DUT_IP + "/24", extra=["--set", "port.exception=pn0"])
        pn.kill()
        time.sleep(0.5)
        check(sh("ip", "link", "show", "pn0", ns=net.dut, check=False).returncode != 0,
              "pn0 gone after pollnet is SIGKILLed")
    finally:
        kill_all(procs)
    finish()


if __name__ == "__main__":
    main()
