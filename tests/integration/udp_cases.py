#!/usr/bin/python3
"""UDP socket semantics, written down: what a program sees.

usage: udp_cases.py cases PEER_IP REFLECTOR_PORT IFNAME
       udp_cases.py reflect PORT SECONDS IFNAME

`cases` runs every case on the host's sockets and prints one line per
observation (a call's result or errno, an option's value, what the peer
saw, the control messages received), with nothing in them that differs
from one run to the next (ports, times): run on the kernel's sockets and
under pollnet-run, the two transcripts must be equal.  IFNAME is the
interface with this host's address.

`reflect` (on the peer, bound to its interface IFNAME) answers each
datagram with a JSON report of what its kernel saw: the source, the address
it was sent to, the TOS and TTL; a request {"tos": T, "ttl": L} is answered
with those in the reply's IP header; {"bcast": ADDR, "port": P} first
sends b"bcast" to ADDR:P (SO_BROADCAST).
"""
import errno
import fcntl
import json
import os
import select
import socket
import struct
import sys
import time

IP_PKTINFO, IP_RECVTTL, IP_RECVTOS, IP_MTU_DISCOVER, IP_MTU = 8, 12, 13, 10, 14
IP_RECVERR = 11
GROUP = "239.1.2.3"             # the reflector's
SO_TIMESTAMP, SO_TIMESTAMPNS, SO_BINDTODEVICE = 29, 35, 25
SIOCGIFNAME, SIOCGIFCONF, SIOCGIFFLAGS, SIOCGIFADDR = 0x8910, 0x8912, 0x8913, 0x8915
SIOCGIFBRDADDR, SIOCGIFNETMASK, SIOCGIFMTU, SIOCGIFHWADDR = 0x8919, 0x891b, 0x8921, 0x8927
SIOCGIFINDEX, SIOCINQ, SIOCOUTQ = 0x8933, 0x541b, 0x5411


def out(*what):
    print(*what, flush=True)


def res(f):
    """A call's outcome as text: its value, or the errno's name."""
    try:
        r = f()
        return "ok" if r is None else repr(r)
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))


def reflect(port, seconds, ifname):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IP, IP_RECVTOS, 1)
    s.setsockopt(socket.IPPROTO_IP, IP_RECVTTL, 1)
    s.setsockopt(socket.IPPROTO_IP, IP_PKTINFO, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    s.setsockopt(socket.SOL_SOCKET, SO_BINDTODEVICE, ifname.encode())
    s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
                 struct.pack("4s4si", socket.inet_aton(GROUP), b"\0" * 4,
                             socket.if_nametoindex(ifname)))
    s.bind(("0.0.0.0", port))
    s.settimeout(0.5)
    end = time.time() + seconds
    while time.time() < end:
        try:
            data, anc, _, frm = s.recvmsg(4096, 256)
        except socket.timeout:
            continue
        seen = {"src": frm[0], "len": len(data)}
        for lvl, typ, v in anc:
            if typ == socket.IP_TOS:
                seen["tos"] = v[0]
            elif typ == socket.IP_TTL:
                seen["ttl"] = struct.unpack("i", v)[0]
            elif typ == IP_PKTINFO:
                seen["dst"] = socket.inet_ntoa(v[8:12])
        try:
            req = json.loads(data)
        except ValueError:
            req = {}
        if "bcast" in req:
            s.sendto(b"bcast", (req["bcast"], req["port"]))
        # from the port it was sent to (a connected socket takes only that)
        s.sendmsg([json.dumps(seen).encode()],
                  [(socket.IPPROTO_IP, socket.IP_TOS, bytes([req.get("tos", 0)])),
                   (socket.IPPROTO_IP, socket.IP_TTL, struct.pack("i", req.get("ttl", 64)))],
                  0, frm)


def ask(s, peer, req=None, cmsg=()):
    """Send a request to the reflector; its report of what it saw."""
    msg = json.dumps(req or {}).encode()
    if cmsg:
        s.sendmsg([msg], list(cmsg), 0, peer)
    else:
        s.sendto(msg, peer)
    s.settimeout(3)
    data, _ = s.recvfrom(4096)
    return json.loads(data)


