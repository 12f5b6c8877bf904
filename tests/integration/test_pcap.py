#!/usr/bin/python3
"""pollnet on DPDK's net_pcap: frames in from a pcap file, replies out to
another, checked field by field and re-checksummed by scapy.  No namespace,
no timing: a deterministic end-to-end test of the whole receive/answer path,
and of a clean SIGTERM shutdown.

usage: test_pcap.py POLLNET_BINARY
"""
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from netns import check, failures, finish, need_root, parse_counters  # noqa: E402
from scapy.all import ARP, ICMP, IP, UDP, TCP, Ether, Raw, rdpcap, wrpcap  # noqa: E402

US_MAC, US_IP = "02:00:00:00:00:02", "198.18.0.2"
PEER_MAC, PEER_IP = "02:00:00:00:00:01", "198.18.0.1"


def rechecksummed(pkt):
    """The same packet with every checksum recomputed by scapy."""
    p = Ether(bytes(pkt))
    for layer in (IP, UDP, ICMP):
        if layer in p:
            del p[layer].chksum
    return Ether(bytes(p))


def main():
    need_root()
    binary = sys.argv[1]
    tmp = tempfile.mkdtemp(prefix="pn-pcap-")
    inp, outp = os.path.join(tmp, "in.pcap"), os.path.join(tmp, "out.pcap")
    eth = Ether(src=PEER_MAC, dst=US_MAC)
    ip = IP(src=PEER_IP, dst=US_IP, flags="DF", id=4242)
    sizes = [1, 18, 100, 1000, 1472]
    frames = [Ether(src=PEER_MAC, dst="ff:ff:ff:ff:ff:ff") /
              ARP(op=1, hwsrc=PEER_MAC, psrc=PEER_IP, pdst=US_IP)]
    frames += [eth / ip / ICMP(type=8, id=99, seq=s) / Raw(bytes(range(56))) for s in (1, 2)]
    frames += [eth / ip / UDP(sport=5000 + n, dport=7) / Raw(os.urandom(n)) for n in sizes]
    bad = {
        "ip_bad_checksum": eth / IP(src=PEER_IP, dst=US_IP, chksum=1) / UDP(dport=7) / Raw(b"a"),
        # (a first fragment whose length is no multiple of 8)
        "frag_bad_offset": eth / IP(src=PEER_IP, dst=US_IP, flags="MF") / UDP(dport=7) /
        Raw(b"b" * 5),
        "eth_not_for_us": Ether(src=PEER_MAC, dst="02:00:00:00:00:99") / ip / UDP(dport=7),
        "ip_truncated": Raw(bytes(eth / ip / UDP(dport=7))[:20]),
        "ip_unknown_proto": eth / ip / TCP(dport=80, flags="S"),
        "udp_bad_checksum": eth / ip / UDP(dport=7, chksum=0xbad) / Raw(b"d"),
    }
    closed = eth / ip / UDP(sport=1234, dport=9) / Raw(b"closed port")
    wrpcap(inp, frames + [closed] + list(bad.values()))

    cmd = [binary, "-l", "0-1", "--in-memory", "--no-pci", "--log-level=warning", "--",
           "--port", "dpdk:net_pcap0,rx_pcap=%s,tx_pcap=%s" % (inp, outp),
           "--ip", US_IP + "/24", "--mac", US_MAC, "--echo-port", "7", "--dump"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    time.sleep(2)                   # the file is read in microseconds
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=30)
    check(proc.returncode == 0, "pollnet stopped cleanly on SIGTERM (status %d)" % proc.returncode)
    c = parse_counters(out)
    got = rdpcap(outp)

    # What came out, in order: our gratuitous ARP, then the answers.
    arp = [p for p in got if ARP in p]
    check(len(arp) == 2, "two ARP frames out (gratuitous, reply): %d" % len(arp))
    g, r = arp[0], arp[1]
    check(g.dst == "ff:ff:ff:ff:ff:ff" and g[ARP].op == 1 and g[ARP].psrc == US_IP and
          g[ARP].pdst == US_IP and g[ARP].hwsrc == US_MAC, "gratuitous ARP: " + g.summary())
    check(r.dst == PEER_MAC and r.src == US_MAC and r[ARP].op == 2 and r[ARP].hwsrc == US_MAC and
          r[ARP].psrc == US_IP and r[ARP].hwdst == PEER_MAC and r[ARP].pdst == PEER_IP and
          len(r) == 42, "ARP reply: " + r.summary())

    pongs = [p for p in got if ICMP in p and p[ICMP].type == 0]
    check(len(pongs) == 2, "two echo replies")
    for s, p in zip((1, 2), pongs):
        ok = (p.src == US_MAC and p.dst == PEER_MAC and p[IP].src == US_IP and
              p[IP].dst == PEER_IP and p[IP].ttl == 64 and p[ICMP].type == 0 and
              p[ICMP].id == 99 and p[ICMP].seq == s and bytes(p[ICMP].payload) == bytes(range(56)) and
              bytes(rechecksummed(p)) == bytes(p))
        check(ok, "echo reply seq %d, checksums valid: %s" % (s, p.summary()))

    echoes = [p for p in got if UDP in p]
    check(len(echoes) == len(sizes), "%d UDP echoes" % len(sizes))
    for req, p in zip(frames[3:], echoes):
        req = Ether(bytes(req))     # built: lengths and checksums filled in
        ok = (p.dst == PEER_MAC and p[IP].src == US_IP and p[IP].dst == PEER_IP and
              p[UDP].sport == 7 and p[UDP].dport == req[UDP].sport and
              bytes(p[UDP].payload) == bytes(req[UDP].payload) and
              p[UDP].len == req[UDP].len and bytes(rechecksummed(p)) == bytes(p))
        check(ok, "UDP echo of %d bytes, checksums valid" % len(req[UDP].payload))
    # the closed port: an ICMP port unreachable quoting the datagram whole
    unreach = [p for p in got if ICMP in p and p[ICMP].type == 3]
    want = bytes(Ether(bytes(closed))[IP])
    check(len(unreach) == 1 and unreach[0].dst == PEER_MAC and unreach[0][IP].src == US_IP and
          unreach[0][IP].dst == PEER_IP and unreach[0][ICMP].code == 3 and
          bytes(unreach[0][ICMP].payload) == want and
          bytes(rechecksummed(unreach[0])) == bytes(unreach[0]),
          "closed port: a port unreachable quoting the datagram, checksums valid (%s)" %
          [p.summary() for p in unreach])
    check(len(got) == 2 + 2 + 1 + len(sizes), "nothing else sent (%d frames)" % len(got))

    n_in = len(frames) + 1 + len(bad)
    check(c["stack.rx_frames"] == n_in, "rx_frames == %d frames in the file" % n_in)
    check(c["stack.rx_answered"] == 4, "answered: 1 ARP + 2 ICMP + 1 port unreachable")
    check(c["stack.icmp_unreach_sent"] == 1, "icmp_unreach_sent == 1")
    check(c["stack.rx_delivered"] == len(sizes), "delivered: %d datagrams" % len(sizes))
    for reason in bad:
        check(c["stack.rx_drop." + reason] == 1, "%s counted once" % reason)
    check(c["stack.rx_dropped"] == len(bad), "dropped: %d, nothing else" % len(bad))
    check(c["stack.tx_frames"] == len(got), "tx_frames == frames in the output file")
    check(c["pool.in_use"] == 0, "every mbuf returned")
    # --dump: a line per frame in and out, decoded as pollnetctl tail does
    dump = [ln for ln in out.splitlines() if re.match(r"^ *\d+\.\d{6} [RT]X ", ln)]
    for needle in ("ARP, Request who-has %s tell %s" % (US_IP, PEER_IP),
                   "ARP, Reply %s is-at %s" % (US_IP, US_MAC),
                   "ICMP echo reply, id 99, seq 2", "%s.1234 > %s.9: UDP, length 11" % (PEER_IP, US_IP),
                   "ICMP %s udp port 9 unreachable" % US_IP, "IP, ip id 4242, length 28 [|ipv4]"):
        check(any(needle in ln for ln in dump), "--dump shows ...%s..." % needle)
    check(len(dump) == n_in + len(got), "--dump: a line for each of the %d frames in and %d out "
          "(%d)" % (n_in, len(got), len(dump)))
    if failures:
        print(out)
    finish()


if __name__ == "__main__":
    main()
