#!/usr/bin/python3
"""Spoofed frames from a peer on the LAN must not hurt pollnet.

From the peer's namespace, over a veth (net_af_packet) or a tap (net_tap):
UDP to the echo port from pollnet's own address and from 127.0.0.1 (the
self-answering loop), echo requests from broadcast, multicast, loopback,
"this network", class E and our own address, frames with a group Ethernet
source, a datagram from port 0, ARP from impossible senders
(tests/integration/hostile.py).  Each must grow exactly its named counter
and draw no frame at all from pollnet; afterwards pollnet is idle (no local
traffic), answers ping, its books balance and its pool is back to 0.

usage: test_hostile.py POLLNET_BINARY [af_packet|tap]
"""
import json
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from netns import check, finish, Namespaces, Pollnet, need_root, sh  # noqa: E402
import hostile  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DUT_IP, PEER_IP, BCAST_IP = "198.18.0.2", "198.18.0.1", "198.18.0.255"


def main():
    need_root()
    binary = sys.argv[1]
    mode = sys.argv[2] if len(sys.argv) > 2 else "af_packet"
    net = Namespaces(peer_ip=PEER_IP + "/24", tap=mode == "tap")
    port = ("dpdk:net_tap0,iface=%s" % net.peer_if if mode == "tap" else
            "dpdk:net_af_packet0,iface=%s" % net.dut_if)
    pn = Pollnet(binary, net.dut, port, DUT_IP + "/24")
    dut_mac = re.search(r"mac ([0-9A-Fa-f:]{17})", pn.output()).group(1).lower()
    r = sh("ping", "-c", "2", "-i", "0.2", "-W", "2", DUT_IP, ns=net.peer, check=False)
    check(" 2 received" in r.stdout, "%s: pollnet answers ping before" % mode)

    before = pn.report()
    out = sh("/usr/bin/python3", os.path.join(HERE, "peer.py"), "hostile", json.dumps({
        "iface": net.peer_if, "our_mac": dut_mac, "our_ip": DUT_IP, "peer_ip": PEER_IP,
        "bcast_ip": BCAST_IP}), ns=net.peer, timeout=120).stdout
    res = json.loads(out.strip().splitlines()[-1])
    time.sleep(0.2)
    after = pn.report()
    cases = hostile.cases(dut_mac, DUT_IP, res["peer_mac"], PEER_IP, BCAST_IP)
    want = hostile.expected(cases)
    check(len(res["sent"]) == len(cases), "%s: the peer (%s) sent %d hostile frames to %s" %
          (mode, res["peer_mac"], len(res["sent"]), dut_mac))
    for counter, n in sorted(want.items()):
        got = after.get(counter, 0) - before.get(counter, 0)
        check(got == n, "%s: %s grew by %d (expected %d)" % (mode, counter, got, n))
    check(res["answers"] == [], "%s: pollnet answered none of them (%s)" %
          (mode, "; ".join(res["answers"]) or "no frame"))
    # nothing else was touched: the only other drops are this kernel's own
    # chatter, if any (none is expected on this quiet link)
    other = {k: after[k] - before[k] for k in after
             if (k.startswith("stack.rx_drop.") or k.startswith("stack.tx_drop."))
             and k not in want and after[k] != before[k]}
    check(other == {}, "%s: no other drop counter moved (%s)" % (mode, other or "none"))
    d = after["sock.echo.tx_drops"] - before["sock.echo.tx_drops"]
    check(d == 1, "%s: the echo service refused to answer port 0 (tx_drops +%d)" % (mode, d))

    # the loop the self-addressed datagram used to start: no local traffic,
    # no transmissions, a second later
    time.sleep(1)
    idle = pn.report()
    for k in ("stack.local_sent", "stack.tx_frames"):
        check(idle[k] == before[k], "%s: %s still %d a second later (%d)" %
              (mode, k, before[k], idle[k]))

    r = sh("ping", "-c", "3", "-i", "0.2", "-W", "2", DUT_IP, ns=net.peer, check=False)
    check(" 3 received" in r.stdout, "%s: pollnet answers ping after" % mode)
    counters, _ = pn.stop()
    check(counters["stack.rx_frames"] == counters["stack.rx_delivered"] +
          counters["stack.rx_answered"] + counters["stack.rx_dropped"] +
          counters["stack.rx_merged"],
          "%s: rx_frames %d == delivered + answered + dropped + merged" % (mode, counters["stack.rx_frames"]))
    check(counters["pool.in_use"] == 0, "%s: at exit every mbuf is back" % mode)
    finish(pn.log_path)


if __name__ == "__main__":
    main()