def cmsgs(anc, now):
    """Control messages, decoded; a timestamp as whether it is plausible."""
    got = []
    for lvl, typ, v in anc:
        if lvl == socket.SOL_SOCKET and typ in (SO_TIMESTAMP, SO_TIMESTAMPNS):
            sec, frac = struct.unpack("qq", v[:16])
            t = sec + frac / (1e9 if typ == SO_TIMESTAMPNS else 1e6)
            got.append("%s %s" % ("SO_TIMESTAMPNS" if typ == SO_TIMESTAMPNS else
                                  "SO_TIMESTAMP", "plausible" if abs(t - now) < 5 else
                                  "off by %.3f s" % (t - now)))
        elif lvl == socket.IPPROTO_IP and typ == IP_PKTINFO:
            idx, spec, addr = struct.unpack("i4s4s", v)
            got.append("IP_PKTINFO ifindex=%s spec_dst=%s addr=%s" % (
                "lo" if idx == 1 else "ours" if idx == IFINDEX else idx,
                socket.inet_ntoa(spec), socket.inet_ntoa(addr)))
        elif lvl == socket.IPPROTO_IP and typ == socket.IP_TTL:
            got.append("IP_TTL %d" % struct.unpack("i", v)[0])
        elif lvl == socket.IPPROTO_IP and typ == socket.IP_TOS:
            got.append("IP_TOS %#x (%d bytes)" % (v[0], len(v)))
        else:
            got.append("level %d type %d, %d bytes" % (lvl, typ, len(v)))
    return got


def case_options():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    ints = [("IP_TOS", socket.IPPROTO_IP, socket.IP_TOS),
            ("IP_TTL", socket.IPPROTO_IP, socket.IP_TTL),
            ("IP_MTU_DISCOVER", socket.IPPROTO_IP, IP_MTU_DISCOVER),
            ("IP_PKTINFO", socket.IPPROTO_IP, IP_PKTINFO),
            ("IP_RECVTOS", socket.IPPROTO_IP, IP_RECVTOS),
            ("IP_RECVTTL", socket.IPPROTO_IP, IP_RECVTTL),
            ("SO_PRIORITY", socket.SOL_SOCKET, socket.SO_PRIORITY),
            ("SO_KEEPALIVE", socket.SOL_SOCKET, socket.SO_KEEPALIVE),
            ("SO_RCVLOWAT", socket.SOL_SOCKET, socket.SO_RCVLOWAT),
            ("SO_SNDLOWAT", socket.SOL_SOCKET, socket.SO_SNDLOWAT),
            ("SO_TIMESTAMP", socket.SOL_SOCKET, SO_TIMESTAMP),
            ("SO_TIMESTAMPNS", socket.SOL_SOCKET, SO_TIMESTAMPNS),
            ("SO_BROADCAST", socket.SOL_SOCKET, socket.SO_BROADCAST),
            ("SO_TYPE", socket.SOL_SOCKET, socket.SO_TYPE)]
    for name, lvl, opt in ints:
        out("default", name, res(lambda: s.getsockopt(lvl, opt)))
    out("default SO_LINGER", res(lambda: s.getsockopt(socket.SOL_SOCKET, socket.SO_LINGER, 8)))
    out("default SO_BINDTODEVICE", res(lambda: s.getsockopt(socket.SOL_SOCKET,
                                                             SO_BINDTODEVICE, 16)))
    out("unconnected IP_MTU", res(lambda: s.getsockopt(socket.IPPROTO_IP, IP_MTU)))
    sets = [("IP_TTL", socket.IPPROTO_IP, socket.IP_TTL, [0, 256, -2, 17, -1, b"\x05"]),
            ("IP_TOS", socket.IPPROTO_IP, socket.IP_TOS, [0x1ff, 0xb9, b"\x10", b""]),
            ("IP_MTU_DISCOVER", socket.IPPROTO_IP, IP_MTU_DISCOVER, [6, -1, 0, 5, 2]),
            ("IP_PKTINFO", socket.IPPROTO_IP, IP_PKTINFO, [b"\x05", 0]),
            ("SO_RCVLOWAT", socket.SOL_SOCKET, socket.SO_RCVLOWAT, [0, -5, 1 << 30, 1]),
            ("SO_KEEPALIVE", socket.SOL_SOCKET, socket.SO_KEEPALIVE, [5, b"\x01", 0]),
            ("SO_PRIORITY", socket.SOL_SOCKET, socket.SO_PRIORITY, [3, b"\x01", 0]),
            ("SO_TIMESTAMP", socket.SOL_SOCKET, SO_TIMESTAMP, [1, b"\x01"]),
            ("SO_TIMESTAMPNS", socket.SOL_SOCKET, SO_TIMESTAMPNS, [1, 0])]
    for name, lvl, opt, values in sets:
        for v in values:
            out("set %s %r:" % (name, v), res(lambda: s.setsockopt(lvl, opt, v)),
                "then", res(lambda: s.getsockopt(lvl, opt)))
    out("SO_TIMESTAMP then SO_TIMESTAMPNS:",
        res(lambda: (s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMP, 1),
                     s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1),
                     s.getsockopt(socket.SOL_SOCKET, SO_TIMESTAMP),
                     s.getsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS))))
    out("short get IP_TTL:", res(lambda: s.getsockopt(socket.IPPROTO_IP, socket.IP_TTL, 1)))
    out("short get SO_KEEPALIVE:", res(lambda: s.getsockopt(socket.SOL_SOCKET,
                                                            socket.SO_KEEPALIVE, 1)))
    out("set SO_LINGER:", res(lambda: s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                                   struct.pack("ii", 1, 7))),
        res(lambda: struct.unpack("ii", s.getsockopt(socket.SOL_SOCKET, socket.SO_LINGER, 8))))
    out("short SO_LINGER:", res(lambda: s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                                     b"\x01\0\0\0")),
        "short get:", res(lambda: s.getsockopt(socket.SOL_SOCKET, socket.SO_LINGER, 4)))
    ours = repr(IFNAME.encode() + b"\0")        # (its name differs from host to host)
    for dev in (IFNAME.encode(), b"nosuchdev0", b"x" * 20, b""):
        set_ = res(lambda: s.setsockopt(socket.SOL_SOCKET, SO_BINDTODEVICE, dev))
        got = res(lambda: s.getsockopt(socket.SOL_SOCKET, SO_BINDTODEVICE, 16))
        out("SO_BINDTODEVICE %s:" % ("ours" if dev == IFNAME.encode() else dev), set_,
            "then", "ours" if got == ours else got)
    out("SO_BINDTODEVICE ours in an IFNAMSIZ buffer:",
        res(lambda: s.setsockopt(socket.SOL_SOCKET, SO_BINDTODEVICE,
                                 IFNAME.encode().ljust(16, b"\0"))),
        "a 15-letter name of none:", res(lambda: s.setsockopt(socket.SOL_SOCKET,
                                                              SO_BINDTODEVICE, b"y" * 15)))
    s.setsockopt(socket.SOL_SOCKET, SO_BINDTODEVICE, IFNAME.encode())
    out("get SO_BINDTODEVICE, 2 bytes:",
        res(lambda: s.getsockopt(socket.SOL_SOCKET, SO_BINDTODEVICE, 2)))
    s.close()


