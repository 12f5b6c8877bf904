#!/usr/bin/python3
"""bench/run.sh servers (its DNS part): Debian's unbound, unmodified, serving
a local zone under pollnet-run, against the same unbound on the kernel's
UDP stack, measured with the same generators in one run, on this host.

Topology as bench/servers.py's: two network namespaces joined by a veth;
pollnet on its end through DPDK's net_af_packet (a ring of 4096 frames;
control thread on cpu 0, lcore on cpu 1), or, for the kernel, the same veth
given pollnet's address.  unbound (one thread, UDP only, 64 names in a
static local zone) is pinned to cpu 0 in both runs; the generators run in
the peer namespace where the scheduler puts them.

- latency: one query in flight, RTT_N of them after 500 to warm up, from a
  Python client on a kernel UDP socket (the same client for both: its own
  cost, some microseconds, is in both figures), p50 and p99;
- rate: dnsperf (one socket, at most 200 queries outstanding) at each
  offered rate for RATE_SECONDS: queries completed per second and queries
  lost (unanswered within 1 s), up to the rate the server no longer keeps
  up with (completed below 90 % of offered, twice);
- unpaced: dnsperf as fast as its 200 outstanding queries let it;
- "qps at 0 loss": the most queries completed per second, paced or not,
  in a run that lost none;
- the CPU seconds unbound used in each phase, and pollnet's.

usage: servers_dns.py BUILD_DIR OUT_JSON
       servers_dns.py --guest BUILD_DIR OUT_JSON
"""
GUEST_DOC = """bench/run.sh servers-guest (its DNS part): the same unbound in the QEMU
guest (deploy/pollnet-guest --net tap, TCG, 2 vCPUs), pinned to vCPU 0:
first under pollnet-run on pollnet's own e1000 driver (its lcore on vCPU
1), then, in a second boot without pollnet, on Linux's e1000 driver and UDP
stack.  The generators run on the host in the tap's namespace (the peer,
10.0.2.2): one query in flight from a Python client (p50, p99), dnsperf at
rising rates and unpaced (one socket, at most 200 outstanding, 3 s each).
Then large datagrams, 8,000 and 60,000 bytes (in IP fragments both ways),
one in flight (LARGE_N each): to pollnet's echo service (port 7), and to
the recvmmsg/sendmmsg echo on the kernel (shm_bench, port 9000).
unbound under pollnet-run spins up to GUEST_SPIN_US before a wait sleeps
(POLLNET_SPIN_US; the default, 20 us, is the host's pace: under TCG a
20 us spin never sees the next query come, and each one pays a wake-up).

usage: servers_dns.py --guest BUILD_DIR OUT_JSON
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
from netns import Namespaces, Pollnet, sh  # noqa: E402
from benchproc import header, proc_cpu, spawn, stop, stop_all, write_result  # noqa: E402

guest = len(sys.argv) > 1 and sys.argv[1] == "--guest"
if guest:
    del sys.argv[1]
DUT_IP, PEER_IP = ("10.0.2.15", "10.0.2.2") if guest else ("198.18.0.2", "198.18.0.1")
GUEST_NS = "pollnet-guest"
PORT = 5353
NAMES = 64
RTT_N, RATE_SECONDS = 5000, 3
# pollnet-run's spin before a wait sleeps (POLLNET_SPIN_US), in the guest:
# the host's default, 20 us, scaled to TCG's pace (code there runs some 15
# times slower: unbound takes ~15 us of CPU per query here, ~230 there)
GUEST_SPIN_US = 300
RATES = ([2000, 5000, 10000, 20000, 40000] if guest else
         [25000, 50000, 100000, 150000, 200000, 250000, 300000])
AFP_FRAMES = 4096

# the client that measures round trips, run in the peer namespace
RTT_CLIENT = r"""
import json, socket, struct, sys, time
dst, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1)
def q(i):
    name = b"".join(bytes([len(x)]) + x for x in
                    (b"host%d" % (i % 64), b"pollnet", b"test")) + b"\0"
    return struct.pack("!HHHHHH", i & 0xffff, 0x0100, 1, 0, 0, 0) + name + b"\0\1\0\1"
