#!/usr/bin/python3
"""Multicast group membership, written down: what a program and a router see.

usage: mcast_cases.py cases PEER_IP PEER_PORT IFNAME
       mcast_cases.py peer PORT SECONDS IFNAME

`cases` joins and leaves groups (IP_ADD_MEMBERSHIP, the source-specific
options, IP_MULTICAST_ALL, IP_MULTICAST_LOOP), has the peer send to them
and query them as an IGMP querier would, and prints one line per
observation: a call's result or errno, what each socket received, and the
IGMP messages the peer heard (their records, each once: a host repeats a
report, and when is its business).  Nothing in it differs from one run to
the next: run on the kernel's sockets and under pollnet-run, the two
transcripts must be equal.

`peer` runs on the other host: bound to its interface IFNAME, it answers
requests (JSON) on PORT: {"send": GROUP, "port": P} sends b"to GROUP" there;
{"query": GROUP or "0.0.0.0", "v": 2 or 3} sends an IGMP query (max
response 1 s) to the group or all hosts; {"heard": 1} returns the IGMP
messages it heard since the last time it was asked.
"""
import errno
import json
import select
import socket
import struct
import sys
import time

G1, G2, G3 = "239.1.2.3", "232.1.1.1", "239.7.7.7"
IP_MULTICAST_ALL = 49
IP_ADD_SOURCE_MEMBERSHIP, IP_DROP_SOURCE_MEMBERSHIP = 39, 40
IP_BLOCK_SOURCE, IP_UNBLOCK_SOURCE = 38, 37
SO_BINDTODEVICE = 25
SETTLE = 2.5            # a change's reports (and their repeats) all sent


def out(*what):
    print(*what, flush=True)


def res(f):
    try:
        r = f()
        return "ok" if r is None else repr(r)
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))


def cksum(b):
    s = sum((b[i] << 8) + (b[i + 1] if i + 1 < len(b) else 0) for i in range(0, len(b), 2))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def parse_igmp(pkt):
    """An IGMP message (the IP header in front) as text lines."""
    ihl = (pkt[0] & 15) * 4
    src = socket.inet_ntoa(pkt[12:16])
    m = pkt[ihl:struct.unpack("!H", pkt[2:4])[0]]
    if len(m) < 8:
        return []
    t = m[0]
    if t == 0x22:
        lines, n, off = [], struct.unpack("!H", m[6:8])[0], 8
        for _ in range(n):
            rt, aux, ns = m[off], m[off + 1], struct.unpack("!H", m[off + 2:off + 4])[0]
            g = socket.inet_ntoa(m[off + 4:off + 8])
            srcs = sorted(socket.inet_ntoa(m[off + 8 + 4 * i:off + 12 + 4 * i]) for i in range(ns))
            lines.append("v3 report from %s: %s %s %s" % (
                src, g, {1: "MODE_IS_INCLUDE", 2: "MODE_IS_EXCLUDE",
                                                 3: "CHANGE_TO_INCLUDE", 4: "CHANGE_TO_EXCLUDE",
                                                 5: "ALLOW_NEW_SOURCES",
                                                 6: "BLOCK_OLD_SOURCES"}.get(rt, rt), srcs))
            off += 8 + 4 * ns + 4 * aux
        return lines
    if t in (0x16, 0x17):
        return ["v2 %s from %s: %s to %s" % ("report" if t == 0x16 else "leave", src,
                                             socket.inet_ntoa(m[4:8]),
                                             socket.inet_ntoa(pkt[16:20]))]
    return []


def peer(port, seconds, ifname):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, SO_BINDTODEVICE, ifname.encode())
    s.bind(("0.0.0.0", port))
    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_IGMP)
    raw.setsockopt(socket.SOL_SOCKET, SO_BINDTODEVICE, ifname.encode())
    idx = socket.if_nametoindex(ifname)
    raw.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF,
                   struct.pack("4s4si", b"\0" * 4, b"\0" * 4, idx))
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF,
                 struct.pack("4s4si", b"\0" * 4, b"\0" * 4, idx))
    # what the interface carries (a group report goes to a group this host
    # has not joined: a packet socket sees it, an IGMP one would not)
    sniff = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(0x0800))
    sniff.bind((ifname, 0x0800))
    heard = []
    end = time.time() + seconds
    while time.time() < end:
        r, _, _ = select.select([s, sniff], [], [], 0.5)
        if sniff in r:
            pkt, sll = sniff.recvfrom(65536)
            if sll[2] != socket.PACKET_OUTGOING and len(pkt) >= 20 and pkt[9] == 2:
                for line in parse_igmp(pkt):
                    heard.append((socket.inet_ntoa(pkt[12:16]), line))
        if s not in r:
            continue
        data, frm = s.recvfrom(4096)
        req = json.loads(data)
        if "send" in req:
            s.sendto(("to " + req["send"]).encode(), (req["send"], req["port"]))
            s.sendto(b"sent", frm)
        elif "query" in req:
            g = req["query"]
            if req["v"] == 3:
                q = bytearray(struct.pack("!BBH4sBBH", 0x11, 10, 0, socket.inet_aton(g), 2, 125, 0))
            else:
                q = bytearray(struct.pack("!BBH4s", 0x11, 10, 0, socket.inet_aton(g)))
            q[2:4] = struct.pack("!H", cksum(q))
            raw.sendto(bytes(q), ("224.0.0.1" if g == "0.0.0.0" else g, 0))
            s.sendto(b"queried", frm)
        elif "heard" in req:
            seen = sorted({line.replace("from " + frm[0], "from us") for src, line in heard
                           if src == frm[0]})
            heard = []
            s.sendto(json.dumps(seen).encode(), frm)