def case_send_ip(peer):
    """IP_TOS and IP_TTL on the wire, for the socket and per datagram."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    seen = ask(s, peer)
    out("default: the peer saw tos", seen.get("tos"), "ttl", seen.get("ttl"))
    s.setsockopt(socket.IPPROTO_IP, socket.IP_TOS, 0xb9)    # DSCP 46 (EF), ECN CE
    s.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, 17)
    seen = ask(s, peer)
    out("IP_TOS 0xb9, IP_TTL 17: the peer saw tos %#x ttl %d" % (seen["tos"], seen["ttl"]))
    seen = ask(s, peer, cmsg=[(socket.IPPROTO_IP, socket.IP_TOS, struct.pack("i", 0x10)),
                              (socket.IPPROTO_IP, socket.IP_TTL, struct.pack("i", 5))])
    out("cmsg IP_TOS 0x10, IP_TTL 5: the peer saw tos %#x ttl %d" % (seen["tos"], seen["ttl"]))
    seen = ask(s, peer, cmsg=[(socket.IPPROTO_IP, socket.IP_TOS, b"\x02")])
    out("cmsg IP_TOS, one byte 0x02: the peer saw tos %#x ttl %d" % (seen["tos"], seen["ttl"]))
    me = socket.inet_aton(MY_IP)
    seen = ask(s, peer, cmsg=[(socket.IPPROTO_IP, IP_PKTINFO,
                               struct.pack("i4s4s", 0, me, b"\0" * 4))])
    out("cmsg IP_PKTINFO spec_dst ours: the peer saw it from", seen["src"] == MY_IP)
    for what, c in [
            ("IP_TTL 0", [(socket.IPPROTO_IP, socket.IP_TTL, struct.pack("i", 0))]),
            ("IP_TTL short", [(socket.IPPROTO_IP, socket.IP_TTL, b"\x05")]),
            ("IP_TOS 300", [(socket.IPPROTO_IP, socket.IP_TOS, struct.pack("i", 300))]),
            ("IP_PKTINFO short", [(socket.IPPROTO_IP, IP_PKTINFO, b"\0" * 4)]),
            ("IP_PKTINFO from 127.0.0.1", [(socket.IPPROTO_IP, IP_PKTINFO,
                                            struct.pack("i4s4s", 0, socket.inet_aton(
                                                "127.0.0.1"), b"\0" * 4))]),
            ("IP_PKTINFO from an address not ours",
             [(socket.IPPROTO_IP, IP_PKTINFO,
               struct.pack("i4s4s", 0, socket.inet_aton("198.51.100.7"), b"\0" * 4))]),
            ("IP_PKTINFO, no such interface",
             [(socket.IPPROTO_IP, IP_PKTINFO, struct.pack("i4s4s", 9999, me,
                                                                 b"\0" * 4))]),
            ("IP_RECVERR (unknown to sendmsg)", [(socket.IPPROTO_IP, 11, struct.pack("i", 1))]),
            ("another level", [(socket.IPPROTO_TCP, 1, struct.pack("i", 1))])]:
        r = res(lambda: s.sendmsg([b"{}"], c, 0, peer))
        out("cmsg %s:" % what, r)
        if r == "2":                    # sent: the reflector answers
            s.settimeout(3)
            out("  ... answered:", res(lambda: len(s.recv(4096)) > 0))
    s.close()


def case_recv_cmsgs(peer):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", 0))
    for opt in (IP_PKTINFO, IP_RECVTOS, IP_RECVTTL):
        s.setsockopt(socket.IPPROTO_IP, opt, 1)
    s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    s.settimeout(3)
    s.sendto(json.dumps({"tos": 0x2e, "ttl": 33}).encode(), peer)
    data, anc, flags, frm = s.recvmsg(4096, 256)
    out("from the peer, tos 0x2e ttl 33:", cmsgs(anc, time.time()), "flags", flags)
    s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMP, 1)
    s.sendto(b"{}", peer)
    data, anc, flags, frm = s.recvmsg(4096, 256)
    out("SO_TIMESTAMP (after NS), defaults:", cmsgs(anc, time.time()), "flags", flags)
    # room for the first messages only: what fits, and MSG_CTRUNC
    s.sendto(b"{}", peer)
    data, anc, flags, frm = s.recvmsg(4096, socket.CMSG_SPACE(16) + socket.CMSG_SPACE(12))
    out("room for two:", cmsgs(anc, time.time()), "MSG_CTRUNC", bool(flags & socket.MSG_CTRUNC))
    s.sendto(b"{}", peer)
    data, anc, flags, frm = s.recvmsg(4096)
    out("no room:", cmsgs(anc, time.time()), "MSG_CTRUNC", bool(flags & socket.MSG_CTRUNC))
    # between local sockets: the loopback, TTL 64
    port = s.getsockname()[1]
    o = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    o.setsockopt(socket.IPPROTO_IP, socket.IP_TOS, 0x08)
    for dst in ("127.0.0.1", MY_IP):
        o.sendto(b"local", (dst, port))
        data, anc, flags, frm = s.recvmsg(4096, 256)
        out("local, to %s:" % ("127.0.0.1" if dst == "127.0.0.1" else "our address"),
            data, "from", "127.0.0.1" if frm[0] == "127.0.0.1" else
            "our address" if frm[0] == MY_IP else frm[0], cmsgs(anc, time.time()))
    o.close()
    s.close()


def poll_mask(s):
    p = select.poll()
    p.register(s, select.POLLIN | select.POLLOUT | select.POLLRDHUP)
    r = p.poll(0)
    return r[0][1] if r else 0


def case_shutdown(peer):
    for how, name in ((socket.SHUT_RD, "SHUT_RD"), (socket.SHUT_WR, "SHUT_WR"),
                      (socket.SHUT_RDWR, "SHUT_RDWR")):
        for connected in (False, True):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind(("0.0.0.0", 0))
            c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            c.bind(("127.0.0.1", 0))
            if connected:
                s.connect(c.getsockname())
            w = "%s %s:" % (name, "connected" if connected else "unconnected")
            out(w, "shutdown", res(lambda: s.shutdown(how)), "poll %#x" % poll_mask(s))
            out(w, "recv, non-blocking", res(lambda: s.recv(10, socket.MSG_DONTWAIT)))
            s.setblocking(True)
            if how != socket.SHUT_WR:
                out(w, "recv, blocking", res(lambda: s.recvfrom(10)))
            c.sendto(b"hi", ("127.0.0.1", s.getsockname()[1]))
            time.sleep(0.1)
            out(w, "a datagram still comes", res(lambda: s.recv(10, socket.MSG_DONTWAIT)))
            out(w, "send", res(lambda: s.sendto(b"x", c.getsockname())))
            out(w, "shutdown again", res(lambda: s.shutdown(how)))
            s.close()
            c.close()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    out("shutdown 7:", res(lambda: s.shutdown(7)))
    s.close()


def ifreq(name, data=b""):
    return struct.pack("16s24s", name.encode(), data)


def case_ioctls(peer):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

    def get(req, name=IFNAME):
        try:
            return fcntl.ioctl(s, req, ifreq(name))[16:]
        except OSError as e:
            return errno.errorcode.get(e.errno)

    sin = lambda b: b if isinstance(b, str) else socket.inet_ntoa(b[4:8])  # noqa: E731
    out("SIOCGIFADDR", sin(get(SIOCGIFADDR)), "SIOCGIFNETMASK", sin(get(SIOCGIFNETMASK)),
        "SIOCGIFBRDADDR", sin(get(SIOCGIFBRDADDR)))
    out("SIOCGIFFLAGS %#x" % struct.unpack("H", get(SIOCGIFFLAGS)[:2])[0])
    out("SIOCGIFMTU", struct.unpack("i", get(SIOCGIFMTU)[:4])[0])
    hw = get(SIOCGIFHWADDR)
    out("SIOCGIFHWADDR family", struct.unpack("H", hw[:2])[0], "mac is the interface's",
        hw[2:8].hex(":") == open("/sys/class/net/%s/address" % IFNAME).read().strip())
    idx = struct.unpack("i", get(SIOCGIFINDEX)[:4])[0]
    out("SIOCGIFINDEX is if_nametoindex", idx == socket.if_nametoindex(IFNAME))
    name = fcntl.ioctl(s, SIOCGIFNAME, struct.pack("16si20x", b"", idx))[:16]
    out("SIOCGIFNAME", name.rstrip(b"\0").decode() == IFNAME)
    out("SIOCGIFADDR lo", sin(get(SIOCGIFADDR, "lo")), "nosuchdev0",
        sin(get(SIOCGIFADDR, "nosuchdev0")))
    buf = bytearray(40 * 10)
    import array
    arr = array.array("B", buf)
    addr, _ = arr.buffer_info()
    n = struct.unpack("iL", fcntl.ioctl(s, SIOCGIFCONF, struct.pack("iL", len(buf), addr)))[0]
    raw = arr.tobytes()[:n]
    out("SIOCGIFCONF", [(raw[i:i + 16].rstrip(b"\0").decode() if raw[i:i + 16].rstrip(
        b"\0").decode() != IFNAME else "ours", socket.inet_ntoa(raw[i + 20:i + 24]))
        for i in range(0, n, 40)])
    n0 = struct.unpack("iL", fcntl.ioctl(s, SIOCGIFCONF, struct.pack("iL", 0, 0)))[0]
    out("SIOCGIFCONF, length only", n0 == n)
    s.bind(("0.0.0.0", 0))
    o = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    o.sendto(b"x" * 100, ("127.0.0.1", s.getsockname()[1]))
    o.sendto(b"y" * 7, ("127.0.0.1", s.getsockname()[1]))
    time.sleep(0.1)
    out("SIOCINQ", struct.unpack("i", fcntl.ioctl(s, SIOCINQ, b"\0" * 4))[0])
    out("SIOCOUTQ", struct.unpack("i", fcntl.ioctl(s, SIOCOUTQ, b"\0" * 4))[0])
    out("an unknown ioctl (TCGETS)", res(lambda: fcntl.ioctl(s, 0x5401, b"\0" * 64)))
    o.close()
    s.close()


def case_broadcast(peer):
    """Broadcasts in: every socket bound to the port (wildcard), none bound
    to another address.  Out: with SO_BROADCAST, to the link and back to
    our own sockets on the port."""
    port = 9300
    bcast = MY_IP.rsplit(".", 1)[0] + ".255"
    socks = []
    for name, addr in (("wildcard 1", "0.0.0.0"), ("wildcard 2", "0.0.0.0"),
                       ("our address", MY_IP), ("127.0.0.1", "127.0.0.1")):
        x = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        x.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        x.setsockopt(socket.IPPROTO_IP, IP_PKTINFO, 1)
        out("bind", name, "with SO_REUSEADDR:", res(lambda: x.bind((addr, port))))
        socks.append((name, x))
    q = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for dst in (bcast, "255.255.255.255"):
        ask(q, peer, {"bcast": dst, "port": port})
        time.sleep(0.2)
        for name, x in socks:
            try:
                data, anc, _, frm = x.recvmsg(100, 256, socket.MSG_DONTWAIT)
                got = "%r from the peer %s %s" % (data, frm[0] == peer[0], cmsgs(anc, 0))
            except OSError as e:
                got = errno.errorcode[e.errno]
            out("the peer's broadcast to %s, socket bound to %s:" % (
                "the subnet's" if dst == bcast else dst, name), got)
    for _, x in socks:
        x.close()
    q.close()
    # out: the reflector's port, and a socket of ours on the same port
    r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    r.setsockopt(socket.IPPROTO_IP, IP_PKTINFO, 1)
    r.bind(("0.0.0.0", peer[1]))
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    for dst, dev in ((bcast, b""), ("255.255.255.255", b""), ("255.255.255.255",
                                                               IFNAME.encode())):
        s.setsockopt(socket.SOL_SOCKET, SO_BINDTODEVICE, dev)
        w = "SO_BROADCAST, to %s%s:" % ("the subnet's broadcast" if dst == bcast else dst,
                                        ", SO_BINDTODEVICE" if dev else "")
        try:
            seen = ask(s, (dst, peer[1]))
            out(w, "the peer saw it from us", seen["src"] == MY_IP, "sent to",
                "the subnet's broadcast" if seen.get("dst") == bcast else seen.get("dst"))
        except OSError as e:
            out(w, errno.errorcode[e.errno])
        try:
            data, anc, _, frm = r.recvmsg(100, 256, socket.MSG_DONTWAIT)
            out(w, "our socket on the port got", data, "from us", frm[0] == MY_IP,
                cmsgs(anc, 0))
        except OSError as e:
            out(w, "our socket on the port got", errno.errorcode[e.errno])
    s.close()
    r.close()


def case_multicast(peer):
    """Sending to a group: the options, the route, the TTL on the wire (the
    reflector on the peer joined GROUP)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    ip = socket.IPPROTO_IP
    out("default IP_MULTICAST_TTL", res(lambda: s.getsockopt(ip, socket.IP_MULTICAST_TTL)),
        "IP_MULTICAST_LOOP", res(lambda: s.getsockopt(ip, socket.IP_MULTICAST_LOOP)),
        "IP_MULTICAST_IF", res(lambda: socket.inet_ntoa(s.getsockopt(ip, socket.IP_MULTICAST_IF,
                                                                     4))))
    for v in (256, -2, -1, b"\x05", 3):
        out("set IP_MULTICAST_TTL %r:" % v, res(lambda: s.setsockopt(ip, socket.IP_MULTICAST_TTL, v)),
            "then", res(lambda: s.getsockopt(ip, socket.IP_MULTICAST_TTL)))
    for v in (0, b"\x01", 7):
        out("set IP_MULTICAST_LOOP %r:" % v,
            res(lambda: s.setsockopt(ip, socket.IP_MULTICAST_LOOP, v)),
            "then", res(lambda: s.getsockopt(ip, socket.IP_MULTICAST_LOOP)))
    s.setsockopt(ip, socket.IP_MULTICAST_TTL, -1)
    out("sendto the group, no route:", res(lambda: s.sendto(b"{}", (GROUP, peer[1]))))
    for what, v in (("another host's address", socket.inet_aton("198.51.100.1")),
                    ("an ip_mreqn of no interface", struct.pack("4s4si", b"\0" * 4, b"\0" * 4,
                                                                9999)),
                    ("ours, in an ip_mreq", b"\0" * 4 + socket.inet_aton(MY_IP)),
                    ("none", b"\0" * 4),
                    ("ours, by index", struct.pack("4s4si", b"\0" * 4, b"\0" * 4, IFINDEX)),
                    ("ours", socket.inet_aton(MY_IP))):
        out("IP_MULTICAST_IF %s:" % what, res(lambda: s.setsockopt(ip, socket.IP_MULTICAST_IF, v)),
            "then", res(lambda: socket.inet_ntoa(s.getsockopt(ip, socket.IP_MULTICAST_IF, 4))
                        .replace(MY_IP, "ours")))
    seen = ask(s, (GROUP, peer[1]))
    out("to the group through our interface: the peer saw it from us", seen["src"] == MY_IP,
        "sent to", seen.get("dst"), "TTL", seen.get("ttl"))
    s.setsockopt(ip, socket.IP_MULTICAST_TTL, 7)
    s.setsockopt(ip, socket.IP_TTL, 30)
    seen = ask(s, (GROUP, peer[1]))
    out("IP_MULTICAST_TTL 7 (IP_TTL 30): TTL", seen.get("ttl"))
    seen = ask(s, (GROUP, peer[1]), cmsg=[(ip, socket.IP_TTL, struct.pack("i", 9))])
    out("a control message's IP_TTL 9: TTL", seen.get("ttl"))
    seen = ask(s, peer)
    out("unicast beside it: TTL", seen.get("ttl"))
    s.setsockopt(ip, socket.IP_MULTICAST_TTL, 0)
    out("IP_MULTICAST_TTL 0: sendto", res(lambda: s.sendto(b"{}", (GROUP, peer[1]))))
    time.sleep(0.3)
    out("  ... and the peer answered:", res(lambda: s.recv(100, socket.MSG_DONTWAIT)))
    s.close()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, SO_BINDTODEVICE, IFNAME.encode())
    seen = ask(s, (GROUP, peer[1]))
    out("to the group, SO_BINDTODEVICE: the peer saw it from us", seen["src"] == MY_IP,
        "TTL", seen.get("ttl"))
    s.close()


