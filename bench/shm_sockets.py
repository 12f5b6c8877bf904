#!/usr/bin/python3
"""bench/run.sh shm-sockets: datagrams between two processes, through
pollnet's local delivery (libpollnet) and through Linux UDP sockets on
loopback (send/recv, and sendmmsg/recvmmsg), side by side in one run.

Topology (2 cores): pollnet's control thread on cpu 0, its lcore on cpu 1;
every client and server process on cpu 0, for both transports (a kernel pair
left free to use both cores is measured too).  Per-core rates divide by the
CPU time every process involved used, read from /proc: for pollnet that
includes its busy-polling lcore, all of it.

usage: shm_sockets.py BUILD_DIR OUT_JSON
"""
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

build, out_json = sys.argv[1], sys.argv[2]
bench = os.path.join(build, "bench", "shm_bench")
pollnet = os.path.join(build, "app", "pollnet")
tick = os.sysconf("SC_CLK_TCK")
procs = []


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / tick      # utime + stime


def start(cmd, cpu=None):
    if cpu is not None:
        cmd = ["taskset", "-c", str(cpu)] + cmd
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    procs.append(p)
    return p


def run_client(cmd, cpu=None):
    if cpu is not None:
        cmd = ["taskset", "-c", str(cpu)] + cmd
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    _, status, ru = os.wait4(p.pid, 0)
    out = p.stdout.read()
    if status != 0:
        raise SystemExit("client failed: %s\n%s" % (cmd, out))
    return json.loads(out.strip().splitlines()[-1]), ru.ru_utime + ru.ru_stime


def main():
    tmp = tempfile.mkdtemp(prefix="pn-bench-")
    ctl = os.path.join(tmp, "pollnet.sock")
    pn = start([pollnet, "-l", "0-1", "--in-memory", "--no-pci", "--log-level=warning", "--",
                "--port", "dpdk:net_ring0", "--ip", "198.18.0.2/24", "--echo-port", "7",
                "--ctl", ctl])
    for _ in range(100):
        if os.path.exists(ctl):
            break
        time.sleep(0.1)
    servers = {
        "pollnet": (start([bench, "server", "pollnet", ctl, "9000"], cpu=0),
                    ["pollnet", ctl, "198.18.0.2", "9000"]),
        "kernel": (start([bench, "server", "kernel", "9001"], cpu=0),
                   ["kernel", "127.0.0.1", "9001"]),
        "kernel-mmsg": (start([bench, "server", "kernel-mmsg", "9002"], cpu=0),
                        ["kernel-mmsg", "127.0.0.1", "9002"]),
    }
    for name, (srv, _) in servers.items():
        if srv.stdout.readline().strip() != "ready":
            raise SystemExit("server %s did not start" % name)

    res = {"benchmark": "shm-sockets",
           "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"],
                                    capture_output=True, text=True).stdout.strip(),
           "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
           "cpu": next(l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                       if l.startswith("model name")),
           "cores": os.cpu_count(), "kernel": platform.release(),
           "topology": "pollnet control cpu0, lcore cpu1; clients and servers pinned to cpu0 (rtt *-own-cores: server on cpu1)",
           "stream": {}, "rtt": {}}

    counts = {"pollnet": 2000000, "kernel": 300000, "kernel-mmsg": 300000}
    for size in (64, 1472):
        for name, (srv, target) in servers.items():
            watch = [srv.pid] + ([pn.pid] if name == "pollnet" else [])
            before = {pid: cpu_seconds(pid) for pid in watch}
            c, client_cpu = run_client([bench, "stream"] + target + [str(counts[name]), str(size)], cpu=0)
            s = json.loads(srv.stdout.readline())
            cpu = client_cpu + sum(cpu_seconds(pid) - before[pid] for pid in watch)
            rate = s["received"] / (s["ns"] / 1e9)
            r = {"sent": c["sent"], "received": s["received"],
                 "loss_pct": round(100.0 * (c["sent"] - s["received"]) / c["sent"], 2),
                 "datagrams_per_s": round(rate),
                 "cpu_seconds": round(cpu, 3),
                 "datagrams_per_cpu_s": round(s["received"] / cpu) if cpu > 0 else None}
            res["stream"]["%s/%d" % (name, size)] = r
            print("stream %-12s %4d B: %9.0f dgram/s, %9.0f per cpu-s, loss %.2f%%" %
                  (name, size, rate, r["datagrams_per_cpu_s"] or 0, r["loss_pct"]), flush=True)

    # Round trips.  Two clients of one core each would need three cores
    # with pollnet's lcore: on 2 cores the pairs share cpu 0 (so every round
    # trip pays two context switches, for both transports), and a second
    # pair gives each side a core of its own: a client against pollnet's
    # built-in echo service (which runs on the lcore, cpu 1), and a kernel
    # client on cpu 0 against a kernel server on cpu 1.
    k1 = start([bench, "server", "kernel", "9003"], cpu=1)
    k1.stdout.readline()
    rtts = (("pollnet", ["pollnet", ctl, "198.18.0.2", "9000"]),
            ("kernel", ["kernel", "127.0.0.1", "9001"]),
            ("pollnet-own-cores", ["pollnet", ctl, "198.18.0.2", "7"]),
            ("kernel-own-cores", ["kernel", "127.0.0.1", "9003"]))
    for key, target in rtts:
        r, _ = run_client([bench, "rtt"] + target + ["50000", "64"], cpu=0)
        res["rtt"][key] = r
        print("rtt    %-18s p50 %6.2f us  p99 %6.2f us" % (key, r["p50_ns"] / 1e3, r["p99_ns"] / 1e3),
              flush=True)
    k1.terminate()

    st, rt = res["stream"], res["rtt"]
    best_kernel = max(st["kernel/64"]["datagrams_per_cpu_s"], st["kernel-mmsg/64"]["datagrams_per_cpu_s"])
    res["ratios"] = {
        "per_core_64B_vs_best_kernel": round(st["pollnet/64"]["datagrams_per_cpu_s"] / best_kernel, 2),
        "per_core_1472B_vs_best_kernel": round(st["pollnet/1472"]["datagrams_per_cpu_s"] /
                                               max(st["kernel/1472"]["datagrams_per_cpu_s"],
                                                   st["kernel-mmsg/1472"]["datagrams_per_cpu_s"]), 2),
        "rtt_p50_kernel_over_pollnet_shared_core": round(rt["kernel"]["p50_ns"] / rt["pollnet"]["p50_ns"], 2),
        "rtt_p50_kernel_over_pollnet_own_cores": round(rt["kernel-own-cores"]["p50_ns"] /
                                                       rt["pollnet-own-cores"]["p50_ns"], 2),
    }
    print(json.dumps(res["ratios"]))
    with open(out_json, "w") as f:
        json.dump(res, f, indent=2)
        f.write("\n")


try:
    main()
finally:
    for p in procs:
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
