"""The kernel side of the socket tests: the lab's server.py (answers every
datagram with "this is the host!") and a UDP echo server, on one thread,
until killed.   usage: servers.py LAB_PORT ECHO_PORT"""
import select
import socket
import sys

lab = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
lab.bind(("0.0.0.0", int(sys.argv[1])))
echo = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
echo.bind(("0.0.0.0", int(sys.argv[2])))
print("serving", flush=True)
while True:
    for s in select.select([lab, echo], [], [])[0]:
        data, addr = s.recvfrom(4096)
        s.sendto(b"this is the host!" if s is lab else data, addr)
