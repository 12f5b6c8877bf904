"""The lab's server.py, on the host's loopback: answers every UDP datagram
with "this is the host!".  The guest reaches it as 10.0.2.2.  With
ECHO_PORT, also a UDP echo server there (for the programs the guest runs
under pollnet-run).
usage: labserver.py PORT SECONDS [ECHO_PORT] (it stops by itself after SECONDS)"""
import select
import socket
import sys
import time

s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
socks = [s]
if len(sys.argv) > 3:
    e = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    e.bind(("127.0.0.1", int(sys.argv[3])))
    socks.append(e)
end = time.time() + float(sys.argv[2])
print("lab server on 127.0.0.1:%s" % sys.argv[1], flush=True)
n = echoed = 0
while time.time() < end:
    for r in select.select(socks, [], [], 0.5)[0]:
        data, addr = r.recvfrom(65536)
        if r is s:
            r.sendto(b"this is the host!", addr)
            n += 1
        else:
            r.sendto(data, addr)
            echoed += 1
print("lab server: %d datagrams answered, %d echoed" % (n, echoed), flush=True)