rtt, lost = [], 0
for i in range(500 + n):
    m = q(i)
    t0 = time.perf_counter_ns()
    s.sendto(m, (dst, port))
    try:
        while True:
            a = s.recv(512)
            if a[:2] == m[:2]:
                break
    except socket.timeout:
        lost += 1
        continue
    if i >= 500:
        rtt.append((time.perf_counter_ns() - t0) / 1000)
rtt.sort()
print(json.dumps({"n": len(rtt), "lost": lost, "p50_us": round(rtt[len(rtt) // 2], 1),
                  "p99_us": round(rtt[len(rtt) * 99 // 100], 1),
                  "mean_us": round(sum(rtt) / len(rtt), 1)}))
"""


def unbound_text(directory):
    t = ("server:\n  interface: 0.0.0.0\n  port: %d\n  do-ip6: no\n  do-tcp: no\n"
         "  chroot: \"\"\n  username: \"\"\n  directory: \"%s\"\n  pidfile: \"\"\n"
         "  use-syslog: no\n  logfile: \"\"\n  verbosity: 0\n  num-threads: 1\n"
         "  so-rcvbuf: 8m\n  access-control: 0.0.0.0/0 allow\n"
         "  local-zone: \"pollnet.test.\" static\n" % (PORT, directory))
    for i in range(NAMES):
        t += "  local-data: \"host%d.pollnet.test A 198.18.1.%d\"\n" % (i, i % 250 + 1)
    return t + "remote-control:\n  control-enable: no\n"


def unbound_conf(tmp):
    conf = os.path.join(tmp, "unbound.conf")
    with open(conf, "w") as f:
        f.write(unbound_text(tmp))
    qf = os.path.join(tmp, "queries")
    with open(qf, "w") as f:
        for i in range(NAMES):
            f.write("host%d.pollnet.test A\n" % i)
    return conf, qf


def dnsperf(ns, qf, rate):
    args = ["dnsperf", "-s", DUT_IP, "-p", str(PORT), "-d", qf, "-l", str(RATE_SECONDS),
            "-c", "1", "-q", "200", "-t", "1"]
    if rate:
        args += ["-Q", str(rate)]
    r = sh(*args, ns=ns, check=False, timeout=60)

    def num(pat):
        m = re.search(pat, r.stdout)
        return float(m.group(1)) if m else None
    return {"offered": rate, "sent": num(r"Queries sent:\s+(\d+)"),
            "completed": num(r"Queries completed:\s+(\d+)"),
            "lost": num(r"Queries lost:\s+(\d+)"),
            "qps": num(r"Queries per second:\s+([\d.]+)")}


def measure(ns, qf, ub_pid, pn_pid, ub_cpu=None):
    """The phases from namespace ns; CPU seconds of the processes given
    (None: not on this host: the guest's).  ub_cpu() (or unbound's pid's)
    gives unbound's CPU seconds: its own time per query in the latency
    phase, one in flight, is the least a round trip can take."""
    res = {}
    ub_cpu = ub_cpu or (lambda: proc_cpu(ub_pid))
    cpu0 = (proc_cpu(ub_pid) if ub_pid else 0), (proc_cpu(pn_pid) if pn_pid else 0)
    u0 = ub_cpu()
    r = sh("/usr/bin/python3", "-c", RTT_CLIENT, DUT_IP, str(PORT), str(RTT_N), ns=ns,
           check=False, timeout=300)
    u1 = ub_cpu()
    res["latency"] = json.loads(r.stdout) if r.returncode == 0 else None
    if res["latency"] and u0 is not None and u1 is not None:
        res["latency"]["unbound_cpu_us"] = round((u1 - u0) * 1e6 / (500 + RTT_N), 1)
    res["rates"] = []
    bad = 0
    for rate in RATES:
        x = dnsperf(ns, qf, rate)
        res["rates"].append(x)
        print("  offered %6d: %s" % (rate, x), file=sys.stderr)
        bad = bad + 1 if x["lost"] != 0 or (x["qps"] or 0) < 0.9 * rate else 0
        if bad == 2:
            break
    res["unpaced"] = dnsperf(ns, qf, 0)
    ok = [x for x in res["rates"] + [res["unpaced"]] if x["lost"] == 0 and x["completed"]]
    res["qps_zero_loss"] = max((x["qps"] for x in ok), default=None)
    cpu1 = (proc_cpu(ub_pid) if ub_pid else 0), (proc_cpu(pn_pid) if pn_pid else 0)
    res["cpu_s"] = {"unbound": round(cpu1[0] - cpu0[0], 2) if ub_pid else None,
                    "pollnet": round(cpu1[1] - cpu0[1], 2) if pn_pid else None}
    return res


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__.split("usage:")[1].strip())
    build, out_json = sys.argv[1], sys.argv[2]
    result = header("servers-dns", __doc__)
    tmp = tempfile.mkdtemp(prefix="pn-bench-dns.")
    conf, qf = unbound_conf(tmp)
    ctl, stats = os.path.join(tmp, "pollnet.sock"), os.path.join(tmp, "pollnet.stats")
    run = os.path.join(build, "client", "pollnet-run")
    env = dict(os.environ, POLLNET_CTL=ctl)
    net = Namespaces(peer_ip=PEER_IP + "/24")
    try:
        # unbound under pollnet-run
        pn = Pollnet(os.path.join(build, "app", "pollnet"), net.dut,
                     "dpdk:net_af_packet0,iface=%s,framecnt=%d" % (net.dut_if, AFP_FRAMES),
                     DUT_IP + "/24", extra=["--ctl", ctl, "--stats", stats])
        ub = subprocess.Popen(["ip", "netns", "exec", net.dut, "taskset", "-c", "0", "sh", run,
                               "unbound", "-d", "-c", conf], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              start_new_session=True)
        time.sleep(2)
        ub_pid = int(sh("pgrep", "-n", "-x", "unbound").stdout.split()[0])
        print("unbound under pollnet-run", file=sys.stderr)
        result["pollnet-run"] = measure(net.peer, qf, ub_pid, pn.proc.pid)
        stop(ub)
        counters, _ = pn.stop()
        result["pollnet-run"]["pollnet_counters"] = {
            k: counters.get(k) for k in ("port.rx_missed", "stack.rx_drop.udp_ring_full",
                                         "stack.tx_drop.port_tx_full", "pool.in_use")}
        # the same unbound on the kernel
        sh("ip", "addr", "add", DUT_IP + "/24", "dev", net.dut_if, ns=net.dut)
        ub = spawn(net.dut, ["unbound", "-d", "-c", conf], cpu=0)
        time.sleep(2)
        ub_pid = int(sh("pgrep", "-n", "-x", "unbound").stdout.split()[0])
        print("unbound on the kernel", file=sys.stderr)
        result["kernel"] = measure(net.peer, qf, ub_pid, None)
        stop(ub)
    finally:
        stop_all()
        net.close()
    ratios(result)
    write_result(result, out_json, result["ratios"])


LARGE_N = 300
# one large datagram in flight: round trips, lost ones (1 s each)
LARGE_CLIENT = r"""
import json, os, socket, sys, time
dst, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1)
out = {}
for size in (8000, 60000):
    d = os.urandom(size)
    rtt, lost, bad = [], 0, 0
    for i in range(n + 20):
        t0 = time.perf_counter_ns()
        s.sendto(d, (dst, port))
        try:
            a = s.recv(65536)
        except socket.timeout:
            lost += 1
            continue
        bad += a != d
        if i >= 20:
            rtt.append((time.perf_counter_ns() - t0) / 1000)
    rtt.sort()
    out[str(size)] = {"n": len(rtt), "lost": lost, "different": bad,
                      "p50_us": round(rtt[len(rtt) // 2], 1) if rtt else None,
                      "p99_us": round(rtt[len(rtt) * 99 // 100], 1) if rtt else None}
print(json.dumps(out))
"""

# The guest's side: unbound, then a line that says so, then wait for the
# host's word on port 9998 (under pollnet-run when pollnet has the NIC).
GUEST_SCRIPT = r"""
cat > /tmp/unbound.conf <<'CONF'
%(conf)sCONF
taskset -c 0 %(wrap)s unbound -d -c /tmp/unbound.conf > /tmp/unbound.log 2>&1 &
%(echo)s
sleep 2
%(wrap)s python3 -c '
import os, socket
pid = int(os.popen("pidof unbound").read().split()[0])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 9998))
print("DNS-READY", flush=True)
while True:
    m, a = s.recvfrom(16)
    if m != b"cpu":
        break
    f = open("/proc/%%d/stat" %% pid).read().rsplit(")", 1)[1].split()
    s.sendto(str((int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")).encode(), a)
'
"""

# unbound's CPU seconds in the guest, asked of the script above (on port 9998)
GUEST_CPU = r"""
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
s.sendto(b"cpu", (sys.argv[1], 9998))
print(s.recv(64).decode())
"""


def guest_unbound_cpu():
    r = sh("/usr/bin/python3", "-c", GUEST_CPU, DUT_IP, ns=GUEST_NS, check=False)
    try:
        return float(r.stdout)
    except ValueError:
        return None


def main_guest(build, out_json):
    result = header("servers-dns-guest", GUEST_DOC)
    result["pollnet_spin_us"] = GUEST_SPIN_US
    tmp = tempfile.mkdtemp(prefix="pn-bench-dns-guest.")
    qf = unbound_conf(tmp)[1]
    try:
        for key, driver in (("pollnet-run", "e1000"), ("kernel", "kernel")):
            console = os.path.join(tmp, "console.%s" % key)
            script = GUEST_SCRIPT % {
                "conf": unbound_text("/tmp"),
                "wrap": "env POLLNET_SPIN_US=%d pollnet-run" % GUEST_SPIN_US
                        if driver == "e1000" else "",
                "echo": "" if driver == "e1000" else
                "taskset -c 0 shm_bench echo kernel-mmsg 9000 > /tmp/echo.log 2>&1 &"}
            log = open(console, "w")
            g = subprocess.Popen([os.path.join(HERE, "..", "deploy", "pollnet-guest"), "--net",
                                  "tap", "--driver", driver, "--pcap", "none", "--timeout",
                                  "900", "run", "--", script], stdout=log,
                                 stderr=subprocess.STDOUT, start_new_session=True,
                                 env=dict(os.environ, POLLNET_BUILD=os.path.abspath(build)))
            deadline = time.time() + 300
            while "DNS-READY" not in open(console, errors="replace").read():
                if g.poll() is not None or time.time() > deadline:
                    raise SystemExit("unbound did not start in the guest:\n" +
                                     open(console, errors="replace").read()[-3000:])
                time.sleep(0.5)
            sh("ping", "-c", "2", "-W", "2", DUT_IP, ns=GUEST_NS, check=False)
            print("unbound in the guest, %s" % key, file=sys.stderr)
            result[key] = measure(GUEST_NS, qf, None, None, guest_unbound_cpu)
            r = sh("/usr/bin/python3", "-c", LARGE_CLIENT, DUT_IP,
                   "7" if driver == "e1000" else "9000", str(LARGE_N), ns=GUEST_NS,
                   check=False, timeout=600)
            result[key]["large"] = json.loads(r.stdout) if r.returncode == 0 else r.stdout
            print("  large: %s" % result[key]["large"], file=sys.stderr)
            sh("/usr/bin/python3", "-c", "import socket; socket.socket(2, 2).sendto(b'done', "
               "('%s', 9998))" % DUT_IP, ns=GUEST_NS, check=False)
            try:
                g.wait(timeout=60)
            except subprocess.TimeoutExpired:
                stop(g)
    finally:
        stop_all()
    ratios(result)
    write_result(result, out_json, result["ratios"])


def ratios(result):
    P, K = result["pollnet-run"], result["kernel"]
    if isinstance(P.get("large"), dict) and isinstance(K.get("large"), dict):
        result["ratios_large"] = {
            size: {q: round(P["large"][size][q] / K["large"][size][q], 2)
                   if P["large"][size][q] and K["large"][size][q] else None
                   for q in ("p50_us", "p99_us")} for size in ("8000", "60000")}

    def ratio(a, b):
        return round(a / b, 2) if a and b else None
    result["ratios"] = {
        "qps_zero_loss": ratio(P["qps_zero_loss"], K["qps_zero_loss"]),
        "unpaced_qps": ratio(P["unpaced"]["qps"], K["unpaced"]["qps"]),
        "p50": ratio(P["latency"]["p50_us"], K["latency"]["p50_us"]) if P["latency"] and
        K["latency"] else None,
        "p99": ratio(P["latency"]["p99_us"], K["latency"]["p99_us"]) if P["latency"] and
        K["latency"] else None}


if __name__ == "__main__":
    if guest:
        main_guest(sys.argv[1], sys.argv[2])
    else:
        main()
