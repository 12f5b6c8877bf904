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
