#!/usr/bin/python3
"""Write the fuzz harnesses' seed corpora (tests/fuzz/corpus/NAME/), in each
harness's input format (see the comment at the top of tests/fuzz/*.c).
The seeds are checked in; run this again after changing a format.
usage: make_seeds.py"""
import os
import struct
import sys

from scapy.all import (ARP, ICMP, IP, LLC, TCP, UDP, Dot1Q, Ether, ICMPv6EchoRequest, IPOption_RR,
                       IPOption_Timestamp, IPv6, Raw, fragment)

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import hostile  # noqa: E402

OUR_MAC, PEER_MAC = "02:00:00:00:00:02", "02:00:00:00:00:01"
OUR_IP, PEER_IP, GW_IP = "198.18.0.2", "198.18.0.1", "198.18.0.254"


def write(name, seeds):
    d = os.path.join(HERE, "corpus", name)
    os.makedirs(d, exist_ok=True)
    for f in os.listdir(d):         # its own seeds; inputs kept by hand stay
        if f.startswith("seed-"):
            os.unlink(os.path.join(d, f))
    for i, data in enumerate(seeds):
        with open(os.path.join(d, "seed-%02d" % i), "wb") as f:
            f.write(data)
    print("%s: %d seeds" % (name, len(seeds)))


def rx(frame):
    frame = bytes(frame)
    return b"\x00" + struct.pack("<H", len(frame)) + frame


def client_send(addr, port, payload):
    a = bytes(map(int, addr.split(".")))
    return b"\x02" + struct.pack("<H", len(payload)) + a + struct.pack(">H", port) + payload


TAIL, TICK = b"\x03", b"\x01\x64"
eth = Ether(src=PEER_MAC, dst=OUR_MAC)
frames = [
    Ether(src=PEER_MAC, dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, hwsrc=PEER_MAC, psrc=PEER_IP, pdst=OUR_IP),
    eth / ARP(op=2, hwsrc=PEER_MAC, psrc=PEER_IP, hwdst=OUR_MAC, pdst=OUR_IP),
    eth / IP(src=PEER_IP, dst=OUR_IP) / UDP(sport=4000, dport=7) / Raw(b"echo me"),
    eth / IP(src=PEER_IP, dst=OUR_IP) / UDP(sport=4000, dport=5000) / Raw(b"to the client"),
    eth / IP(src=PEER_IP, dst=OUR_IP) / UDP(sport=53, dport=5001) / Raw(b"to the connected one"),
    eth / IP(src=PEER_IP, dst=OUR_IP) / ICMP(type=8, id=1, seq=1) / Raw(b"ping"),
    eth / IP(src="198.19.0.5", dst=OUR_IP, options=b"\x01\x01\x01\x00") / ICMP(type=8) / Raw(b"far"),
    eth / IP(src=PEER_IP, dst=OUR_IP, flags="MF") / UDP(sport=1, dport=7) / Raw(b"frag"),
    eth / IP(src=PEER_IP, dst=OUR_IP) / TCP(sport=1, dport=80, flags="S"),
]
stack = [rx(f) + TAIL for f in frames]
stack.append(b"".join(rx(f) for f in frames) + TAIL + TICK + TAIL)
stack.append(b"".join(rx(f) + TAIL for _, f, _, _ in
                      hostile.cases(OUR_MAC, OUR_IP, PEER_MAC, PEER_IP, "198.18.0.255")))
stack.append(client_send(PEER_IP, 9, b"out") + TAIL + rx(frames[1]) + TAIL)
stack.append(client_send("127.0.0.1", 7, b"local echo") + TAIL + client_send(OUR_IP, 5000, b"self") + TAIL)
stack.append(client_send("198.19.0.5", 9, b"off-link") + TICK * 5 + TAIL)
# fragments: in order, reversed, tiny, overlapping, duplicated, too many,
# one lost (time runs out), and datagrams we send in pieces
big_echo = IP(src=PEER_IP, dst=OUR_IP, id=77) / UDP(sport=4000, dport=7) / Raw(bytes(3000))
big_ping = IP(src=PEER_IP, dst=OUR_IP, id=78) / ICMP(type=8, id=2, seq=1) / Raw(bytes(4000))
to_client = IP(src=PEER_IP, dst=OUR_IP, id=79) / UDP(sport=53, dport=5000) / Raw(bytes(2000))
pieces = [fragment(big_echo, 1480), fragment(big_ping, 1480)[::-1], fragment(to_client, 8),
          fragment(big_echo, 1480) + fragment(big_echo, 1480)[:1]]
overlap = fragment(to_client, 1480)
overlap[1].frag -= 1
pieces.append(overlap)
pieces.append(fragment(big_echo, 1480)[:-1])
for ps in pieces:
    stack.append(b"".join(rx(eth / f) for f in ps) + TAIL + TICK * 25 + TAIL)
