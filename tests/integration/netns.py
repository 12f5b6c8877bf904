"""Test hosts in network namespaces, and pollnet running in one of them.

Everything here stays on this machine: two namespaces joined by a veth pair
(or a tap inside one namespace), addresses from 198.18.0.0/15 (RFC 2544's
benchmarking range) that exist only inside them.  Namespaces are deleted on
exit, whatever happens.
"""
import atexit
import glob
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

PREFIX = "pn%d" % (os.getpid() % 100000)


def sh(*args, ns=None, check=True, timeout=60, **kw):
    cmd = list(args)
    if ns:
        cmd = ["ip", "netns", "exec", ns] + cmd
    return subprocess.run(cmd, check=check, timeout=timeout, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, **kw)


class Namespaces:
    """Two namespaces, 'dut' (pollnet's) and 'peer' (the Linux kernel),
    joined by a veth pair: dut side `dut_if`, peer side `peer_if`.

    With tap=True there is one namespace holding a persistent tap `peer_if`
    that pollnet's net_tap attaches to; the kernel behind it is the peer."""

    def __init__(self, peer_ip="198.18.0.1/24", tap=False):
        self.dut = PREFIX + "-dut"
        self.peer = PREFIX + "-peer" if not tap else self.dut
        self.dut_if = PREFIX + "d"
        self.peer_if = PREFIX + "p"
        self.peer_ip = peer_ip
        atexit.register(self.close)
        for ns in sorted({self.dut, self.peer}):
            sh("ip", "netns", "add", ns)
            sh("ip", "link", "set", "lo", "up", ns=ns)
            # No IPv6 chatter (router solicitations, MLD): every frame on
            # the wire is one the test caused, so counters match exactly.
            sh("sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1", ns=ns)
        if tap:
            # multi_queue: the flags DPDK's net_tap asks for when it attaches
            sh("ip", "tuntap", "add", "dev", self.peer_if, "mode", "tap", "multi_queue",
               ns=self.peer)
            sh("ip", "addr", "add", peer_ip, "dev", self.peer_if, ns=self.peer)
            sh("ip", "link", "set", self.peer_if, "up", ns=self.peer)
            return
        sh("ip", "link", "add", self.dut_if, "netns", self.dut, "type", "veth",
           "peer", "name", self.peer_if, "netns", self.peer)
        # veth leaves UDP checksums to "hardware" (partial); a real wire
        # carries complete ones.
        sh("ethtool", "-K", self.peer_if, "tx", "off", ns=self.peer)
        sh("ip", "addr", "add", peer_ip, "dev", self.peer_if, ns=self.peer)
        sh("ip", "link", "set", self.dut_if, "up", ns=self.dut)
        sh("ip", "link", "set", self.peer_if, "up", ns=self.peer)

    def peer_counter(self, name):
        out = sh("cat", "/sys/class/net/%s/statistics/%s" % (self.peer_if, name),
                 ns=self.peer).stdout
        return int(out)

    def close(self):
        for ns in {getattr(self, "dut", None), getattr(self, "peer", None)}:
            if ns:
                subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL)


class Pollnet:
    """pollnet in namespace ns; stop() returns its final counters.  ip None:
    no --ip (an xdp: port has the kernel's)."""

    def __init__(self, binary, ns, port, ip, lcores="0-1", extra=(), echo=7, log=None):
        self.log_path = log or "/tmp/%s-pollnet.log" % PREFIX
        self.log = open(self.log_path, "w+")
        lcore_opt = ["--lcores", lcores] if "@" in lcores else ["-l", lcores]
        cmd = ["ip", "netns", "exec", ns, binary] + lcore_opt + ["--in-memory",
               "--no-pci", "--log-level=warning", "--", "--port", port] + \
            (["--ip", ip] if ip else []) + ["--echo-port", str(echo)] + list(extra)
        self.cmd = cmd
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT,
                                     text=True)
        atexit.register(self.kill)
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("pollnet exited with %d:\n%s" %
                                   (self.proc.returncode, self.output()))
            if "pollnet: port " in self.output():
                return
            time.sleep(0.1)
        raise RuntimeError("pollnet did not start in 30 s:\n" + self.output())

    def output(self):
        with open(self.log_path) as f:
            return f.read()

    def stop(self):
        self.proc.send_signal(signal.SIGINT)
        try:
            rc = self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise RuntimeError("pollnet did not stop on SIGINT:\n" + self.output())
        out = self.output()
        if rc != 0:
            raise RuntimeError("pollnet exited with %d:\n%s" % (rc, out))
        return parse_counters(out), out

    def report(self):
        """Counters now (SIGUSR1), from the newest report in the log."""
        before = self.output().count("\ncheck rx_frames")
        self.proc.send_signal(signal.SIGUSR1)
        deadline = time.time() + 10
        while time.time() < deadline:
            out = self.output()
            if out.count("\ncheck rx_frames") > before:
                return parse_counters(out[out.rfind("\nport "):])
            time.sleep(0.05)
        raise RuntimeError("pollnet did not report on SIGUSR1")

    def alive(self):
        return self.proc.poll() is None

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def parse_counters(text):
    c = {}
    for m in re.finditer(r"^\s+([a-z0-9_.]+)\s+(\d+)$", text, re.M):
        c[m.group(1)] = int(m.group(2))
    return c


