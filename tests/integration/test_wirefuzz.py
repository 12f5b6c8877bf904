#!/usr/bin/python3
"""Random and mutated frames at a running pollnet, from a peer.

From the peer's namespace over a veth (net_af_packet) or a tap (net_tap):
100,000 frames,
scapy's fuzz() of Ethernet, ARP, IPv4, UDP, TCP, ICMP and 802.1Q, then
mutated byte by byte (tests/integration/peer.py wirefuzz).  Afterwards
pollnet is alive, answers ping, every frame the peer sent is in exactly one
of its counters, and at exit its pool is back to 0.

On a tap, what the kernel sends on it either reaches pollnet or is its
tx_dropped (port.rx_missed): exact.  On a veth, the kernel's receive path
stands between the wire and pollnet's sockets: fragments go to its
reassembly (port.rx_frags_held, for net_af_packet's DEFRAG), a full backlog
or ring drops (port.rx_missed); and 802.1Q frames are the kernel's to
mangle: a header cut short is dropped with no counter anywhere, a tag of
VLAN 0 with another behind it goes round its receive path twice and reaches
packet sockets twice.  The peer counts the 802.1Q frames it sent, and the
difference must stay within that.  The suite runs this against the gcc
build and the ASan/UBSan build: under the sanitizers any report kills
pollnet, and the test fails.

usage: test_wirefuzz.py POLLNET_BINARY [af_packet|tap [FRAMES [SEED]]]
"""
import json
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from netns import check, finish, Namespaces, Pollnet, need_root, sh  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DUT_IP, PEER_IP = "198.18.0.2", "198.18.0.1"


def main():
    need_root()
    binary = sys.argv[1]
    mode = sys.argv[2] if len(sys.argv) > 2 else "af_packet"
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 100000
    seed = int(sys.argv[4]) if len(sys.argv) > 4 else int(time.time())
    net = Namespaces(peer_ip=PEER_IP + "/24", tap=mode == "tap")
    port = ("dpdk:net_tap0,iface=%s" % net.peer_if if mode == "tap" else
            "dpdk:net_af_packet0,iface=%s" % net.dut_if)
    pn = Pollnet(binary, net.dut, port, DUT_IP + "/24")
    dut_mac = re.search(r"mac ([0-9A-Fa-f:]{17})", pn.output()).group(1).lower()
    def peer_sent():
        # a tap counts what pollnet read as tx_packets and the rest as
        # tx_dropped; a veth counts all it sent as tx_packets
        n = net.peer_counter("tx_packets")
        return n + net.peer_counter("tx_dropped") if mode == "tap" else n

    before, tx0 = pn.report(), peer_sent()
    t0 = time.time()
    out = sh("/usr/bin/python3", os.path.join(HERE, "peer.py"), "wirefuzz", json.dumps({
        "iface": net.peer_if, "our_mac": dut_mac, "our_ip": DUT_IP, "peer_ip": PEER_IP,
        "count": count, "seed": seed}), ns=net.peer, timeout=300).stdout
    res = json.loads(out.strip().splitlines()[-1])
    took = time.time() - t0
    check(res["sent"] == count, "%s: the peer sent %d fuzzed frames in %.0f s (seed %d, %d "
          "templates)" % (mode, res["sent"], took, seed, res["templates"]))
    time.sleep(1)
    check(pn.alive(), "pollnet is alive")
    after, tx1 = pn.report(), peer_sent()
    d = {k: after[k] - before[k] for k in after if k in before}
    peer_tx = tx1 - tx0
    seen = d["port.rx_packets"] + d["port.rx_missed"] + d["port.rx_frags_held"]
    if mode == "tap":
        check(peer_tx == seen, "every frame sent on the tap (%d) is port rx %d + missed %d" %
              (peer_tx, d["port.rx_packets"], d["port.rx_missed"]))
    else:
        off = peer_tx - seen
        check(abs(off) <= res["vlan"],
              "every frame the peer sent (%d) is port rx %d + missed %d + fragments held %d, "
              "give or take the kernel's handling of 802.1Q frames: %+d (of %d sent)" %
              (peer_tx, d["port.rx_packets"], d["port.rx_missed"], d["port.rx_frags_held"],
               off, res["vlan"]))
    check(d["port.rx_packets"] == d["stack.rx_frames"], "all that pollnet read reached the stack")
    check(after["stack.rx_frames"] == after["stack.rx_delivered"] + after["stack.rx_answered"] +
          after["stack.rx_dropped"] + after["stack.rx_merged"],
          "rx_frames %d == delivered %d + answered %d + dropped %d + merged %d" %
          (after["stack.rx_frames"], after["stack.rx_delivered"], after["stack.rx_answered"],
           after["stack.rx_dropped"], after["stack.rx_merged"]))
    top = sorted(((v, k[len("stack.rx_drop."):]) for k, v in d.items()
                  if k.startswith("stack.rx_drop.") and v), reverse=True)
    print("where they went: delivered %d, answered %d; drops: %s" % (
        d["stack.rx_delivered"], d["stack.rx_answered"],
        ", ".join("%s %d" % (k, v) for v, k in top)))
    r = sh("ping", "-c", "3", "-i", "0.2", "-W", "2", DUT_IP, ns=net.peer, check=False)
    check(" 3 received" in r.stdout, "pollnet answers ping afterwards")
    counters, log = pn.stop()
    check(counters["pool.in_use"] == 0, "at exit every mbuf is back")
    check("runtime error" not in log and "Sanitizer" not in log, "no sanitizer report")
    finish(pn.log_path)


if __name__ == "__main__":
    main()
