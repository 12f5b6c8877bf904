#!/usr/bin/python3
"""Threads and fork() on one socket under pollnet-run, against the kernel.

pr_races (plain socket calls) runs each case twice: on the kernel, in the
peer namespace, and under pollnet-run, in pollnet's; what each run prints
after "= " must be the same.  Cases that need pollnet held still (a full
send queue, which a kernel's UDP socket does not keep) run under pollnet-run
only, against what the kernel's semantics promise.  python3's socket module
does some of the same (preload_py.py), on the kernel and under pollnet-run.

libpollnet's own calls are tried the same way (pn_threads: a thread
blocked receiving, one blocked sending).

usage: test_preload_races.py POLLNET_BINARY BUILD_DIR [PRELOAD_LIB PR_RACES PN_THREADS]

With PRELOAD_LIB, PR_RACES and PN_THREADS (built with ThreadSanitizer) the C
cases under pollnet run with that library preloaded into that program (the
kernel's runs stay as they are), and any report of ThreadSanitizer's fails
the case.
"""
import os
import select
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from netns import (answers_ping, check, finish, kill_all, mbufs_back, Namespaces, Pollnet,  # noqa: E402
                   need_root, preload_env, sh)

HERE = os.path.dirname(os.path.abspath(__file__))
DUT_IP = "198.18.0.2"
PEER_IP = "198.18.0.1"
ECHO, SINK = 9100, 9109

BOTH = ["close-blocked", "fork-bind", "fork-connect", "loopback-peek", "resize-polled",
        "ioctl-cloexec"]
RX_TX = ["the blocked send returned once pollnet took the queue: yes",
         "the blocked receive returned when the datagram came: yes"]
POLLNET_ONLY = {
    "wake-rx-tx": RX_TX,
    "pollout-idle": ["poll(POLLIN) saw the datagram: yes",
                     "poll(POLLOUT) on a full queue timed out: yes",
                     "... and slept, using under 100 ms of CPU in 500: yes",
                     "epoll_wait(EPOLLOUT) on a full queue timed out: yes",
                     "... and slept, using under 100 ms of CPU in 500: yes",
                     "with pollnet back, poll(POLLOUT): writable"],
}
PY_BOTH = ["close_blocked", "fork_bind"]


def send_from_peer(net, dst, port, n=1, wait=True):
    code = ("import socket,time\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
            "for i in range(%d):\n"
            "    s.sendto(b'W%%d' %% i, ('%s', %d))\n"
            "    if i %% 16 == 15: time.sleep(0.0005)\n" % (n, dst, port))
    p = subprocess.Popen(["ip", "netns", "exec", net.peer, "/usr/bin/python3", "-c", code])
    if wait:
        p.wait(timeout=30)
    return p


def stop(proc):
    """SIGSTOP, and wait until every thread has stopped: an lcore on the
    other core goes on for a moment after kill() returns."""
    proc.send_signal(signal.SIGSTOP)
    deadline = time.time() + 5
    while time.time() < deadline:
        states = []
        for t in os.listdir("/proc/%d/task" % proc.pid):
            try:
                with open("/proc/%d/task/%s/stat" % (proc.pid, t)) as f:
                    states.append(f.read().rsplit(")", 1)[1].split()[0])
            except OSError:
                pass
        if states and all(st in ("T", "t") for st in states):
            return
        time.sleep(0.01)
    raise RuntimeError("pollnet did not stop")


def run_case(cmd, net, dst, pn=None, timeout=60):
    """Run cmd, answering its requests; its "= " lines and its whole output."""
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, bufsize=1)
    out, bg, buf = [], [], ""
    deadline = time.time() + timeout
    try:
        while True:
            left = deadline - time.time()
            if left <= 0:
                out.append("! timed out after %d s\n" % timeout)
                break
            if not select.select([p.stdout], [], [], left)[0]:
                continue
            chunk = os.read(p.stdout.fileno(), 4096).decode(errors="replace")
            if not chunk:
                break
            buf += chunk
            while "\n" in buf:
                line, buf = buf.split("\n", 1)
                out.append(line + "\n")
                word = line.split()
                if not word or word[0] not in ("STOP", "CONT", "SEND", "FLOOD"):
                    continue
                if word[0] == "STOP":
                    stop(pn.proc)
                elif word[0] == "CONT":
                    pn.proc.send_signal(signal.SIGCONT)
                elif word[0] == "SEND":
                    send_from_peer(net, dst, int(word[1]))
                else:
                    bg.append(send_from_peer(net, dst, int(word[1]), int(word[2]),
                                             wait=False))
                p.stdin.write("ok\n")
                p.stdin.flush()
    finally:
        if p.poll() is None:
            p.kill()
        p.wait()
        if pn is not None:
            pn.proc.send_signal(signal.SIGCONT)
        for b in bg:
            b.wait(timeout=30)
    return [ln[2:].strip() for ln in out if ln.startswith("= ")], "".join(out)