def case_large_local(peer):
    """Datagrams up to UDP's longest between local sockets."""
    r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    r.bind(("0.0.0.0", 0))
    port = r.getsockname()[1]
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    r.settimeout(3)
    for dst in ("127.0.0.1", MY_IP):
        w = "to %s:" % ("127.0.0.1" if dst == "127.0.0.1" else "our address")
        for n in (2048, 2049, 4096, 8000, 60000, 65507):
            data = os.urandom(n)
            sent = res(lambda: s.sendto(data, (dst, port)))
            got = r.recv(65536) if sent == repr(n) else b""
            out(w, n, "bytes: sent", sent, "received intact", got == data)
        out(w, "65508 bytes:", res(lambda: s.sendto(b"x" * 65508, (dst, port))))
    # six at a time (what the kernel's default SO_RCVBUF holds), 30 times:
    # around pollnet's ring, whose end comes in the middle of one
    sizes = [100, 30000, 5000, 65507, 1, 20000]
    ok = True
    for _ in range(30):
        datas = [os.urandom(n) for n in sizes]
        for d in datas:
            s.sendto(d, ("127.0.0.1", port))
        ok = ok and [r.recv(65536) for _ in datas] == datas
    out("30 times 6 datagrams of 1 to 65507 bytes, each intact and in order:", ok)
    s.sendto(b"y" * 60000, ("127.0.0.1", port))
    time.sleep(0.1)
    out("FIONREAD of a 60000-byte one:", struct.unpack("i", fcntl.ioctl(r, SIOCINQ, b"\0" * 4))[0])
    out("MSG_PEEK 10 of it:", len(r.recv(10, socket.MSG_PEEK)))
    data, anc, flags, frm = r.recvmsg(1000)
    out("recvmsg into 1000: got", len(data), "MSG_TRUNC", bool(flags & socket.MSG_TRUNC))
    s.sendto(b"z" * 50000, ("127.0.0.1", port))
    out("recv(MSG_TRUNC) into 10:", len(r.recv(10, socket.MSG_TRUNC)) if False else
        res(lambda: r.recv_into(bytearray(10), 10, socket.MSG_TRUNC)))
    s.close()
    r.close()


