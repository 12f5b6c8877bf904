"""A UDP client on the host sending datagrams to the guest's echo service and
checking each echo: through QEMU's hostfwd (PORT: 127.0.0.1:PORT ->
10.0.2.15:7), or straight to it over a tap (10.0.2.15:7).
usage: hostclient.py [ADDR:]PORT COUNT [TAG]"""
import os
import socket
import sys

addr, _, port = sys.argv[1].rpartition(":")
addr, port, count = addr or "127.0.0.1", int(port), int(sys.argv[2])
tag = sys.argv[3] if len(sys.argv) > 3 else "pollnet-hostfwd"
sizes = [1, 18, 100, 512, 1000, 1472]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
bad = 0
for i in range(count):
    size = sizes[i % len(sizes)]
    head = ("%s-%d:" % (tag, i)).encode()
    msg = (head + os.urandom(size))[:size] if size >= len(head) else head[:size]
    for attempt in range(3):       # the first may wait for the guest's ARP
        s.sendto(msg, (addr, port))
        try:
            data, _ = s.recvfrom(4096)
            break
        except socket.timeout:
            data = None
    ok = data == msg
    bad += not ok
    print("  host -> %s:%d %4d bytes, echo %s" %
          (addr, port, size, "identical" if ok else "MISSING or different"), flush=True)
print("host: %d of %d echoes identical" % (count - bad, count), flush=True)
sys.exit(1 if bad else 0)
