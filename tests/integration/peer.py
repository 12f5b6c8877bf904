"""Actions run by the Linux peer, inside its namespace (ip netns exec)."""
import json
import os
import socket
import sys


def echo_sweep(dst, port, sizes, sport=0):
    """Send one datagram of each size, expect the identical one back."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", sport))
    s.settimeout(2)
    bad = []
    for n in sizes:
        data = os.urandom(n)
        s.sendto(data, (dst, port))
        try:
            got, src = s.recvfrom(4096)
        except socket.timeout:
            bad.append((n, "timeout"))
            continue
        if got != data or src != (dst, port):
            bad.append((n, "mismatch from %s" % (src,)))
    return {"sent": len(sizes), "bad": bad}


def crafted(iface, dst_ip, dst_mac, src_ip, count):
    """Frames that pollnet must count and drop, `count` of each kind."""
    from scapy.all import Ether, IP, UDP, TCP, Raw, sendp, get_if_hwaddr
    src_mac = get_if_hwaddr(iface)
    eth = Ether(src=src_mac, dst=dst_mac)
    good = eth / IP(src=src_ip, dst=dst_ip, flags="DF") / UDP(sport=5000, dport=7) / Raw(b"x" * 32)
    raw = bytes(good)
    kinds = {
        "ip_truncated": raw[:14 + 12],
        "ip_bad_length": raw[:14 + 20 + 4],                # total length says 60
        "ip_bad_checksum": bytes(eth / IP(src=src_ip, dst=dst_ip, chksum=0x1234) /
                                 UDP(sport=5000, dport=7) / Raw(b"x" * 32)),
        "udp_bad_checksum": bytes(eth / IP(src=src_ip, dst=dst_ip) /
                                  UDP(sport=5000, dport=7, chksum=0x4321) / Raw(b"x" * 32)),
        "ip_fragment": bytes(eth / IP(src=src_ip, dst=dst_ip, flags="MF", id=7) /
                             UDP(sport=5000, dport=7) / Raw(b"x" * 32)),
        "ip_fragment_tail": bytes(eth / IP(src=src_ip, dst=dst_ip, frag=185, id=7, proto=17) /
                                  Raw(b"y" * 40)),
        "eth_not_for_us": bytes(Ether(src=src_mac, dst="02:00:00:00:99:99") /
                                IP(src=src_ip, dst=dst_ip) / UDP(sport=5000, dport=7) / Raw(b"z")),
        "ip_bad_ihl": bytes(eth / IP(src=src_ip, dst=dst_ip, ihl=4) / UDP(sport=5000, dport=7)),
        "ip_unknown_proto": bytes(eth / IP(src=src_ip, dst=dst_ip) / TCP(sport=5000, dport=80, flags="S")),
        "udp_no_socket": bytes(eth / IP(src=src_ip, dst=dst_ip) / UDP(sport=5000, dport=9) / Raw(b"q")),
        "ip_not_for_us": bytes(eth / IP(src=src_ip, dst="198.18.0.77") / UDP(sport=5000, dport=7)),
    }
    for name, frame in kinds.items():
        for _ in range(count):
            sendp(Raw(frame), iface=iface, verbose=False)   # the bytes as they are
    return {name: count for name in kinds}


def hostile(iface, our_mac, our_ip, peer_ip, bcast_ip):
    """Send every hostile case (hostile.py) once, 50 ms apart, and report
    any frame pollnet sent meanwhile but ARP replies to this kernel's own
    requests (which are legitimate)."""
    from scapy.all import ARP, AsyncSniffer, Ether, Raw, get_if_hwaddr, sendp
    import time
    import hostile as h
    peer_mac = get_if_hwaddr(iface)
    # inbound: on a tap, pollnet and this kernel share one MAC
    sniffer = AsyncSniffer(iface=iface, filter="inbound and ether src %s" % our_mac, store=True)
    sniffer.start()
    time.sleep(0.5)
    sent = []
    for name, frame, _, _ in h.cases(our_mac, our_ip, peer_mac, peer_ip, bcast_ip):
        sendp(Raw(frame), iface=iface, verbose=False)
        sent.append(name)
        time.sleep(0.05)
    time.sleep(1.5)
    got = sniffer.stop() or []
    answers = [f.summary() for f in got
               if not (ARP in f and f[ARP].op == 2 and f[ARP].pdst == peer_ip and
                       f[ARP].hwdst == peer_mac)]
    return {"sent": sent, "answers": answers, "peer_mac": peer_mac}


def wirefuzz(iface, our_mac, our_ip, peer_ip, count, seed):
    """`count` random and mutated frames at pollnet: scapy's fuzz() of every
    protocol pollnet parses (and some it does not), then byte-level
    mutations of those (bit flips, truncations, extensions, overwritten
    fields); mostly to pollnet's MAC, some broadcast.  Sent from a raw
    socket, in bounded time.  Returns how many were sent."""
    import random
    import socket as so
    import time
    from scapy.all import ARP, ICMP, IP, TCP, UDP, Dot1Q, Ether, Raw, fuzz, get_if_hwaddr
    rnd = random.Random(seed)
    peer_mac = get_if_hwaddr(iface)
    eth = Ether(src=peer_mac, dst=our_mac)
    templates = [
        eth / IP(src=peer_ip, dst=our_ip) / UDP(sport=4000, dport=7) / Raw(b"x" * 32),
        eth / IP(src=peer_ip, dst=our_ip) / ICMP(type=8) / Raw(b"p" * 16),
        Ether(src=peer_mac, dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, hwsrc=peer_mac, psrc=peer_ip, pdst=our_ip),
        eth / IP(src=peer_ip, dst=our_ip) / TCP(sport=1, dport=80),
        eth / IP(src=peer_ip, dst=our_ip, ihl=8, options=b"\x94\x04\x00\x00" * 3) / UDP(dport=7) / Raw(b"o"),
        eth / Dot1Q(vlan=5) / IP(src=peer_ip, dst=our_ip) / UDP(dport=7),
    ]
    base = []
    for _ in range(300):
        t = rnd.choice([
            lambda: eth / fuzz(IP(dst=our_ip)) / fuzz(UDP(dport=7)),
            lambda: eth / IP(src=peer_ip, dst=our_ip) / fuzz(UDP()) / Raw(bytes(rnd.randrange(256) for _ in range(rnd.randrange(64)))),
            lambda: eth / fuzz(IP(src=peer_ip, dst=our_ip, proto=1)) / fuzz(ICMP()),
            lambda: Ether(src=peer_mac, dst=rnd.choice([our_mac, "ff:ff:ff:ff:ff:ff"])) / fuzz(ARP()),
            lambda: eth / fuzz(IP(dst=our_ip)) / fuzz(TCP()),
            lambda: fuzz(Ether(dst=our_mac)) / Raw(bytes(rnd.randrange(256) for _ in range(40))),
        ])()
        try:
            base.append(bytes(t))
        except Exception:            # scapy cannot build some fuzzed fields
            pass
    base += [bytes(t) for t in templates]
    s = so.socket(so.AF_PACKET, so.SOCK_RAW)
    s.bind((iface, 0))
    mac = bytes.fromhex(our_mac.replace(":", ""))
    sent, deadline = 0, time.time() + 120
    vlan = 0
    while sent < count and time.time() < deadline:
        f = bytearray(rnd.choice(base))
        for _ in range(rnd.randrange(4)):
            r = rnd.random()
            if r < 0.4 and len(f) > 14:
                i = rnd.randrange(14, len(f))
                f[i] ^= 1 << rnd.randrange(8)
            elif r < 0.55:
                del f[rnd.randrange(14, max(15, len(f))):]
            elif r < 0.7:
                f += bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 64)))
            elif r < 0.85 and len(f) > 16:
                i = rnd.randrange(14, len(f) - 1)
                f[i:i + 2] = bytes((rnd.randrange(256), rnd.randrange(256)))
            else:
                f[rnd.randrange(12, min(len(f), 40))] = rnd.choice((0, 0xff, 0x7f, 0x80))
        if rnd.random() < 0.9:
            f[0:6] = mac                 # most of it reaches the stack
        f = bytes(f[:1514])
        if len(f) < 14:
            f = f + bytes(14 - len(f))
        if f[12:14] in (b"\x81\x00", b"\x88\xa8"):
            vlan += 1
        try:
            s.send(f)
        except OSError:
            time.sleep(0.001)             # the peer's queue is full: once more
            s.send(f)
        sent += 1
    s.close()
    return {"sent": sent, "seed": seed, "templates": len(base), "vlan": vlan}


def frames(iface, dst_ip, dst_mac, src_ip):
    """One frame of each kind pollnetctl tells apart, from the peer's MAC:
    ARP request, UDP (DF) to the echo port, TCP SYN, ICMP echo request."""
    from scapy.all import Ether, ARP, IP, UDP, TCP, ICMP, Raw, sendp, get_if_hwaddr
    import time
    src_mac = get_if_hwaddr(iface)
    eth = Ether(src=src_mac, dst=dst_mac)
    out = [
        Ether(src=src_mac, dst="ff:ff:ff:ff:ff:ff") /
        ARP(op=1, hwsrc=src_mac, psrc=src_ip, pdst=dst_ip),
        eth / IP(src=src_ip, dst=dst_ip, flags="DF", ttl=61) / UDP(sport=5001, dport=7) / Raw(b"u" * 20),
        eth / IP(src=src_ip, dst=dst_ip, ttl=62) / TCP(sport=5002, dport=80, flags="S", seq=1234),
        eth / IP(src=src_ip, dst=dst_ip, ttl=63) / ICMP(type=8, id=77, seq=5) / Raw(b"p" * 16),
    ]
    # the echo of the datagram comes back to 5001: a socket there keeps
    # the kernel from answering it with a port unreachable
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind((src_ip, 5001))
    for f in out:
        sendp(f, iface=iface, verbose=False)
        time.sleep(0.05)
    time.sleep(0.2)
    sink.close()
    return {"src_mac": src_mac}


if __name__ == "__main__":
    action = sys.argv[1]
    args = json.loads(sys.argv[2])
    print(json.dumps(globals()[action](**args)))