stack.append(rx(frames[1]) + client_send(PEER_IP, 9, bytes(5000)) + TAIL +
             client_send(PEER_IP, 9, bytes(60000)[:0xffff]) + TAIL)
# IGMP: queries (v3 general and group, v2, a group not ours), another
# host's report, a malformed one; then a datagram to a joined group and to
# one not joined, and time for the answers
igmp_dst = Ether(src=PEER_MAC, dst="01:00:5e:00:00:01")
def igmp_frame(dst, msg):
    mac = "01:00:5e:%02x:%02x:%02x" % tuple(int(x) for x in dst.split(".")[1:])
    return Ether(src=PEER_MAC, dst=mac) / IP(src=PEER_IP, dst=dst, ttl=1, proto=2) / Raw(msg)
def igmp_sum(b):
    b = bytearray(b)
    s = sum((b[i] << 8) + (b[i + 1] if i + 1 < len(b) else 0) for i in range(0, len(b), 2))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    c = ~s & 0xffff
    b[2], b[3] = c >> 8, c & 0xff
    return bytes(b)
igmp = [igmp_frame("224.0.0.1", igmp_sum(b"\x11\x64\0\0\0\0\0\0\x02\x7d\0\0")),
        igmp_frame("239.1.2.3", igmp_sum(b"\x11\x0a\0\0\xef\x01\x02\x03\x02\x7d\0\0")),
        igmp_frame("224.0.0.1", igmp_sum(b"\x11\x0a\0\0\0\0\0\0")),
        igmp_frame("239.9.9.9", igmp_sum(b"\x11\x0a\0\0\xef\x09\x09\x09\x02\x7d\0\0")),
        igmp_frame("239.1.2.3", igmp_sum(b"\x16\0\0\0\xef\x01\x02\x03")),
        igmp_frame("224.0.0.1", b"\x11\x0a\x12\x34\0\0\0\0\0\0"),
        Ether(src=PEER_MAC, dst="01:00:5e:01:02:03") / IP(src=PEER_IP, dst="239.1.2.3") /
        UDP(sport=4000, dport=5000) / Raw(b"to the group"),
        Ether(src=PEER_MAC, dst="01:00:5e:01:02:04") / IP(src=PEER_IP, dst="239.1.2.4") /
        UDP(sport=4000, dport=5000) / Raw(b"not joined")]
stack.append(b"".join(rx(f) for f in igmp) + TAIL + TICK * 120 + TAIL)
stack.append(client_send("239.1.2.3", 5000, b"to our group") + TAIL)
# the exception path (a first byte >= 0x80): what the stack does not
# consume, to the kernel (TCP, IPv6 to a 33:33 group, an echo reply, UDP no
# socket holds, an ARP copy); frames from the kernel (a length's top bit):
# its ARP reply for our address (withheld), TCP, one over the MTU; the
# kernel's interface refusing one
def kern(frame):
    frame = bytes(frame)
    return b"\x00" + struct.pack("<H", len(frame) | 0x8000) + frame
tcp_syn = bytes(eth / IP(src=PEER_IP, dst=OUR_IP) / TCP(sport=1, dport=22, flags="S"))
stack.append(b"\x80" + struct.pack("<H", len(tcp_syn)) + tcp_syn +
             rx(Ether(src=PEER_MAC, dst="33:33:00:00:00:01") / IPv6(src="fe80::1", dst="ff02::1") /
                Raw(b"v6")) +
             rx(eth / IP(src=PEER_IP, dst=OUR_IP) / ICMP(type=0, id=9, seq=1) / Raw(b"reply")) +
             rx(eth / IP(src=PEER_IP, dst=OUR_IP) / UDP(sport=4000, dport=9999) / Raw(b"nobody")) +
             rx(frames[0]) +
             kern(Ether(src=OUR_MAC, dst=PEER_MAC) / ARP(op=2, hwsrc=OUR_MAC, psrc=OUR_IP,
                                                        hwdst=PEER_MAC, pdst=PEER_IP)) +
             kern(Ether(src=OUR_MAC, dst=PEER_MAC) / IP(src=OUR_IP, dst=PEER_IP) /
                  TCP(sport=22, dport=1, flags="SA")) +
             kern(Ether(src=OUR_MAC, dst=PEER_MAC) / IP(src=OUR_IP, dst=PEER_IP) /
                  Raw(bytes(1600))) +
             b"\x13" + TAIL)
write("fuzz_stack", stack)

