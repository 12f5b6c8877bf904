#!/usr/bin/python3
"""bench/run.sh servers: one UDP echo server's job, done three ways, measured
with the same load generators in one run, on this host.

  echo        pollnet's built-in echo service (port 7), run by its lcore
  libpollnet  pollnet-echo --batch 1: a libpollnet client process, one
              datagram per call (pollnet_recvfrom, pollnet_sendto; port 9000)
  libpollnet-batch
              pollnet-echo (--batch 32): up to 32 per call
              (pollnet_recvmmsg, pollnet_sendmmsg; port 9001)
  libpollnet-zc
              pollnet-echo --zero-copy: batches of 32 borrowed where pollnet
              put them (pollnet_recv_borrow) and sent back from there
              (port 9003): one copy each way fewer
  libpollnet-moderated
              the same as libpollnet-batch, with pollnet restarted with wake-up moderation
              (sockets.wake_batch = 32, sockets.wake_delay = 100 us; port 9002)
  kernel      the Linux kernel's UDP stack with a recvmmsg/sendmmsg echo
              server (bench/shm_bench echo kernel-mmsg, port 9000)

Topology: two network namespaces joined by a veth pair; pollnet on its end
through DPDK's net_af_packet with a ring of 4096 frames (framecnt; DPDK's
default, 512, overflows whenever the lcore is descheduled) (control thread
on cpu 0, lcore on cpu 1), or,
for the kernel, the same veth given pollnet's address.  Server processes
(pollnet-echo --ring 4096: a receive ring of 4096 datagrams, 8 MiB of
slots; the kernel's echo asks SO_RCVBUF 8 MiB and gets net.core.rmem_max)
are pinned to cpu 0; the generators, in
the peer namespace, run where the scheduler puts them.  64-byte datagrams,
then 1472-byte ones (the largest in a 1500-byte MTU: round trips and iperf).

- round trips: one datagram in flight, RTT_N of them after 1000 to warm
  up, from a kernel UDP socket (bench/shm_bench rtt kernel: sockperf's
  ping-pong needs sockperf's own server, which a plain echo is not);
- iperf -u (iperf 2) at each offered rate for 3 s: every frame the peer
  sent and every echo it got back (its interface's counters), the
  difference lost, and where each lost datagram is counted (pollnet's
  drop counters and the port's rx_missed; the kernel's UDP InErrors,
  RcvbufErrors and SndbufErrors and the veth's drops);
- trafgen (netsniff-ng): FRAMES frames as fast as one peer CPU sends them;
- the CPU seconds each side used in each phase: the server process's, and
  pollnet's (its lcore polls while traffic comes) from /proc;
- idle: the CPU an idle pollnet uses, and the round trip of pings 50 ms
  apart, which find its lcore idle, with dataplane.idle_sleep at its default
  (the lcore naps) and 0 (it polls without pause); then on DPDK's net_tap
  (a tap in one namespace, whose kernel pings), which has Rx interrupts,
  with dataplane.idle = nap, interrupt and poll.

usage: servers.py BUILD_DIR OUT_JSON        (this host)
       servers.py --guest BUILD_DIR OUT_JSON
"""
GUEST_DOC = """bench/run.sh servers-guest: the same servers and generators with the
server in the QEMU guest (deploy/pollnet-guest --net tap, TCG, 2 vCPUs):
pollnet on its own e1000 driver with its echo service (port 7), pollnet-echo
--batch 32 --ring 4096 (port 9001) and, in a second boot with wake-up moderation
(32 / 100 us), pollnet-echo again (port 9002); in a third boot with
dataplane.idle = interrupt (the lcore sleeps on the e1000's interrupt after
1 ms without work), the echo service and pollnet-echo (port 9003); then a
fourth boot without pollnet: Linux's e1000 driver and UDP stack with the
recvmmsg/sendmmsg echo (port 9000).  The server is pinned to vCPU 0;
pollnet's lcore polls on vCPU 1.  After each boot's phases, idle: QEMU's CPU
on the host while nothing comes (3 s), and pings 50 ms apart.  The generators run on the host, in the tap's namespace (the peer,
10.0.2.2): round trips (one in flight), iperf -u at rising rates, trafgen
at a set rate (under TCG an unpaced sender starves QEMU); then round trips
and iperf again with 1472-byte datagrams.  Also (booted first), on
-netdev socket (each frame a UDP datagram on the host's loopback), the
first boot and the kernel's, 64-byte datagrams only: socat relays between QEMU's socket
and a tap it made, moved into the namespace, so that the generators are the
same; what socat did not read from the tap is tap.not_read_by_socat, what
QEMU's or socat's socket had no room for is the host's UDP RcvbufErrors,
and socat's CPU is counted.  A frame the
peer's kernel could not hand to QEMU (QEMU stops reading the tap while the
e1000 has no free receive descriptor) is lost at the tap: sent (iperf's,
the tap's frames read and dropped; trafgen's, its own count, as it retries
what the tap refused) less what QEMU read; every other loss is found in the guest's counters (pollnet's, or the
kernel's UDP and eth0 counters), read over UDP from a small service in the
guest.  CPU seconds: the guest's processes, the guest's vCPUs (all but
idle), and QEMU's on the host.

usage: servers.py --guest BUILD_DIR OUT_JSON
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
from benchproc import (header, ns_cmd, proc_cpu, snmp_udp, spawn, stop,  # noqa: E402
                       stop_all, write_result)

DUT_IP, PEER_IP = "198.18.0.2", "198.18.0.1"
RATES = [25000, 50000, 100000, 150000, 200000, 250000]
LARGE = 1472                    # the largest datagram in a 1500-byte MTU
LARGE_RATES = [25000, 50000, 100000, 150000, 200000]
RTT_N, RATE_SECONDS, FRAMES = 20000, 3, 1000000
WAKE_BATCH, WAKE_DELAY_US = 32, 100       # the moderated run's settings
# What the servers ask for to ride out their scheduling delays: pollnet-echo
# a receive ring of 4096 datagrams (8 MiB of slots), as the kernel's echo
# asks SO_RCVBUF 8 MiB (the kernel gives it net.core.rmem_max, 416 KiB
# here); pollnet's af_packet port a ring of 4096 frames (DPDK's default 512
# overflows whenever the lcore is descheduled: port.rx_missed)
ECHO_RING, AFP_FRAMES = 4096, 4096

guest = len(sys.argv) > 1 and sys.argv[1] == "--guest"
if guest:
    del sys.argv[1]
if len(sys.argv) != 3:
    sys.exit(__doc__.split("usage:")[1].strip())
build, out_json = sys.argv[1], sys.argv[2]


def child_pid(p, name):
    """The pid of `name` under p (ip netns exec + taskset exec into it)."""
    deadline = time.time() + 5
    while time.time() < deadline:
        try:
            with open("/proc/%d/comm" % p.pid) as f:
                if f.read().strip() == name[:15]:
                    return p.pid
        except OSError:
            pass
        time.sleep(0.05)
    raise SystemExit("%s did not start" % name)


def link_stats(ns, ifname):
    out = sh("ip", "-s", "-j", "link", "show", ifname, ns=ns).stdout
    st = json.loads(out)[0]["stats64"]
    return {"rx_packets": st["rx"]["packets"], "tx_packets": st["tx"]["packets"],
            "rx_dropped": st["rx"]["dropped"], "tx_dropped": st["tx"]["dropped"]}


def diff(a, b):
    return {k: b[k] - a.get(k, 0) for k in b if b[k] - a.get(k, 0)}


class Side:
    """Where the generators run and what they aim at: the peer's namespace
    and interface, the server's address and MAC; the rates to offer; for a
    tap (the guest), frames the peer's kernel dropped at the tap because
    QEMU was not reading it are sent and lost too."""

    def __init__(self, peer, peer_if, dut_ip, dut_mac, rates, large_rates, rtt_n,
                 trafgen_rate=None, tap=False):
        self.peer, self.peer_if, self.dut_ip, self.dut_mac = peer, peer_if, dut_ip, dut_mac
        self.rates, self.large_rates, self.rtt_n = rates, large_rates, rtt_n
        self.trafgen_rate, self.tap = trafgen_rate, tap
        self.unread = "tap.not_read_by_qemu"   # what the tap's reader did not take

    def wire(self):
        """(frames the peer sent, frames it got, ICMP errors among those it
        sent) so far, from the peer's interface and kernel.  A tap's
        tx_packets are the frames QEMU read; what it could not queue for
        QEMU is in tx_dropped."""
        st = link_stats(self.peer, self.peer_if)
        return (st["tx_packets"] + st["tx_dropped"], st["rx_packets"],
                snmp_udp(self.peer, "Icmp")["OutMsgs"], st["tx_packets"])


def measure(side, name, port, losses, cpus, size=64):
    """losses(): the counters where this server's side counts what it
    loses; cpus(): CPU seconds by process.  size: the datagrams' payload;
    at 1472 bytes the round trips and iperf (side.large_rates), no trafgen."""
    res = {"port": port, "size": size}
    print("== %s (port %d, %d B)" % (name, port, size), file=sys.stderr)
    # 1. round trips
    r = sh(*ns_cmd(side.peer, [os.path.join(build, "bench", "shm_bench"), "rtt", "kernel",
                               side.dut_ip, str(port), str(side.rtt_n), str(size)], cpu=None),
           check=False, timeout=300)
    try:
        q = json.loads(r.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise SystemExit("%s: the round trips failed:\n%s" % (name, r.stdout[-2000:]))
    res["pingpong"] = {"p50_us": q["p50_ns"] / 1e3, "p99_us": q["p99_ns"] / 1e3,
                       "min_us": q["min_ns"] / 1e3, "round_trips": q["round_trips"]}
    print("  round trips: p50 %.1f us, p99 %.1f us" % (q["p50_ns"] / 1e3, q["p99_ns"] / 1e3),
          file=sys.stderr)

    def phase(cmd, generator_sent=None):
        """generator_sent(output): what the generator says it sent, if it
        may send a frame more than once (trafgen retries what a full tap
        refused, and the tap counts each refusal)."""
        w0, l0, c0 = side.wire(), losses(), cpus()
        t0 = time.time()
        out = sh(*ns_cmd(side.peer, cmd, cpu=None), check=False, timeout=120).stdout
        wall = time.time() - t0
        time.sleep(1)           # the last echoes, and the counters' publication
        w1, l1, c1 = side.wire(), losses(), cpus()
        # Not sent, not lost: the ICMP errors the peer's kernel returns for
        # echoes that reach a closed port (a generator that has exited), and
        # their fate at the server.
        icmp = w1[2] - w0[2]
        sent, echoed = w1[0] - w0[0] - icmp, w1[1] - w0[1]
        if generator_sent is not None:
            sent = generator_sent(out)
        where = {k: v for k, v in diff(l0, l1).items() if "icmp" not in k}
        if side.tap and sent - (w1[3] - w0[3] - icmp) > 0:
            where[side.unread] = sent - (w1[3] - w0[3] - icmp)
        row = {"sent": sent, "echoed": echoed, "lost": max(sent - echoed, 0),
               "lost_where": where, "wall_s": round(wall, 2),
               "cpu_s": {k: round(c1[k] - c0[k], 2) for k in c1}}
        row["lost_counted"] = sum(row["lost_where"].values())
        return row, out

    # 2. iperf at each rate
    res["iperf"] = []
    for rate in side.rates if size == 64 else side.large_rates:
        row, out = phase(["iperf", "-c", side.dut_ip, "-u", "-p", str(port), "-l", str(size), "-b",
                          "%dpps" % rate, "-t", str(RATE_SECONDS)])
        row["offered_per_s"] = rate
        row["echoed_per_s"] = round(row["echoed"] / RATE_SECONDS)
        res["iperf"].append(row)
        print("  iperf %d/s: sent %d, echoed %d, lost %d (counted %d: %s)" %
              (rate, row["sent"], row["echoed"], row["lost"], row["lost_counted"],
               row["lost_where"]), file=sys.stderr)
    ok = [r for r in res["iperf"] if r["lost"] == 0]
    res["iperf_best_zero_loss_per_s"] = max((r["echoed_per_s"] for r in ok), default=0)
    if size != 64:
        return res

    # 3. trafgen, as fast as one CPU of the peer sends (or at a set rate)
    pmac = json.loads(sh("ip", "-j", "link", "show", side.peer_if,
                         ns=side.peer).stdout)[0]["address"]
    peer_ip = json.loads(sh("ip", "-j", "-4", "addr", "show", side.peer_if, ns=side.peer).stdout
                         )[0]["addr_info"][0]["local"]
    with tempfile.NamedTemporaryFile("w", suffix=".cfg", delete=False) as cfg:
        cfg.write("{ eth(da=%s, sa=%s), ipv4(saddr=%s, daddr=%s, ttl=64), "
                  "udp(sp=40000, dp=%d), fill('t', 18) }\n" %
                  (side.dut_mac, pmac, peer_ip, side.dut_ip, port))
    frames = FRAMES if side.trafgen_rate is None else side.trafgen_rate * RATE_SECONDS
    def trafgen_sent(out):
        m = re.search(r"(\d+) packets outgoing", out)
        if not m:
            raise SystemExit("%s: trafgen failed:\n%s" % (name, out[-2000:]))
        return int(m.group(1))
    row, out = phase(["trafgen", "-o", side.peer_if, "-i", cfg.name, "-n", str(frames), "-P", "1",
                      "--no-sock-mem", "--notouch-irq", "-C"] +
                     (["-b", "%dpps" % side.trafgen_rate] if side.trafgen_rate else []),
                     trafgen_sent)
    os.unlink(cfg.name)
    row["offered_per_s"] = round(row["sent"] / row["wall_s"]) if row["wall_s"] else None
    row["echoed_per_s"] = round(row["echoed"] / row["wall_s"]) if row["wall_s"] else None
    res["trafgen"] = row
    print("  trafgen: sent %d in %.2f s, echoed %d, lost %d (counted %d: %s)" %
          (row["sent"], row["wall_s"], row["echoed"], row["lost"], row["lost_counted"],
           row["lost_where"]), file=sys.stderr)
    return res


def measure_both(result, key, side, name, port, losses, cpus):
    """64-byte datagrams into result["servers"][key], then 1472-byte ones
    into result["servers_1472"][key]."""
    result["servers"][key] = measure(side, name, port, losses, cpus)
    result.setdefault("servers_1472", {})[key] = measure(side, name, port, losses, cpus, LARGE)


def idle_probe(net, pn, name):
    """An idle pollnet's CPU (2 s), then pings 50 ms apart: each finds the
    lcore idle (napping, unless idle_sleep = 0): their round trips."""
    time.sleep(1.5)
    c0, t0 = proc_cpu(pn.proc.pid), time.time()
    time.sleep(2)
    cpu = (proc_cpu(pn.proc.pid) - c0) / (time.time() - t0)
    out = sh("ping", "-c", "40", "-i", "0.05", "-q", DUT_IP, ns=net.peer, check=False).stdout
    m = re.search(r"= ([\d.]+)/([\d.]+)/([\d.]+)/", out)
    res = {"cpu_per_s": round(cpu, 3), "ping_min_us": float(m.group(1)) * 1e3,
           "ping_avg_us": float(m.group(2)) * 1e3, "ping_max_us": float(m.group(3)) * 1e3}
    print("== idle, %s: %.2f CPU-seconds per second; pings 50 ms apart: avg %.0f us, max %.0f us"
          % (name, cpu, res["ping_avg_us"], res["ping_max_us"]), file=sys.stderr)
    return res


def main():
    result = header("servers", __doc__)
    result["servers"] = {}
    net = Namespaces(peer_ip=PEER_IP + "/24")
    side = Side(net.peer, net.peer_if, DUT_IP, json.loads(sh(
        "ip", "-j", "link", "show", net.dut_if, ns=net.dut).stdout)[0]["address"], RATES,
        LARGE_RATES, RTT_N)
    tmp = tempfile.mkdtemp(prefix="pn-bench-servers.")
    ctl = os.path.join(tmp, "pollnet.sock")
    moderation = ["--set", "sockets.wake_batch=%d" % WAKE_BATCH,
                  "--set", "sockets.wake_delay=%d" % WAKE_DELAY_US]
    try:
        # pollnet as configured by default: its echo service and
        # pollnet-echo one per call and in batches; then pollnet again with
        # wake-up moderation, and pollnet-echo in batches; then an idle
        # pollnet that never naps
        result["idle"] = {}
        conf = open(os.path.join(HERE, "..", "config", "pollnet.conf")).read()
        result["idle_sleep_us"] = int(re.search(r"^idle_sleep = (\d+)", conf, re.M).group(1))
        for mod in (False, True, "poll"):
            pn = Pollnet(os.path.join(build, "app", "pollnet"), net.dut,
                         "dpdk:net_af_packet0,iface=%s,framecnt=%d" % (net.dut_if, AFP_FRAMES),
                         DUT_IP + "/24",
                         extra=["--ctl", ctl, "--stats", os.path.join(tmp, "pollnet.stats")] +
                         (moderation if mod is True else []) +
                         (["--set", "dataplane.idle_sleep=0"] if mod == "poll" else []))
            deadline = time.time() + 10
            while sh("ping", "-c", "1", "-W", "1", DUT_IP, ns=net.peer, check=False).returncode:
                if time.time() > deadline:
                    raise SystemExit("pollnet does not answer ping")
            if mod == "poll":
                result["idle"]["idle_sleep_0"] = idle_probe(net, pn, "dataplane.idle_sleep = 0")
                pn.stop()
                continue
            if not mod:
                result["idle"]["default"] = idle_probe(
                    net, pn, "dataplane.idle_sleep = %d (the default)" % result["idle_sleep_us"])

            def pn_losses():
                r = pn.report()
                return {k: v for k, v in r.items()
                        if k == "port.rx_missed" or ".rx_drop." in k or ".tx_drop." in k or
                        k.startswith("sock.") and k.endswith("_drops")}

            if not mod:
                measure_both(
                    result, "echo", side, "pollnet's echo service", 7, pn_losses,
                    lambda: {"pollnet": proc_cpu(pn.proc.pid)})
            runs = ((("libpollnet-moderated", 32, 9002, []),) if mod else
                    (("libpollnet", 1, 9000, []), ("libpollnet-batch", 32, 9001, []),
                     ("libpollnet-zc", 32, 9003, ["--zero-copy"])))
            for key, batch, port, more in runs:
                echo = spawn(net.dut, [os.path.join(build, "client", "pollnet-echo"), "--ctl",
                                       ctl, "--batch", str(batch), "--ring", str(ECHO_RING)] +
                             more + [str(port)], cpu=0)
                epid = child_pid(echo, "pollnet-echo")
                time.sleep(0.5)
                measure_both(
                    result, key, side, "pollnet-echo --batch %d %s(libpollnet)%s" %
                    (batch, " ".join(more + [""]),
                     ", wake-up moderation %d / %d us" % (WAKE_BATCH, WAKE_DELAY_US)
                     if mod else ""), port, pn_losses,
                    lambda: {"pollnet": proc_cpu(pn.proc.pid), "server": proc_cpu(epid)})
                result["servers"][key]["server_output"] = stop(echo)[-500:]
            pn.stop()
        result["moderation"] = {"wake_batch": WAKE_BATCH, "wake_delay_us": WAKE_DELAY_US}

        # the kernel
        sh("ip", "addr", "add", DUT_IP + "/24", "dev", net.dut_if, ns=net.dut)
        sh("ping", "-c", "1", "-W", "2", DUT_IP, ns=net.peer)
        kecho = spawn(net.dut, [os.path.join(build, "bench", "shm_bench"), "echo",
                                "kernel-mmsg", "9000"], cpu=0)
        kpid = child_pid(kecho, "shm_bench")
        time.sleep(0.5)

        def k_losses():
            u = snmp_udp(net.dut)
            d = link_stats(net.dut, net.dut_if)
            return {"udp.InErrors": u["InErrors"], "udp.SndbufErrors": u["SndbufErrors"],
                    "veth.rx_dropped": d["rx_dropped"], "veth.tx_dropped": d["tx_dropped"]}
        measure_both(result, "kernel", side, "the kernel (recvmmsg/sendmmsg echo)", 9000,
                     k_losses, lambda: {"server": proc_cpu(kpid)})
        result["servers"]["kernel"]["server_output"] = stop(kecho)[-500:]
        net.close()

        # idle on net_tap, whose Rx interrupt the lcore can sleep on
        # (af_packet has none): napping, asleep on the interrupt, polling
        net = Namespaces(peer_ip=PEER_IP + "/24", tap=True)
        for idle in ("nap", "interrupt", "poll"):
            pn = Pollnet(os.path.join(build, "app", "pollnet"), net.dut,
                         "dpdk:net_tap0,iface=%s" % net.peer_if, DUT_IP + "/24",
                         extra=["--ctl", ctl, "--stats", os.path.join(tmp, "pollnet.stats"),
                                "--set", "dataplane.idle=%s" % idle])
            deadline = time.time() + 10
            while sh("ping", "-c", "1", "-W", "1", DUT_IP, ns=net.peer, check=False).returncode:
                if time.time() > deadline:
                    raise SystemExit("pollnet on net_tap does not answer ping")
            result["idle"]["tap_" + idle] = idle_probe(
                net, pn, "net_tap, dataplane.idle = %s" % idle)
            pn.stop()
    finally:
        stop_all()
    finish(result, out_json)


def finish(result, out_json):
    def ratio(a, b):
        return round(a / b, 2) if a and b else None

    def ratios(S):
        return {"%s_over_kernel" % k: {
            "p50": ratio(S[k]["pingpong"]["p50_us"], S["kernel"]["pingpong"]["p50_us"]),
            "p99": ratio(S[k]["pingpong"]["p99_us"], S["kernel"]["pingpong"]["p99_us"]),
            "iperf_zero_loss": ratio(S[k]["iperf_best_zero_loss_per_s"],
                                     S["kernel"]["iperf_best_zero_loss_per_s"]),
            "trafgen_echoed": ratio(S[k]["trafgen"]["echoed_per_s"],
                                    S["kernel"]["trafgen"]["echoed_per_s"])
            if "trafgen" in S[k] else None}
            for k in ("echo", "libpollnet", "libpollnet-batch", "libpollnet-zc",
                      "libpollnet-moderated",
                      "echo-interrupt", "libpollnet-interrupt") if k in S}
    result["ratios"] = ratios(result["servers"])
    result["ratios_1472"] = ratios(result["servers_1472"])
    shown = {"64": result["ratios"], "1472": result["ratios_1472"]}
    if "servers_socket" in result:
        result["ratios_socket"] = shown["socket"] = ratios(result["servers_socket"])
    write_result(result, out_json, shown)


# ------------------------------------------------------------------ the guest

# The guest's side: the servers, pinned to vCPU 0 (pollnet's lcore polls on
# vCPU 1), and a small UDP service on port 9999 that answers each question
# with the guest's loss counters and CPU seconds (the last one, "done",
# ends the boot).  Under pollnet it is a pollnet-run program like any other.
GUEST_SCRIPT = r"""
%(servers)s
sleep 1
%(wrap)s python3 - <<'PY'
import json, os, socket, subprocess
MODE, NAMES = "%(mode)s", %(names)r
TCK = os.sysconf("SC_CLK_TCK")
def cpu():
    out = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            comm = open("/proc/%%s/comm" %% pid).read().strip()
            if comm in NAMES:
                f = open("/proc/%%s/stat" %% pid).read().rsplit(")", 1)[1].split()
                out[NAMES[comm]] = out.get(NAMES[comm], 0) + (int(f[11]) + int(f[12])) / TCK
        except OSError:
            pass
    t = [int(x) for x in open("/proc/stat").readline().split()[1:]]
    out["guest_all"] = (sum(t) - t[3] - t[4]) / TCK     # every vCPU, not idle
    return out
