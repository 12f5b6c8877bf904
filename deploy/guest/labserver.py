"""The lab's server.py, on the host's loopback: answers every UDP datagram
with "this is the host!".  The guest reaches it as 10.0.2.2.
usage: labserver.py PORT SECONDS (it stops by itself after SECONDS)"""
import socket
import sys
import time

s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.settimeout(0.5)
end = time.time() + float(sys.argv[2])
print("lab server on 127.0.0.1:%s" % sys.argv[1], flush=True)
n = 0
while time.time() < end:
    try:
        data, addr = s.recvfrom(4096)
    except socket.timeout:
        continue
    s.sendto(b"this is the host!", addr)
    n += 1
print("lab server: %d datagrams answered" % n, flush=True)
