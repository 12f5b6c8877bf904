#!/usr/bin/python3
"""Datagrams longer than a frame, written down: what a program sees.

usage: frag_cases.py cases PEER_IP ECHO_PORT
       frag_cases.py echo ADDRESS PORT SECONDS

`cases` sends datagrams of 1,473 to 65,508 bytes to an echo server on
PEER_IP (they leave in IP fragments, and come back in them) under each of
IP_MTU_DISCOVER's modes, and prints one line per observation with nothing
in it that differs from one run to the next: run on the kernel's sockets
and under pollnet-run, the two transcripts must be equal.

`echo` is the server: each datagram back to its sender, bound to ADDRESS.
"""
import errno
import os
import socket
import sys
import time

IP_MTU_DISCOVER, IP_MTU = 10, 14
MODES = ["DONT", "WANT", "DO", "PROBE", "INTERFACE", "OMIT"]


def out(*what):
    print(*what, flush=True)


def res(f):
    try:
        r = f()
        return "ok" if r is None else repr(r)
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))


def echo(addr, port, seconds):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, port))
    s.settimeout(0.5)
    end = time.time() + seconds
    while time.time() < end:
        try:
            data, frm = s.recvfrom(65536)
        except socket.timeout:
            continue
        s.sendto(data, frm)


def round_trip(s, peer, data):
    """Send data to the echo; whether it came back whole."""
    sent = res(lambda: s.sendto(data, peer))
    if sent != repr(len(data)):
        return "sent " + sent
    try:
        got, frm = s.recvfrom(65536)
    except socket.timeout:
        return "sent, no echo"
    return "sent, echoed %s" % ("intact" if got == data and frm == peer else
                                "DIFFERENT (%d bytes)" % len(got))


def cases(peer):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(3)
    out("IP_MTU_DISCOVER by default:", MODES[s.getsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER)])
    for n in (1472, 1473, 2000, 3000, 8000, 16385, 30000, 60000, 65507):
        out(n, "bytes:", round_trip(s, peer, os.urandom(n)))
    out("65508 bytes:", res(lambda: s.sendto(b"x" * 65508, peer)))
    for mode, name in enumerate(MODES):
        s.setsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER, mode)
        for n in (1472, 1473, 9000):
            out("IP_PMTUDISC_%s," % name, n, "bytes:", round_trip(s, peer, os.urandom(n)))
    s.setsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER, 1)
    # a connected socket, and a datagram read into less than it holds
    c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    c.settimeout(3)
    out("connect:", res(lambda: c.connect(peer)), "IP_MTU",
        res(lambda: c.getsockopt(socket.IPPROTO_IP, IP_MTU)))
    data = os.urandom(40000)
    out("send 40000 connected:", res(lambda: c.send(data)))
    got, anc, flags, _ = c.recvmsg(1000)
    out("recvmsg into 1000: got", len(got), "MSG_TRUNC", bool(flags & socket.MSG_TRUNC),
        "its first bytes", got == data[:1000])
    # a burst: five 20,000-byte datagrams at once (what the kernel's
    # default buffers hold), every one back
    for _ in range(5):
        c.send(b"b" * 20000)
    n = 0
    try:
        for _ in range(5):
            n += len(c.recv(65536)) == 20000
    except socket.timeout:
        pass
    out("five 20000-byte datagrams at once: echoed", n)
    c.close()
    s.close()


def main():
    if sys.argv[1] == "echo":
        echo(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
        return
    out("## cases")
    cases((sys.argv[2], int(sys.argv[3])))
    out("## end")


if __name__ == "__main__":
    main()