def losses():
    if MODE == "pollnet":
        env = dict(os.environ)
        env.pop("LD_PRELOAD", None)
        c = json.loads(subprocess.run(["pollnetctl", "stats", "--json"], capture_output=True,
                                      text=True, env=env).stdout)["counters"]
        return {k: v for k, v in c.items() if v and (k == "port.rx_missed" or ".rx_drop." in k or
                ".tx_drop." in k or k.endswith("_drops"))}     # (pollnet sends no IP fragments)
    u = [l.split() for l in open("/proc/net/snmp") if l.startswith("Udp:")]
    u = dict(zip(u[0][1:], map(int, u[1][1:])))
    d = {"udp.InErrors": u["InErrors"], "udp.SndbufErrors": u["SndbufErrors"]}
    for k in ("rx_dropped", "rx_missed_errors", "rx_fifo_errors", "tx_dropped"):
        d["eth0." + k] = int(open("/sys/class/net/eth0/statistics/" + k).read())
    return d
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 9999))
print("SERVERS-READY", flush=True)
while True:
    q, a = s.recvfrom(64)
    s.sendto(json.dumps({"losses": losses(), "cpu": cpu()}).encode(), a)
    if q == b"done":
        break
PY
"""

# The host's question to that service, from the tap's namespace.
ASK = r"""
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
for _ in range(4):
    s.sendto(sys.argv[1].encode(), ("10.0.2.15", 9999))
    try:
        print(s.recv(65536).decode())
        break
    except socket.timeout:
        pass
