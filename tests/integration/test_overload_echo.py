#!/usr/bin/python3
"""A Python echo server under pollnet-run, flooded: its sends never stall.

pollnet runs on a veth (net_af_packet); the kernel's iperf (2) in the peer
namespace sends UDP datagrams to a Python echo server under pollnet-run,
as fast as it goes, far more than the server can take.  The server's socket
has a 0.5 s timeout (settimeout), and it echoes every datagram it gets.
Receiving may time out (nothing came); sending must not: a UDP send on the
kernel does not stall for half a second, however much arrives meanwhile,
so a send on pollnet must not either.  pollnet has to go on taking what
the server sends while the port floods it, and wake the server when it
made room.  Two ways to fail: the send times out (socket.timeout: pollnet
made no room for 0.5 s), or it succeeds only after waiting its whole
timeout (the wake-up was lost: Python's poll() under pollnet-run looks at
the rings once more at its deadline, and finds the room made long before).

Each run, every datagram is accounted for:

    peer tx_packets      == port.rx_packets + port.rx_missed
    stack.rx_frames      == rx_delivered + rx_answered + every rx_drop
    the socket's rx_datagrams == what the server received (it reads until
                            its ring is empty), its rx_drops == udp_ring_full
    iperf's datagrams    <= received + ring full + missed + other drops
    the server's sends   == the socket's tx_datagrams + tx_drops

and the server was overloaded (its receive ring overflowed).  The longest
send is printed for the record.

usage: test_overload_echo.py POLLNET_BINARY BUILD_DIR
"""
import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from netns import (answers_ping, check, finish, frames_accounted, Namespaces, Pollnet,  # noqa: E402
                   preload_setup, sh)

HERE = os.path.dirname(os.path.abspath(__file__))
DUT_IP, PEER_IP = "198.18.0.2", "198.18.0.1"
PORT = 9300
RUNS = int(os.environ.get("PN_OVERLOAD_ECHO_RUNS", "3"))
SECS = 5             # iperf's time
LEN = 200            # bytes a datagram: iperf offers about twice what the
                     # server takes, and the server's sends fill its ring


def sock_entry(ctlbin, stats, port):
    js = json.loads(sh(ctlbin, "--stats", stats, "sockets", "--json").stdout)
    mine = [e for e in js if e["local_port"] == port]
    return mine[0] if len(mine) == 1 else None