summary = []
frames6 = frames + [
    Ether() / IP() / UDP(),
    Ether(src=PEER_MAC, dst=OUR_MAC) / Dot1Q(vlan=5) / IP(src=PEER_IP, dst=OUR_IP) / UDP(dport=7),
    Ether(src=PEER_MAC, dst=OUR_MAC, type=0x88a8) / Dot1Q(vlan=100) / Dot1Q(vlan=5) / IP() / TCP(flags=0x1ff),
    Ether(src=PEER_MAC, dst=OUR_MAC) / IPv6(src="2001:db8::1", dst="2001:db8::2") / UDP(dport=53),
    Ether(src=PEER_MAC, dst=OUR_MAC) / IPv6() / ICMPv6EchoRequest(),
    Ether(src=PEER_MAC, dst="ff:ff:ff:ff:ff:ff") / LLC(dsap=0x42, ssap=0x42, ctrl=3) / Raw(b"x" * 40),
    Ether(src=PEER_MAC, dst=OUR_MAC) / IP(options=[IPOption_RR(), IPOption_Timestamp()]) / ICMP(),
]
for f in frames6:
    b = bytes(f)
    b += b"\x00" * (len(b) % 2)
    for cut in (len(b), min(len(b), 112), 30, 20):
        c = b[:cut] + b"\x00" * (cut % 2)
        summary.append(bytes([len(c) // 2]) + struct.pack("<H", len(b)) + bytes([255]) + c)
summary.append(bytes([40, 0, 0, 3]) + bytes(frames[2])[:80])
write("fuzz_summary", summary)

e1000 = []
mac6 = bytes.fromhex("525400123456")
for f in frames[:6]:
    b = bytes(f)[6:]                 # the harness puts our MAC first
    e1000.append(b"\x00" + struct.pack("<H", len(b)) + b + b"\x02\x20")
e1000.append(b"".join(b"\x00" + struct.pack("<H", 60) + b"\x00" * 60 for _ in range(70)) + b"\x02\x3f" * 3)
e1000.append(b"\x01\x05\x00\x03\x00\xff\x0f" + b"\x02\x10")         # a descriptor a device lies about
e1000.append(b"\x00" + struct.pack("<H", 100) + b"\x11" * 100 + b"\x03" + b"\x02\x10")
write("fuzz_e1000", e1000)

shm = []
shm.append(b"\x02" + struct.pack("<H", 100) + b"\x41" + b"\x03")
shm.append(b"\x02" + struct.pack("<H", 2099) + b"\x42" + b"\x03")
shm.append((b"\x02" + struct.pack("<H", 10) + b"\x43") * 12 + b"\x03")
shm.append(b"\x00" + struct.pack("<I", 192) + b"\x04" + struct.pack("<I", 5) + b"\x01\x20\x03")
shm.append(b"\x00" + struct.pack("<I", 128) + b"\x04" + struct.pack("<I", 0xfffffff0) + b"\x03")
write("fuzz_shm", shm)

conf = open(os.path.join(HERE, "..", "..", "config", "pollnet.conf"), "rb").read()
write("fuzz_config", [
    conf,
    b"[port]\nspec = dpdk:net_ring0\n[ipv4]\naddress = 10.0.0.1/24\n",
    b"[sockets]\nrx_ring = 1000\n",
    b"[control]\nallow_users = root, 0\nmode = 0666\n",
    b"ipv4.gateway=10.0.0.1\n",
    b"sockets.max_per_client=8\n",
])


def dns_name(n):
    return b"".join(bytes([len(label)]) + label.encode() for label in n.split(".")) + b"\0"


def dns_answer(qname, qtype, rrs):
    """A response to one question; rrs: (owner bytes, type, rdata)."""
    body = b"".join(owner + struct.pack(">HHIH", t, 1, 300, len(rdata)) + rdata
                    for owner, t, rdata in rrs)
    return (struct.pack(">HHHHHH", 0x1234, 0x8180, 1, len(rrs), 0, 0) + dns_name(qname) +
            struct.pack(">HH", qtype, 1) + body)


Q = struct.pack(">H", 0xc00c)     # a pointer to the question's name
# first byte: question (% 3: A, AAAA, PTR) and buffer size ((>> 2) * 16)
write("fuzz_dns", [
    b"\x40" + dns_answer("web.pollnet.test", 1, [(Q, 1, bytes([198, 18, 0, 77]))]),
    b"\x41" + dns_answer("web.pollnet.test", 28, [(Q, 28, bytes(15) + b"\x77")]),
    b"\x40" + dns_answer("web.pollnet.test", 1, [(Q, 5, dns_name("real.pollnet.test")),
                                                 (dns_name("real.pollnet.test"), 1,
                                                  bytes([198, 18, 0, 78]))]),
    b"\x42" + dns_answer("77.0.18.198.in-addr.arpa", 12, [(Q, 12, dns_name("web.pollnet.test"))]),
    b"\x00" + dns_answer("web.pollnet.test", 1, [(Q, 1, bytes([1, 2, 3, 4]))] * 3),
])