else:
    sys.exit("the guest does not answer on port 9999")
"""

GUEST_NS, GUEST_TAP, GUEST_IP, GUEST_MAC = "pollnet-guest", "pgtap0", "10.0.2.15", "52:54:00:12:34:56"
GUEST_RATES = [2000, 5000, 10000, 20000, 40000, 80000]
GUEST_LARGE_RATES = [2000, 5000, 10000, 20000, 40000]
GUEST_RTT_N, GUEST_TRAFGEN_RATE = 5000, 100000


SOCK_QEMU_PORT, SOCK_HOST_PORT = 17100, 17101     # deploy/pollnet-guest's --net socket


def relay_up():
    """For -netdev socket (one frame per UDP datagram on loopback): socat
    relays between QEMU's socket and a tap, which then moves to the
    namespace GUEST_NS as 10.0.2.2, where the generators run as they do
    with -netdev tap.  Returns socat's process."""
    sh("ip", "netns", "del", GUEST_NS, check=False)
    sh("ip", "link", "del", GUEST_TAP, check=False)
    sh("ip", "netns", "add", GUEST_NS)
    sh("sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1", ns=GUEST_NS)
    sh("ip", "-n", GUEST_NS, "link", "set", "lo", "up")
    relay = subprocess.Popen(
        ["socat", "-b", "2048", "TUN,tun-type=tap,tun-name=%s,iff-no-pi" % GUEST_TAP,
         "UDP-DATAGRAM:127.0.0.1:%d,bind=127.0.0.1:%d" % (SOCK_QEMU_PORT, SOCK_HOST_PORT)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.time() + 10
    while sh("ip", "link", "show", GUEST_TAP, check=False).returncode:
        if relay.poll() is not None or time.time() > deadline:
            raise SystemExit("socat did not make its tap: " + (relay.stderr.read()
                                                              if relay.poll() is not None else ""))
        time.sleep(0.1)
    sh("ip", "link", "set", GUEST_TAP, "netns", GUEST_NS)
    sh("sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=1" % GUEST_TAP, ns=GUEST_NS)
    sh("ip", "-n", GUEST_NS, "addr", "add", "10.0.2.2/24", "dev", GUEST_TAP)
    sh("ip", "-n", GUEST_NS, "link", "set", GUEST_TAP, "up")
    return relay


def host_udp_drops():
    """Datagrams the host's loopback UDP sockets (QEMU's and socat's) had
    no room for."""
    u = [ln.split() for ln in open("/proc/net/snmp") if ln.startswith("Udp:")]
    return dict(zip(u[0][1:], map(int, u[1][1:])))["RcvbufErrors"]


def guest_boot(driver, settings, servers, mode, names, console, net="tap"):
    """Boot the guest on a tap (net "tap") or -netdev socket (net "socket",
    after relay_up()) with `servers` started in it; return the
    pollnet-guest process once the guest says it is ready."""
    script = GUEST_SCRIPT % {"servers": servers, "mode": mode, "names": names,
                             "wrap": "pollnet-run" if mode == "pollnet" else ""}
    cmd = [os.path.join(HERE, "..", "deploy", "pollnet-guest"), "--net", net, "--driver",
           driver, "--pcap", "none", "--timeout", "900"]
    for kv in settings:
        cmd += ["--set", kv]
    log = open(console, "w")
    g = subprocess.Popen(cmd + ["run", "--", script], stdout=log, stderr=subprocess.STDOUT,
                         env=dict(os.environ, POLLNET_BUILD=os.path.abspath(build)),
                         start_new_session=True)
    deadline = time.time() + 300
    while "SERVERS-READY" not in open(console, errors="replace").read():
        if g.poll() is not None or time.time() > deadline:
            raise SystemExit("the guest did not start its servers; its console:\n" +
                             open(console, errors="replace").read()[-3000:])
        time.sleep(0.5)
    return g


def guest_ask(what):
    r = sh("python3", "-c", ASK, what, ns=GUEST_NS, check=False, timeout=30)
    if r.returncode:
        raise SystemExit(r.stdout)
    return json.loads(r.stdout.strip().splitlines()[-1])


def qemu_pid():
    return int(sh("pgrep", "-n", "-f", "qemu-system-x86_64").stdout.split()[0])


def guest_idle(qpid, name):
    """The guest with nothing to do: QEMU's CPU on the host (3 s), then pings
    50 ms apart, each finding it idle."""
    time.sleep(2)
    c0, t0 = proc_cpu(qpid), time.time()
    time.sleep(3)
    cpu = (proc_cpu(qpid) - c0) / (time.time() - t0)
    out = sh("ping", "-c", "40", "-i", "0.05", "-q", GUEST_IP, ns=GUEST_NS, check=False).stdout
    m = re.search(r"= ([\d.]+)/([\d.]+)/([\d.]+)/", out)
    res = {"qemu_cpu_per_s": round(cpu, 3), "ping_min_us": float(m.group(1)) * 1e3,
           "ping_avg_us": float(m.group(2)) * 1e3, "ping_max_us": float(m.group(3)) * 1e3}
    print("== idle guest, %s: QEMU %.2f CPU-seconds per second; pings 50 ms apart: avg %.0f us, "
          "max %.0f us" % (name, cpu, res["ping_avg_us"], res["ping_max_us"]), file=sys.stderr)
    return res


def main_guest():
    result = header("servers-guest", GUEST_DOC)
    result["setup"] = ("QEMU TCG -cpu max -smp 2, e1000, -netdev tap in a namespace whose "
                       "kernel is the peer (10.0.2.2); the server pinned to vCPU 0, pollnet's "
                       "lcore on vCPU 1; the wire not recorded; also -netdev socket on loopback, "
                       "relayed to a tap in that namespace by socat")
    result["servers"] = {}
    side = Side(GUEST_NS, GUEST_TAP, GUEST_IP, GUEST_MAC, GUEST_RATES, GUEST_LARGE_RATES,
                GUEST_RTT_N, trafgen_rate=GUEST_TRAFGEN_RATE, tap=True)
    tmp = tempfile.mkdtemp(prefix="pn-bench-servers-guest.")
    echo = "taskset -c 0 pollnet-echo --batch 32 --ring %d %%d > /tmp/echo.log 2>&1 &" % ECHO_RING
    kecho = "taskset -c 0 shm_bench echo kernel-mmsg 9000 > /tmp/echo.log 2>&1 &"
    boots = [  # (driver, settings, servers, mode, [(key, port, name)], net)
        # -netdev socket, through socat's relay (64-byte datagrams only; first,
        # so that a relay that does not work fails early)
        ("e1000", [], echo % 9001, "pollnet",
         [("echo", 7, "pollnet's echo service, -netdev socket"),
          ("libpollnet-batch", 9001, "pollnet-echo --batch 32 (libpollnet), -netdev socket")],
         "socket"),
        ("kernel", [], kecho, "kernel", [("kernel", 9000, "the kernel's e1000 driver and UDP "
                                          "stack (recvmmsg/sendmmsg echo), -netdev socket")],
         "socket"),
        ("e1000", [], echo % 9001, "pollnet",
         [("echo", 7, "pollnet's echo service"),
          ("libpollnet-batch", 9001, "pollnet-echo --batch 32 (libpollnet)")], "tap"),
        ("e1000", ["sockets.wake_batch=%d" % WAKE_BATCH, "sockets.wake_delay=%d" % WAKE_DELAY_US],
         echo % 9002, "pollnet",
         [("libpollnet-moderated", 9002, "pollnet-echo --batch 32 (libpollnet), wake-up "
           "moderation %d / %d us" % (WAKE_BATCH, WAKE_DELAY_US))], "tap"),
        ("e1000", ["dataplane.idle=interrupt"], echo % 9003, "pollnet",
         [("echo-interrupt", 7, "pollnet's echo service, dataplane.idle = interrupt"),
          ("libpollnet-interrupt", 9003, "pollnet-echo --batch 32 (libpollnet), "
           "dataplane.idle = interrupt")], "tap"),
        ("kernel", [], kecho, "kernel", [("kernel", 9000, "the kernel's e1000 driver and UDP "
                                          "stack (recvmmsg/sendmmsg echo)")], "tap"),
    ]
    try:
        for i, (driver, settings, servers, mode, runs, net) in enumerate(boots):
            names = ({"pollnet": "pollnet", "pollnet-echo": "server"} if mode == "pollnet" else
                     {"shm_bench": "server"})
            print("== booting the guest (%s%s, -netdev %s)" % (
                driver, ", " + " ".join(settings) if settings else "", net), file=sys.stderr)
            relay = relay_up() if net == "socket" else None
            side.unread = "tap.not_read_by_socat" if relay else "tap.not_read_by_qemu"
            g = guest_boot(driver, settings, servers, mode, names,
                           os.path.join(tmp, "console.%d" % i), net)
            try:
                qpid = qemu_pid()
                # a first exchange: ARP both ways
                sh("ping", "-c", "2", "-W", "2", GUEST_IP, ns=GUEST_NS, check=False)

                last = {}

                def g_losses():   # phase() asks this first, then g_cpus(): one question
                    last.update(guest_ask("counts"))
                    if relay:
                        last["losses"]["host_udp.RcvbufErrors"] = host_udp_drops()
                    return last["losses"]

                def g_cpus():
                    c = {"guest_" + k if k != "guest_all" else k: v
                         for k, v in last["cpu"].items()}
                    c["qemu_on_host"] = proc_cpu(qpid)
                    if relay:
                        c["socat_on_host"] = proc_cpu(relay.pid)
                    return c
                for key, port, name in runs:
                    if relay:
                        result.setdefault("servers_socket", {})[key] = measure(
                            side, name, port, g_losses, g_cpus)
                    else:
                        measure_both(result, key, side, name, port, g_losses, g_cpus)
                idle_key = None if relay else ("kernel" if driver == "kernel" else
                            "interrupt" if settings == ["dataplane.idle=interrupt"] else
                            "nap" if not settings else None)
                if idle_key:
                    result.setdefault("idle", {})[idle_key] = guest_idle(qpid, idle_key)
                guest_ask("done")
                g.wait(timeout=120)
            finally:
                if g.poll() is None:
                    os.killpg(g.pid, 15)
                    g.wait()
                if relay:
                    relay.terminate()
                    relay.wait()
                    sh("ip", "netns", "del", GUEST_NS, check=False)
        result["moderation"] = {"wake_batch": WAKE_BATCH, "wake_delay_us": WAKE_DELAY_US}
    finally:
        stop_all()
    finish(result, out_json)


if __name__ == "__main__":
    main_guest() if guest else main()
