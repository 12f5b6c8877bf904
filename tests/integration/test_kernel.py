#!/usr/bin/python3
"""pollnet against the Linux kernel, through a DPDK port on a veth pair.

The kernel in the peer namespace pings pollnet, resolves its MAC by ARP, is
answered by arping, exchanges UDP datagrams of every size from 1 to 1472
with the echo service, and sends crafted bad frames that must be counted
and dropped while the echo keeps working.  Then every counter is reconciled:
pollnet's against themselves, and against what the peer's kernel sent and
received.

usage: test_kernel.py POLLNET_BINARY [af_packet|tap|tap-interrupt|owntap|owntap-interrupt|multiqueue]
"""
import json
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from netns import check, finish, Namespaces, Pollnet, need_root, sh  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DUT_IP = "198.18.0.2"
PEER_IP = "198.18.0.1"


def peer(ns, action, **args):
    out = sh("/usr/bin/python3", os.path.join(HERE, "peer.py"), action,
             json.dumps(args), ns=ns, timeout=300).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    need_root()
    binary = sys.argv[1]
    mode = sys.argv[2] if len(sys.argv) > 2 else "af_packet"
    net = Namespaces(peer_ip=PEER_IP + "/24", tap="tap" in mode)
    lcores = "0-1"
    extra = []
    if mode == "tap":
        port = "dpdk:net_tap0,iface=%s" % net.peer_if
    elif mode == "tap-interrupt":
        # the lcore sleeps on net_tap's receive interrupt when idle
        port = "dpdk:net_tap0,iface=%s" % net.peer_if
        extra = ["--set", "dataplane.idle=interrupt"]
    elif mode in ("owntap", "owntap-interrupt"):
        # pollnet's own tap driver (the exception path's), on the same tap;
        # asleep on its queue's descriptor when idle in the second
        port = "tap:%s" % net.peer_if
        if mode == "owntap-interrupt":
            extra = ["--set", "dataplane.idle=interrupt"]
    elif mode == "af_packet":
        port = "dpdk:net_af_packet0,iface=%s" % net.dut_if
    elif mode == "multiqueue":
        # two data-plane lcores, each with its own queue pair
        port = "dpdk:net_af_packet0,iface=%s,qpairs=2" % net.dut_if
        lcores = "0@0,1@1,2@1"  # both workers share cpu 1 (2-core machines)
    else:
        raise SystemExit("unknown mode " + mode)

    tx0, rx0 = net.peer_counter("tx_packets"), net.peer_counter("rx_packets")
    pn = Pollnet(binary, net.dut, port, DUT_IP + "/24", lcores=lcores, extra=extra)
    dut_mac = re.search(r"mac ([0-9A-Fa-f:]{17})", pn.output()).group(1).lower()
    print("pollnet is up:", pn.output().strip().splitlines()[-1])

    # 1. ping: 5 of 5
    r = sh("ping", "-c", "5", "-i", "0.2", "-W", "2", DUT_IP, ns=net.peer, check=False)
    check(" 5 received" in r.stdout, "ping -c 5 gets 5 replies")

    # 2. the kernel resolved our MAC by ARP
    r = sh("ip", "neigh", "show", DUT_IP, "dev", net.peer_if, ns=net.peer)
    check(dut_mac in r.stdout.lower() and "FAILED" not in r.stdout,
          "kernel's ARP entry for %s is pollnet's MAC %s (%s)" % (DUT_IP, dut_mac, r.stdout.strip()))

    # 3. arping is answered
    r = sh("arping", "-c", "3", "-i", net.peer_if, DUT_IP, ns=net.peer, check=False, timeout=30)
    replies = len(re.findall(re.escape(dut_mac), r.stdout.lower()))
    check(replies == 3, "arping: 3 replies from %s (got %d)" % (dut_mac, replies))

    # 4. UDP echo, payload sizes 1 to 1472
    res = peer(net.peer, "echo_sweep", dst=DUT_IP, port=7, sizes=list(range(1, 1473)))
    check(res["sent"] == 1472 and not res["bad"],
          "UDP echo identical for sizes 1..1472 (bad: %s)" % res["bad"][:5])
    udp_ok = res["sent"] - len(res["bad"])

    # 5. crafted bad frames are counted and dropped...
    count = 3
    sent = peer(net.peer, "crafted", iface=net.peer_if, dst_ip=DUT_IP, dst_mac=dut_mac,
                src_ip=PEER_IP, count=count)
    # ...and the echo keeps working
    res = peer(net.peer, "echo_sweep", dst=DUT_IP, port=7, sizes=[1, 100, 1472] * 10)
    check(not res["bad"], "UDP echo still works after the bad frames")
    udp_ok += res["sent"] - len(res["bad"])

    # multi-queue: many flows, so both queues (and steering) see traffic
    if mode == "multiqueue":
        for sport in range(40000, 40032):
            res = peer(net.peer, "echo_sweep", dst=DUT_IP, port=7, sizes=[64] * 4, sport=sport)
            check(not res["bad"], "echo from source port %d" % sport)
            udp_ok += res["sent"] - len(res["bad"])

    # a libpollnet client, idle between datagrams, with pollnet's echo
    # (local delivery: no frame on the wire)
    local = 0
    if mode.endswith("tap-interrupt"):
        build = os.path.dirname(os.path.dirname(os.path.abspath(binary)))
        r = sh(os.path.join(build, "tests", "pn_client"), "idle", "/run/pollnet/pollnet.sock",
               DUT_IP, "7", "20", ns=net.dut, check=False, timeout=60)
        check(r.stdout.strip().endswith("idle ok 20"),
              "a client idle 50 ms between datagrams got each echo: %s" % r.stdout.strip())
        local = 20

    time.sleep(0.5)  # let the last frames land before counting
    tx1, rx1 = net.peer_counter("tx_packets"), net.peer_counter("rx_packets")
    c, out = pn.stop()
    print(out[out.find("pollnet: stopping"):])

    # 6. the counters reconcile
    dropped = c["stack.rx_dropped"]
    check(c["stack.rx_frames"] == c["stack.rx_delivered"] + c["stack.rx_answered"] + dropped +
          c["stack.rx_merged"], "rx_frames %d == delivered %d + answered %d + dropped %d + "
          "merged %d" % (c["stack.rx_frames"], c["stack.rx_delivered"], c["stack.rx_answered"],
                         dropped, c["stack.rx_merged"]))
    # DPDK 22.11's net_af_packet joins a PACKET_FANOUT group with
    # PACKET_FANOUT_FLAG_DEFRAG: the kernel holds IP fragments for
    # reassembly and these never complete, so pollnet never sees them.
    withheld = 2 * count if mode in ("af_packet", "multiqueue") else 0
    # the two pieces are of one datagram (ID 7) that never completes: the
    # first copy of each waits for the rest, the later ones are duplicates
    frags = 2 * count - withheld
    held = min(frags, 2)
    check(c["stack.frags_in"] == frags and c["stack.frags_held"] == held and
          c["stack.rx_merged"] == held and c["stack.rx_drop.frag_duplicate"] == frags - held,
          "fragments: %d in (got %d), %d held (%d), %d duplicates (%d)%s" %
          (frags, c["stack.frags_in"], held, c["stack.frags_held"], frags - held,
           c["stack.rx_drop.frag_duplicate"],
           " (af_packet: the kernel withholds fragments)" if withheld else ""))
    answered = 0
    for kind in sent:
        if kind.startswith("ip_fragment"):
            continue
        if kind == "udp_no_socket":
            # a closed port is answered with an ICMP port unreachable
            check(c["stack.icmp_unreach_sent"] == count and c["stack.rx_drop." + kind] == 0,
                  "closed port: %d port unreachables sent (got %d), none dropped (%d)" %
                  (count, c["stack.icmp_unreach_sent"], c["stack.rx_drop." + kind]))
            answered += count
            continue
        check(c["stack.rx_drop." + kind] == count, "%s == %d (got %d)" %
              (kind, count, c["stack.rx_drop." + kind]))
    expected_drops = count * len(sent) - withheld - answered - held
    check(dropped == expected_drops, "nothing else dropped: %d == %d" % (dropped, expected_drops))
    check(c["stack.icmp_echo_replies"] == 5, "5 echo replies")
    check(c["sock.echo.rx_pkts"] == udp_ok + local and c["sock.echo.tx_pkts"] == udp_ok + local,
          "echo socket: %d datagrams in and out (got %d/%d)" %
          (udp_ok + local, c["sock.echo.rx_pkts"], c["sock.echo.tx_pkts"]))
    check(c["port.rx_packets"] == c["stack.rx_frames"], "port rx == stack rx_frames")
    check(c["port.tx_packets"] == c["stack.tx_frames"], "port tx == stack tx_frames")
    check(tx1 - tx0 == c["port.rx_packets"] + withheld,
          "peer kernel sent %d, pollnet received %d%s" % (tx1 - tx0, c["port.rx_packets"],
          " + %d fragments withheld" % withheld if withheld else ""))
    check(rx1 - rx0 == c["port.tx_packets"], "pollnet sent %d, peer kernel received %d" %
          (c["port.tx_packets"], rx1 - rx0))
    check(c["stack.tx_dropped"] == 0, "no TX drops")
    check(c["pool.in_use"] == 0, "every mbuf back in the pool (in use: %d)" % c["pool.in_use"])
    # dataplane.idle_sleep (default on): the lcore napped between the
    # phases, and every count above is exact all the same
    if mode.endswith("tap-interrupt"):
        # ... or slept on the port's interrupt, and was woken by it; and a
        # client that sends to a dozing lcore rings its doorbell
        check(c["lcore0.bell_wakes"] >= 10,
              "a client's 20 datagrams after 50 ms of quiet each: the doorbell woke the "
              "lcore %d times (at least 10 wanted: a datagram sent while the lcore is "
              "awake needs none)" % c["lcore0.bell_wakes"])
        check(c["lcore0.sleeps"] > 0 and c["lcore0.irq_wakes"] > 0 and c["lcore0.naps"] == 0,
              "the idle lcore slept on the interrupt between the phases (%d sleeps, "
              "%d woken by a frame, %d naps)" % (c["lcore0.sleeps"], c["lcore0.irq_wakes"],
                                                  c["lcore0.naps"]))
    else:
        check(c["lcore0.naps"] > 0, "the idle lcore napped between the phases (%d naps)" %
              c["lcore0.naps"])
    if mode == "multiqueue":
        check(c["lcore0.rx_frames"] > 0 and c["lcore1.rx_frames"] > 0,
              "both lcores received (%d, %d)" % (c["lcore0.rx_frames"],
                                                 c["lcore1.rx_frames"]))
        check(c["stack.rx_steered"] > 0, "datagrams steered to the owner lcore: %d" %
              c["stack.rx_steered"])

    finish(pn.log_path)


if __name__ == "__main__":
    main()