def one_run(i, net, pn, run, env, ctlbin, stats):
    what = "run %d" % i
    before, tx0 = pn.report(), net.peer_counter("tx_packets")
    srv = subprocess.Popen(["ip", "netns", "exec", net.dut, "sh", run, "/usr/bin/python3",
                            os.path.join(HERE, "echo_timeout.py"), str(PORT), "1.0",
                            str(SECS + 30)],
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, env=env)
    try:
        line = srv.stdout.readline()
        check(line.strip() == "ready %d" % PORT, "%s: the echo server is up on pollnet: %r" %
              (what, line))
        r = sh("iperf", "-u", "-c", DUT_IP, "-p", str(PORT), "-l", str(LEN), "-b", "1000M",
               "-t", str(SECS), ns=net.peer, check=False, timeout=SECS + 30)
        m = re.search(r"Sent (\d+) datagrams", r.stdout)
        check(m is not None, "%s: iperf sent its datagrams (%s)" %
              (what, m.group(0) if m else r.stdout[-300:]))
        iperf_sent = int(m.group(1)) if m else 0
        line = srv.stdout.readline()
        done = dict(re.findall(r"(\w+)=(\S+)", line))
        check(line.startswith("done "), "%s: the server read its ring empty: %r" % (what, line))
        time.sleep(0.3)         # pollnet publishes the socket table every 100 ms
        ent = sock_entry(ctlbin, stats, PORT)
        after, tx1 = pn.report(), net.peer_counter("tx_packets")
    finally:
        if srv.poll() is None:
            srv.stdin.write("\n")
            srv.stdin.flush()
        try:
            srv.wait(timeout=10)
        except subprocess.TimeoutExpired:
            srv.kill()
            srv.wait()

    d = {k: after[k] - before[k] for k in after if k in before}
    peer_tx = tx1 - tx0
    received, sent = int(done.get("received", -1)), int(done.get("sent", -1))
    other = {k[len("stack.rx_drop."):]: v for k, v in d.items()
             if k.startswith("stack.rx_drop.") and v and k != "stack.rx_drop.udp_ring_full"}
    print("%s: iperf sent %d; the port got %d, the kernel missed %d; the server received %d, "
          "its ring full %d, other drops %s; it sent %d (longest %s ms); pollnet tx %d, "
          "tx drops %s" % (
              what, iperf_sent, d["port.rx_packets"], d["port.rx_missed"], received,
              d.get("stack.rx_drop.udp_ring_full", 0), other, sent,
              done.get("longest_send_ms"), d["stack.tx_frames"],
              {k[len("stack.tx_drop."):]: v for k, v in d.items()
               if k.startswith("stack.tx_drop.") and v}), flush=True)

    check(done.get("send_timeouts") == "0",
          "%s: no send timed out (%s of %d; the longest took %s ms)" %
          (what, done.get("send_timeouts"), received, done.get("longest_send_ms")))
    check(done.get("sends_whole_timeout") == "0",
          "%s: no send waited out its whole timeout (%s: a wake-up lost)" %
          (what, done.get("sends_whole_timeout")))
    check(done.get("send_errors") == "0", "%s: no send failed (%s%s)" %
          (what, done.get("send_errors"), " " + done["first_error"]
           if "first_error" in done else ""))
    frames_accounted(what, d, peer_tx)
    check(d.get("stack.rx_drop.udp_ring_full", 0) > 0,
          "%s: overloaded: the server's receive ring overflowed (%d datagrams dropped)" %
          (what, d.get("stack.rx_drop.udp_ring_full", 0)))
    check(ent is not None and ent["rx_datagrams"] == received and
          ent["rx_drops"] == d.get("stack.rx_drop.udp_ring_full", 0),
          "%s: the socket delivered what the server received (%s == %d) and dropped what "
          "found its ring full (%s == %d)" %
          (what, ent and ent["rx_datagrams"], received, ent and ent["rx_drops"],
           d.get("stack.rx_drop.udp_ring_full", 0)))
    accounted = received + d.get("stack.rx_drop.udp_ring_full", 0) + d["port.rx_missed"] + \
        sum(other.values())
    # (iperf 2's count is one more than the datagrams it sends)
    check(0 < iperf_sent - 1 <= accounted <= peer_tx,
          "%s: iperf's %d datagrams <= received + ring full + missed + other drops (%d) "
          "<= the frames the peer sent (%d)" % (what, iperf_sent - 1, accounted, peer_tx))
    check(ent is not None and sent >= 0 and ent["tx_datagrams"] + ent["tx_drops"] == sent and
          ent["tx_queued"] == 0,
          "%s: what the server sent, pollnet took: %d == tx %s + tx drops %s (queued %s)" %
          (what, sent, ent and ent["tx_datagrams"], ent and ent["tx_drops"],
           ent and ent["tx_queued"]))


def main():
    binary, build, run, tmp, ctl, stats, env = preload_setup("pn-overecho-")
    ctlbin = os.path.join(build, "app", "pollnetctl")
    net = Namespaces(peer_ip=PEER_IP + "/24")
    pn = Pollnet(binary, net.dut, "dpdk:net_af_packet0,iface=%s" % net.dut_if,
                 DUT_IP + "/24", extra=["--ctl", ctl, "--stats", stats])
    answers_ping(net, DUT_IP)
    for i in range(1, RUNS + 1):
        one_run(i, net, pn, run, env, ctlbin, stats)
    check(pn.alive(), "pollnet is still running")
    counters, _ = pn.stop()
    check(counters.get("pool.in_use", -1) == 0, "at exit every mbuf is back")
    finish(pn.log_path)


if __name__ == "__main__":
    main()
