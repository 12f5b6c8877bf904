"""Processes for the benchmarks in network namespaces (bench/preload.py,
bench/servers.py): start them pinned or not, stop them, read what they and
the kernel counted."""
import json
import os
import platform
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "integration"))
from netns import sh  # noqa: E402

procs = []


def ns_cmd(ns, cmd, cpu=0):
    """cmd in namespace ns, pinned to cpu (None: where the scheduler puts it)."""
    pin = ["taskset", "-c", str(cpu)] if cpu is not None else []
    return ["ip", "netns", "exec", ns] + pin + cmd


def spawn(ns, cmd, cpu=0):
    """cmd in its own process group: stop() reaches every process in it
    (time(1) ignores SIGINT while its child runs)."""
    p = subprocess.Popen(ns_cmd(ns, cmd, cpu), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True, start_new_session=True)
    procs.append(p)
    return p


def stop(p):
    """SIGINT to p's group (so that time(1) reports), its output."""
    try:
        os.killpg(p.pid, signal.SIGINT)
        return p.communicate(timeout=10)[0]
    except (subprocess.TimeoutExpired, ProcessLookupError):
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        return p.communicate()[0]


def stop_all():
    for p in procs:
        if p.poll() is None:
            stop(p)


def proc_cpu(pid):
    """CPU seconds (user + system, every thread) a process has used."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def busy():
    """Busy seconds of all CPUs so far: the wall time of every online CPU
    less its idle, iowait and steal time (/proc/stat).  With NO_HZ the kernel
    measures idle time exactly, on entry to and exit from the idle loop; the
    busy fields (user, system, softirq...) are only sampled at the tick
    (250 Hz here), and a CPU that wakes for tens of microseconds at a time
    (a server woken per datagram, a lcore's nap) is mostly idle at every
    tick: those fields missed up to nine tenths of such a phase."""
    with open("/proc/stat") as f:
        now = time.monotonic()
        lines = f.read().splitlines()
    v = [int(x) for x in lines[0].split()[1:]]
    cpus = sum(1 for ln in lines[1:] if ln.startswith("cpu"))
    return now * cpus - (v[3] + v[4] + v[7]) / os.sysconf("SC_CLK_TCK")


def peer_link(net):
    """The peer veth's (transmitted, received) packets: what a generator
    there sent, and the echoes it got."""
    st = json.loads(sh("ip", "-s", "-j", "link", "show", net.peer_if,
                       ns=net.peer).stdout)[0]["stats64"]
    return st["tx"]["packets"], st["rx"]["packets"]


def snmp_udp(ns, proto="Udp"):
    """The kernel's UDP (or proto's) counters in namespace ns (/proc/net/snmp)."""
    text = sh("cat", "/proc/net/snmp", ns=ns).stdout
    lines = [ln.split() for ln in text.splitlines() if ln.startswith(proto + ":")]
    return dict(zip(lines[0][1:], map(int, lines[1][1:])))


def header(name, doc):
    """What every result file starts with: the benchmark, the commit, the
    machine, and the method (the script's docstring up to its usage)."""
    return {"benchmark": name,
            "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"],
                                     capture_output=True, text=True).stdout.strip(),
            "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "cpu": next((ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo")
                         if ln.startswith("model name")), platform.machine()),
            "cores": os.cpu_count(),
            "kernel": platform.release(),
            "method": doc.split("usage:")[0].strip()}


def write_result(result, out_json, summary):
    """The result file (JSON, indented), and its summary on stderr."""
    with open(out_json, "w") as f:
        json.dump(result, f, indent=2)
        f.write("\n")
    print(json.dumps(summary), file=sys.stderr)