def errq(s):
    """recvmsg(MSG_ERRQUEUE), decoded."""
    try:
        data, anc, flags, name = s.recvmsg(100, 256, socket.MSG_ERRQUEUE | socket.MSG_DONTWAIT)
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))
    got = ["data %r" % data, "to the peer's %d" % name[1] if name[0] == PEER_ADDR else name,
           "MSG_ERRQUEUE" if flags & socket.MSG_ERRQUEUE else "no MSG_ERRQUEUE"]
    for lvl, typ, v in anc:
        if lvl == socket.IPPROTO_IP and typ == IP_RECVERR and len(v) >= 16:
            ee_errno, origin, typ_, code, pad, info, data_ = struct.unpack("IBBBBII", v[:16])
            got.append("IP_RECVERR errno %s origin %d type %d code %d info %d data %d" % (
                errno.errorcode.get(ee_errno, ee_errno), origin, typ_, code, info, data_))
            if len(v) >= 32:
                fam, port = struct.unpack("HH", v[16:20])
                got.append("offender family %d port %d %s" % (
                    fam, port, "the peer" if socket.inet_ntoa(v[20:24]) == PEER_ADDR else
                    socket.inet_ntoa(v[20:24])))
        else:
            got.append("level %d type %d, %d bytes" % (lvl, typ, len(v)))
    return " ".join(got)


