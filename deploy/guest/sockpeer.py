"""The far end of QEMU's -netdev socket: Ethernet frames as UDP datagrams on
loopback.  Plays a host on the guest's LAN (10.0.2.2): ARP-pings pollnet,
sends it the hostile frames of tests/integration/hostile.py (none may be
answered), then exchanges UDP datagrams with its echo service, checking
every frame.  Prints "HOSTILE-EXPECT counter=n ..." for the host to compare
with the guest's counters.
usage: sockpeer.py QEMU_PORT OUR_PORT COUNT"""
import os
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "tests", "integration"))
import hostile  # noqa: E402

from scapy.all import ARP, IP, UDP, Ether, Raw

qemu_port, our_port, count = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
MY_MAC, MY_IP, GUEST_IP = "52:55:0a:00:02:02", "10.0.2.2", "10.0.2.15"
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", our_port))
s.settimeout(0.5)


def exchange(frame, match, what):
    for _ in range(6):
        s.sendto(bytes(frame), ("127.0.0.1", qemu_port))
        end = time.time() + 2
        while time.time() < end:
            try:
                data, _ = s.recvfrom(4096)
            except socket.timeout:
                continue
            f = Ether(data)
            if match(f):
                print("  %s: %s" % (what, f.summary()), flush=True)
                return f
    print("  %s: no answer" % what, flush=True)
    return None


arp = exchange(Ether(src=MY_MAC, dst="ff:ff:ff:ff:ff:ff") /
               ARP(op=1, hwsrc=MY_MAC, psrc=MY_IP, pdst=GUEST_IP),
               lambda f: ARP in f and f[ARP].op == 2 and f[ARP].psrc == GUEST_IP,
               "ARP who-has %s" % GUEST_IP)
bad = arp is None
guest_mac = arp[ARP].hwsrc if arp else "ff:ff:ff:ff:ff:ff"

# hostile frames: every one dropped, none answered
cases = hostile.cases(guest_mac, GUEST_IP, MY_MAC, MY_IP, "10.0.2.255")
for _, frame, _, _ in cases:
    s.sendto(frame, ("127.0.0.1", qemu_port))
    time.sleep(0.05)
answers, own = [], 0
end = time.time() + 2
while time.time() < end:
    try:
        data, _ = s.recvfrom(4096)
    except socket.timeout:
        continue
    f = Ether(data)
    if f.type == 0x86dd:
        own += 1        # the guest kernel's own IPv6 (pn0 coming up), no answer
    elif not (ARP in f and f[ARP].op == 2 and f[ARP].pdst == MY_IP and f[ARP].hwdst == MY_MAC):
        answers.append(f.summary())
print("  %d hostile frames sent, answered: %s (and %d IPv6 frames of the guest kernel's own)" %
      (len(cases), "; ".join(answers) or "none", own), flush=True)
print("HOSTILE-EXPECT " + " ".join("%s=%d" % kv for kv in sorted(hostile.expected(cases).items())),
      flush=True)
bad |= answers != []
for i in range(count):
    payload = b"over-the-socket-%d" % i
    f = exchange(Ether(src=MY_MAC, dst=guest_mac) / IP(src=MY_IP, dst=GUEST_IP) /
                 UDP(sport=40000 + i, dport=7) / Raw(payload),
                 lambda f, p=payload: UDP in f and f[UDP].sport == 7 and bytes(f[UDP].payload) == p,
                 "UDP echo %d" % i)
    bad |= f is None
print("socket peer: %s" % ("all answered" if not bad else "MISSING answers"), flush=True)
sys.exit(1 if bad else 0)
