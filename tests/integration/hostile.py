"""Hostile frames from a peer on pollnet's LAN: spoofed sources that must
never be answered.  Shared by the host's test (tests/integration/
test_hostile.py, from a namespace over veth or tap) and the guest's
(deploy/guest/sockpeer.py, over QEMU's -netdev socket).

Each case is (name, frame, counter, n): the bytes to send, and the counter
of pollnet's that must grow by n because of it (stack.rx_drop.* for a
frame the stack refuses, stack.tx_drop.bad_destination for an answer it
refuses to send).  None of them may cause a single frame from pollnet.
"""


def cases(our_mac, our_ip, peer_mac, peer_ip, bcast_ip, echo_port=7):
    from scapy.all import ARP, ICMP, IP, UDP, Ether, Raw

    eth = Ether(src=peer_mac, dst=our_mac)

    def ping(src, seq):
        return eth / IP(src=src, dst=our_ip) / ICMP(type=8, id=0x4e54, seq=seq) / Raw(b"hostile")

    def who_has(sha, sip):
        return (Ether(src=peer_mac, dst="ff:ff:ff:ff:ff:ff") /
                ARP(op=1, hwsrc=sha, psrc=sip, pdst=our_ip))

    out = [
        # the loop: our own address (or loopback) and the echo port as the
        # source, to the echo port
        ("udp from our own address, port 7 to port 7",
         eth / IP(src=our_ip, dst=our_ip) / UDP(sport=echo_port, dport=echo_port) / Raw(b"loop"),
         "stack.rx_drop.ip_src_ours", 1),
        ("udp from 127.0.0.1, port 7 to port 7",
         eth / IP(src="127.0.0.1", dst=our_ip) / UDP(sport=echo_port, dport=echo_port) / Raw(b"loop"),
         "stack.rx_drop.ip_src_loopback", 1),
        # reflectors: echo requests whose answer would go to everyone
        ("ping from 255.255.255.255", ping("255.255.255.255", 1), "stack.rx_drop.ip_src_broadcast", 1),
        ("ping from our subnet's broadcast", ping(bcast_ip, 2), "stack.rx_drop.ip_src_broadcast", 1),
        ("ping from 224.0.0.1", ping("224.0.0.1", 3), "stack.rx_drop.ip_src_multicast", 1),
        ("ping from 127.0.0.1", ping("127.0.0.1", 4), "stack.rx_drop.ip_src_loopback", 1),
        ("ping from our own address", ping(our_ip, 5), "stack.rx_drop.ip_src_ours", 1),
        ("ping from 0.0.0.0", ping("0.0.0.0", 6), "stack.rx_drop.ip_src_this_net", 1),
        ("ping from 240.0.0.1 (class E)", ping("240.0.0.1", 7), "stack.rx_drop.ip_src_class_e", 1),
        ("ping with Ethernet source ff:ff:ff:ff:ff:ff",
         Ether(src="ff:ff:ff:ff:ff:ff", dst=our_mac) / IP(src=peer_ip, dst=our_ip) /
         ICMP(type=8, id=0x4e54, seq=8) / Raw(b"hostile"),
         "stack.rx_drop.eth_bad_source", 1),
        ("udp with a multicast Ethernet source",
         Ether(src="01:00:5e:00:00:01", dst=our_mac) / IP(src=peer_ip, dst=our_ip) /
         UDP(sport=5000, dport=echo_port) / Raw(b"hostile"),
         "stack.rx_drop.eth_bad_source", 1),
        # delivered to the echo service, which must not answer port 0
        ("udp from source port 0 to the echo service",
         eth / IP(src=peer_ip, dst=our_ip) / UDP(sport=0, dport=echo_port) / Raw(b"port zero"),
         "stack.tx_drop.bad_destination", 1),
        # ARP senders that can be neither learned nor answered
        ("ARP who-has from a broadcast sender MAC", who_has("ff:ff:ff:ff:ff:ff", peer_ip),
         "stack.rx_drop.arp_bad_sender", 1),
        ("ARP who-has from sender 127.0.0.1", who_has(peer_mac, "127.0.0.1"),
         "stack.rx_drop.arp_bad_sender", 1),
        ("ARP who-has claiming our own address", who_has(peer_mac, our_ip),
         "stack.rx_drop.arp_bad_sender", 1),
    ]
    return [(name, bytes(f), counter, n) for name, f, counter, n in out]


def expected(case_list):
    """counter -> how much it must grow."""
    want = {}
    for _, _, counter, n in case_list:
        want[counter] = want.get(counter, 0) + n
    return want