def case_recverr(peer):
    """ICMP errors with IP_RECVERR: the error queue, the pending error."""
    global PEER_ADDR
    PEER_ADDR = peer[0]
    closed = (peer[0], 9999)            # nothing listens there
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    out("IP_RECVERR by default:", s.getsockopt(socket.IPPROTO_IP, IP_RECVERR))
    s.sendto(b"nobody", closed)
    time.sleep(1.1)                     # (the peer answers one a second)
    out("without it, unconnected: recv", res(lambda: s.recv(100, socket.MSG_DONTWAIT)),
        "errqueue", errq(s))
    s.setsockopt(socket.IPPROTO_IP, IP_RECVERR, 1)
    out("IP_RECVERR set:", s.getsockopt(socket.IPPROTO_IP, IP_RECVERR))
    s.sendto(b"hello, closed port", closed)
    time.sleep(1.1)
    p = select.poll()
    p.register(s, select.POLLIN)
    out("poll:", ["POLLERR" if ev & select.POLLERR else ev for _, ev in p.poll(0)])
    out("recv:", res(lambda: s.recv(100, socket.MSG_DONTWAIT)))
    out("errqueue:", errq(s))
    out("errqueue again:", errq(s))
    s.sendto(b"one", closed)
    time.sleep(1.1)
    out("sendto with an error pending:", res(lambda: s.sendto(b"two", closed)))
    out("sendto again:", res(lambda: s.sendto(b"three", closed)))
    time.sleep(1.1)
    out("two errors, errqueue:", errq(s))
    out("  ... then:", errq(s))
    out("  ... then recv:", res(lambda: s.recv(100, socket.MSG_DONTWAIT)))
    # local errors: a datagram too long for IP_PMTUDISC_DO
    s.setsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER, 2)
    out("1473 bytes, IP_PMTUDISC_DO:", res(lambda: s.sendto(b"x" * 1473, closed)))
    out("  ... errqueue:", errq(s))
    s.connect(closed)
    out("connected, the same:", res(lambda: s.send(b"x" * 1473)))
    out("  ... errqueue:", errq(s))
    s.close()