def for_other_users(build, *programs):
    """Copies of programs, and of the libpollnet they load, in a directory
    any user can read, for tests that run them as nobody or daemon: the
    build tree may be under a home only its owner enters (root's /root is
    0700).  Returns the copies' paths and an environment to run them with
    (LD_LIBRARY_PATH comes before their RUNPATH)."""
    d = tempfile.mkdtemp(prefix="pn-any-user.")
    os.chmod(d, 0o755)
    atexit.register(shutil.rmtree, d, True)
    for lib in glob.glob(os.path.join(build, "client", "libpollnet.so*")):
        if os.path.isfile(lib):
            shutil.copy(lib, d, follow_symlinks=True)
    copies = []
    for p in programs:
        copies.append(shutil.copy(p, d))
    return copies, dict(os.environ, LD_LIBRARY_PATH=d)


def answers_ping(net, ip, seconds=10):
    """Ping ip from the peer namespace, once a second, until it answers
    (pollnet is up and its ARP answered) or seconds pass (a failed check)."""
    deadline = time.time() + seconds
    while sh("ping", "-c", "1", "-W", "1", ip, ns=net.peer, check=False).returncode:
        if time.time() > deadline:
            check(False, "the peer's ping of %s is answered within %d s" % (ip, seconds))
            return False
    return True


def frames_accounted(what, d, peer_tx):
    """Counter deltas d against the peer's count of frames sent: every
    frame is the port's or missed by it, every one the port gave reached
    the stack, and the stack delivered, answered or dropped each."""
    check(peer_tx == d["port.rx_packets"] + d["port.rx_missed"],
          "%s: the %d frames the peer sent == port rx %d + missed %d" %
          (what, peer_tx, d["port.rx_packets"], d["port.rx_missed"]))
    check(d["port.rx_packets"] == d["stack.rx_frames"],
          "%s: every frame the port gave reached the stack (%d)" % (what, d["stack.rx_frames"]))
    check(d["stack.rx_frames"] == d["stack.rx_delivered"] + d["stack.rx_answered"] +
          d["stack.rx_dropped"] + d["stack.rx_merged"] + d["stack.rx_kernel"],
          "%s: stack rx %d == delivered %d + answered %d + dropped %d + merged %d + "
          "to the kernel %d" %
          (what, d["stack.rx_frames"], d["stack.rx_delivered"], d["stack.rx_answered"],
           d["stack.rx_dropped"], d["stack.rx_merged"], d["stack.rx_kernel"]))


def preload_setup(prefix):
    """The start of a test of programs under pollnet-run, whose arguments
    are pollnet's binary and the build directory: as root, a scratch
    directory (named from prefix) for pollnet's control socket and stats
    segment, and the environment that sends programs to that pollnet.
    Returns (binary, build, pollnet-run, tmp, ctl, stats, env)."""
    need_root()
    binary, build = sys.argv[1], sys.argv[2]
    tmp = tempfile.mkdtemp(prefix=prefix)
    ctl, stats = os.path.join(tmp, "pollnet.sock"), os.path.join(tmp, "pollnet.stats")
    return (binary, build, os.path.join(build, "client", "pollnet-run"), tmp, ctl, stats,
            preload_env(build, dict(os.environ, POLLNET_CTL=ctl)))


def preload_env(build, env):
    """env, for programs run under the build's pollnet-run: with a
    sanitizer build's runtime loaded before the library, into programs
    that were not built with it (their own leaks are not ours to report)."""
    lib = os.path.join(build, "client", "libpollnet-preload.so")
    if "__asan_init" in sh("nm", "-D", "--undefined-only", lib).stdout:
        rt = sh("clang", "-print-file-name=libclang_rt.asan-x86_64.so").stdout.strip()
        env["LD_PRELOAD"] = rt
        env["ASAN_OPTIONS"] = "detect_leaks=0:abort_on_error=1"
        print("sanitizer build: programs run with", rt)
    return env


def kill_all(procs):
    for p in procs:
        if p.poll() is None:
            p.kill()


failures = []


def check(cond, what):
    """One named assertion: printed, and remembered if it failed."""
    print("%s %s" % ("ok  " if cond else "FAIL", what), flush=True)
    if not cond:
        failures.append(what)


def mbufs_back(pn):
    """Stop pollnet: every mbuf must be back.  Its counters and output."""
    counters, out = pn.stop()
    check(counters.get("pool.in_use", 0) == 0, "every mbuf returned")
    return counters, out


def finish(log_path=None):
    """Exit 1 if any check failed (naming pollnet's log), else say so."""
    if failures:
        print("\n%d check(s) failed%s" % (len(failures),
              "; pollnet log: %s" % log_path if log_path else ""))
        sys.exit(1)
    print("\nall checks passed")


def need_root():
    if os.geteuid() != 0:
        print("SKIP: needs root (network namespaces, hugepages)")
        sys.exit(77)
    free = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("HugePages_Free:"):
                free = int(line.split()[1])
    if free < 64:
        print("FAIL: fewer than 64 free hugepages; run ./run.sh test, or: "
              "echo 512 > /proc/sys/vm/nr_hugepages")
        sys.exit(1)