def main():
    need_root()
    binary, build = sys.argv[1], sys.argv[2]
    run = os.path.join(build, "client", "pollnet-run")
    prog = os.path.join(build, "tests", "pr_races")
    threads = os.path.join(build, "tests", "pn_threads")
    tmp = tempfile.mkdtemp(prefix="pn-races-")
    tsan = len(sys.argv) > 5
    prog_tsan = prog
    if tsan:
        lib, prog_tsan, threads = sys.argv[3], sys.argv[4], sys.argv[5]
        # close-blocked closes a descriptor another thread is receiving on:
        # that is the case, not a fault of ours
        supp = os.path.join(tmp, "tsan.supp")
        with open(supp, "w") as f:
            f.write("race_top:^close$\n")
        os.environ["TSAN_OPTIONS"] = "halt_on_error=1:suppressions=" + supp
    ctl = os.path.join(tmp, "pollnet.sock")
    os.environ["POLLNET_CTL"] = ctl
    net = Namespaces(peer_ip=PEER_IP + "/24")
    procs = []
    try:
        srv = subprocess.Popen(["ip", "netns", "exec", net.peer, "/usr/bin/python3",
                                os.path.join(HERE, "servers.py"), "9101", str(ECHO)],
                               stdout=subprocess.PIPE, text=True)
        procs.append(srv)
        check(srv.stdout.readline().strip() == "serving", "the kernel's echo server is up")
        procs.append(subprocess.Popen(["ip", "netns", "exec", net.peer, "socat", "-u",
                                       "UDP4-RECV:%d" % SINK, "/dev/null"]))
        pn = Pollnet(binary, net.dut, "dpdk:net_af_packet0,iface=%s" % net.dut_if,
                     DUT_IP + "/24", extra=["--ctl", ctl])
        answers_ping(net, DUT_IP)
        args = [PEER_IP, str(ECHO), str(SINK)]
        kernel = ["ip", "netns", "exec", net.peer, prog]
        under = ["ip", "netns", "exec", net.dut] + (
            ["env", "LD_PRELOAD=" + lib, prog_tsan] if tsan else ["sh", run, prog])
        only = os.environ.get("PN_RACES", "").split(",")    # by hand: some cases

        def chosen(case):
            return only == [""] or case in only

        for case in filter(chosen, BOTH):
            before = pn.report()
            want, kout = run_case(kernel + [case] + args, net, PEER_IP)
            got, out = run_case(under + [case] + args, net, DUT_IP, pn)
            check(want and got == want, "%s: under pollnet-run as on the kernel:\n      %s%s" %
                  (case, "\n      ".join(want or [kout[-500:]]),
                   "" if got == want else "\n    pollnet-run:\n      " +
                   "\n      ".join(got or [out[-800:]])))
            if tsan:
                check("ThreadSanitizer" not in out, "%s: no report of ThreadSanitizer's%s" %
                      (case, "" if "ThreadSanitizer" not in out else ":\n" + out[-3000:]))
            if case == "loopback-peek":
                after = pn.report()
                full = sum(after.get(k, 0) - before.get(k, 0) for k in
                           ("stack.rx_drop.udp_ring_full", "stack.local_ring_full"))
                check(full == 0, "loopback-peek: no datagram found the ring full (%d)" % full)
        for case, want in list(POLLNET_ONLY.items()) + [("libpollnet", RX_TX)]:
            if not chosen(case):
                continue
            cmd = under + [case] + args if case != "libpollnet" else \
                ["ip", "netns", "exec", net.dut, threads, PEER_IP, str(SINK)]
            got, out = run_case(cmd, net, DUT_IP, pn)
            check(got == want, "%s under pollnet-run:\n      %s%s" %
                  (case, "\n      ".join(want), "" if got == want else
                   "\n    got:\n      " + "\n      ".join(got or [out[-800:]])))
            if tsan:
                check("ThreadSanitizer" not in out, "%s: no report of ThreadSanitizer's%s" %
                      (case, "" if "ThreadSanitizer" not in out else ":\n" + out[-3000:]))
            extra = [ln.strip() for ln in out.splitlines() if ln.startswith("# ")]
            if extra:
                print("    " + "; ".join(extra))
        # python3's socket module, the same cases
        py = os.path.join(HERE, "preload_py.py")
        py_env = preload_env(build, dict(os.environ))
        for case in filter(chosen, [] if tsan else PY_BOTH):
            k = sh("/usr/bin/python3", py, case, PEER_IP, str(ECHO), ns=net.peer, check=False,
                   timeout=60)
            u = sh("sh", run, "/usr/bin/python3", py, case, PEER_IP, str(ECHO), ns=net.dut,
                   check=False, timeout=60, env=py_env)
            kl = [ln for ln in k.stdout.splitlines() if ln.startswith("ok ")]
            ul = [ln for ln in u.stdout.splitlines() if ln.startswith("ok ")]
            check(k.returncode == 0 and kl, "python3 %s on the kernel:\n      %s" %
                  (case, "\n      ".join(kl) or k.stdout[-500:]))
            check(u.returncode == 0 and ul == kl, "python3 %s under pollnet-run, the same%s" %
                  (case, "" if u.returncode == 0 and ul == kl else ":\n" + u.stdout[-1500:]))
        mbufs_back(pn)
    finally:
        kill_all(procs)
    finish()


if __name__ == "__main__":
    main()