def case_routes(peer):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    bcast = MY_IP.rsplit(".", 1)[0] + ".255"
    out("sendto 255.255.255.255, no SO_BROADCAST:",
        res(lambda: s.sendto(b"x", ("255.255.255.255", 9))))
    out("sendto the subnet's broadcast, no SO_BROADCAST:",
        res(lambda: s.sendto(b"x", (bcast, 9))))
    out("connect the subnet's broadcast, no SO_BROADCAST:", res(lambda: s.connect((bcast, 9))))
    out("sendto off the link, no route:", res(lambda: s.sendto(b"x", ("203.0.113.9", 9))))
    out("connect off the link, no route:", res(lambda: s.connect(("203.0.113.9", 9))))
    out("connect the peer:", res(lambda: s.connect(peer)),
        "IP_MTU", res(lambda: s.getsockopt(socket.IPPROTO_IP, IP_MTU)))
    out("connect 127.0.0.1:", res(lambda: s.connect(("127.0.0.1", 9))),
        "IP_MTU", res(lambda: s.getsockopt(socket.IPPROTO_IP, IP_MTU)))
    s.close()


def main():
    global IFINDEX, IFNAME, MY_IP
    if sys.argv[1] == "reflect":
        reflect(int(sys.argv[2]), float(sys.argv[3]), sys.argv[4])
        return
    peer = (sys.argv[2], int(sys.argv[3]))
    IFNAME = sys.argv[4]
    IFINDEX = socket.if_nametoindex(IFNAME)
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    probe.connect(peer)
    MY_IP = probe.getsockname()[0]
    probe.close()
    for case in (case_options, case_send_ip, case_recv_cmsgs, case_shutdown, case_ioctls,
                 case_routes, case_broadcast, case_multicast, case_large_local,
                 case_recverr):
        out("## " + case.__name__)
        case(peer) if case is not case_options else case()
    out("## end")


if __name__ == "__main__":
    main()