def ask(c, req):
    c.sendto(json.dumps(req).encode(), PEER)
    c.settimeout(3)
    return c.recv(65536)


def heard(c, what):
    out(what, "-> the peer heard:")
    for line in json.loads(ask(c, {"heard": 1})):
        out("   ", line)


def got(socks):
    """What each socket received in the next half second."""
    time.sleep(0.3)
    r = []
    for name, k in socks:
        k.settimeout(0.2)
        try:
            data, frm = k.recvfrom(4096)
            r.append("%s %r from %s" % (name, data, "the peer" if frm[0] == PEER[0] else frm[0]))
        except socket.timeout:
            r.append("%s nothing" % name)
    return ", ".join(r)


def mreq(g, iface):
    return struct.pack("4s4s", socket.inet_aton(g), socket.inet_aton(iface))


def mreq_src(g, iface, src):
    return struct.pack("4s4s4s", socket.inet_aton(g), socket.inet_aton(iface),
                       socket.inet_aton(src))


def cases():
    ip = socket.IPPROTO_IP
    c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    port = 9400
    a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for k in (a, b):
        k.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        k.bind(("0.0.0.0", port))
    ask(c, {"heard": 1})
    out("IP_MULTICAST_ALL by default:", a.getsockopt(ip, IP_MULTICAST_ALL))
    out("join 10.1.2.3 (no group):", res(lambda: a.setsockopt(ip, socket.IP_ADD_MEMBERSHIP,
                                                              mreq("10.1.2.3", MY_IP))))
    out("join G1 on 0.0.0.0 (no route to it):",
        res(lambda: a.setsockopt(ip, socket.IP_ADD_MEMBERSHIP, mreq(G1, "0.0.0.0"))))
    out("join G1 on 198.51.100.1 (no such interface):",
        res(lambda: a.setsockopt(ip, socket.IP_ADD_MEMBERSHIP, mreq(G1, "198.51.100.1"))))
    out("join G1 with 7 bytes:", res(lambda: a.setsockopt(ip, socket.IP_ADD_MEMBERSHIP,
                                                          mreq(G1, MY_IP)[:7])))
    out("drop G1, not joined:", res(lambda: a.setsockopt(ip, socket.IP_DROP_MEMBERSHIP,
                                                         mreq(G1, MY_IP))))
    out("join G1 on our address:", res(lambda: a.setsockopt(ip, socket.IP_ADD_MEMBERSHIP,
                                                            mreq(G1, MY_IP))))
    out("join G1 again:", res(lambda: a.setsockopt(ip, socket.IP_ADD_MEMBERSHIP,
                                                   mreq(G1, MY_IP))))
    time.sleep(SETTLE)
    heard(c, "joined G1")
    ask(c, {"send": G1, "port": port})
    out("the peer sent to G1:", got([("a (member)", a), ("b (same port, not a member)", b)]))
    b.setsockopt(ip, IP_MULTICAST_ALL, 0)
    ask(c, {"send": G1, "port": port})
    out("b IP_MULTICAST_ALL 0, the peer sent to G1:", got([("a", a), ("b", b)]))
    ask(c, {"send": G3, "port": port})
    out("the peer sent to G3 (no one joined):", got([("a", a), ("b", b)]))
    # a source kept out, then let in again
    out("unblock the peer on G1, not blocked:",
        res(lambda: a.setsockopt(ip, IP_UNBLOCK_SOURCE, mreq_src(G1, MY_IP, PEER[0]))))
    out("block the peer on G1:",
        res(lambda: a.setsockopt(ip, IP_BLOCK_SOURCE, mreq_src(G1, MY_IP, PEER[0]))))
    out("block it again:",
        res(lambda: a.setsockopt(ip, IP_BLOCK_SOURCE, mreq_src(G1, MY_IP, PEER[0]))))
    time.sleep(SETTLE)
    heard(c, "blocked the peer on G1")
    ask(c, {"send": G1, "port": port})
    out("the peer sent to G1:", got([("a", a)]))
    out("unblock it:",
        res(lambda: a.setsockopt(ip, IP_UNBLOCK_SOURCE, mreq_src(G1, MY_IP, PEER[0]))))
    time.sleep(SETTLE)
    heard(c, "unblocked")
    ask(c, {"send": G1, "port": port})
    out("the peer sent to G1:", got([("a", a)]))
    out("add a source to G1 (EXCLUDE, with a list once):",
        res(lambda: a.setsockopt(ip, IP_ADD_SOURCE_MEMBERSHIP, mreq_src(G1, MY_IP, PEER[0]))))
    # a source added to a plain join that never had one: INCLUDE from then
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("0.0.0.0", port + 2))
    u.setsockopt(ip, socket.IP_ADD_MEMBERSHIP, mreq(G3, MY_IP))
    time.sleep(SETTLE)
    ask(c, {"heard": 1})
    out("add a source to a plain join of G3:",
        res(lambda: u.setsockopt(ip, IP_ADD_SOURCE_MEMBERSHIP, mreq_src(G3, MY_IP, PEER[0]))))
    out("then block one:",
        res(lambda: u.setsockopt(ip, IP_BLOCK_SOURCE, mreq_src(G3, MY_IP, PEER[0]))))
    time.sleep(SETTLE)
    heard(c, "G3 became source-specific")
    u.close()
    time.sleep(SETTLE)
    heard(c, "closed the G3 socket")
    # source-specific
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", port + 1))
    out("block on G2, not joined:",
        res(lambda: s.setsockopt(ip, IP_BLOCK_SOURCE, mreq_src(G2, MY_IP, PEER[0]))))
    # two changes back to back (printed after: one report tells both)
    first = res(lambda: s.setsockopt(ip, IP_ADD_SOURCE_MEMBERSHIP, mreq_src(G2, MY_IP, PEER[0])))
    second = res(lambda: s.setsockopt(ip, IP_ADD_SOURCE_MEMBERSHIP,
                                      mreq_src(G2, MY_IP, "198.18.0.77")))
    out("join G2 for the peer only:", first)
    out("join G2 for 198.18.0.77 too:", second)
    out("join G2 plainly:", res(lambda: s.setsockopt(ip, socket.IP_ADD_MEMBERSHIP,
                                                     mreq(G2, MY_IP))))
    out("a source option of 8 bytes:",
        res(lambda: s.setsockopt(ip, IP_ADD_SOURCE_MEMBERSHIP, mreq(G2, MY_IP))))
    time.sleep(SETTLE)
    heard(c, "joined G2 for two sources")
    ask(c, {"send": G2, "port": port + 1})
    out("the peer sent to G2:", got([("s", s)]))
    out("drop 198.18.0.77:",
        res(lambda: s.setsockopt(ip, IP_DROP_SOURCE_MEMBERSHIP,
                                 mreq_src(G2, MY_IP, "198.18.0.77"))))
    out("drop it again:",
        res(lambda: s.setsockopt(ip, IP_DROP_SOURCE_MEMBERSHIP,
                                 mreq_src(G2, MY_IP, "198.18.0.77"))))
    time.sleep(SETTLE)
    heard(c, "dropped a source")
    # the querier: a general query, then one for G2
    ask(c, {"query": "0.0.0.0", "v": 3})
    time.sleep(1.5)
    heard(c, "a v3 general query")
    ask(c, {"query": G2, "v": 3})
    time.sleep(1.5)
    heard(c, "a v3 query for G2")
    # our own datagrams to a group we joined, looped back or not
    t = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    t.setsockopt(ip, socket.IP_MULTICAST_IF, socket.inet_aton(MY_IP))
    t.sendto(b"ours", (G1, port))
    out("we sent to G1 (loop on):", got([("a", a), ("b", b)]))
    t.setsockopt(ip, socket.IP_MULTICAST_LOOP, 0)
    t.sendto(b"ours", (G1, port))
    out("we sent to G1 (loop off):", got([("a", a), ("b", b)]))
    t.close()
    # leaving: a socket's groups go with it
    out("drop G1:", res(lambda: a.setsockopt(ip, socket.IP_DROP_MEMBERSHIP, mreq(G1, MY_IP))))
    time.sleep(SETTLE)
    heard(c, "dropped G1")
    s.close()
    time.sleep(SETTLE)
    heard(c, "closed the G2 socket")
    # a v2 querier: the host answers in v2 from then on
    a.setsockopt(ip, socket.IP_ADD_MEMBERSHIP, mreq(G3, MY_IP))
    time.sleep(SETTLE)
    ask(c, {"heard": 1})
    ask(c, {"query": "0.0.0.0", "v": 2})
    time.sleep(1.5)
    heard(c, "a v2 general query")
    out("drop G3:", res(lambda: a.setsockopt(ip, socket.IP_DROP_MEMBERSHIP, mreq(G3, MY_IP))))
    time.sleep(SETTLE)
    heard(c, "dropped G3 (v2)")
    a.close()
    b.close()


def main():
    global PEER, MY_IP
    if sys.argv[1] == "peer":
        peer(int(sys.argv[2]), float(sys.argv[3]), sys.argv[4])
        return
    PEER = (sys.argv[2], int(sys.argv[3]))
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    probe.connect(PEER)
    MY_IP = probe.getsockname()[0]
    probe.close()
    out("## cases")
    cases()
    out("## end")


if __name__ == "__main__":
    main()
