#!/usr/bin/python3
"""A TCP echo's round trip: N random bytes to HOST:PORT, the write side
shut, everything read back and compared.  Prints one line; exits 1 if the
bytes did not come back intact.

usage: tcp_echo_client.py HOST PORT N [TIMEOUT_S]
"""
import os
import socket
import sys


def main():
    if len(sys.argv) not in (4, 5):
        sys.exit(__doc__.split("usage:")[1].strip())
    d = os.urandom(int(sys.argv[3]))
    s = socket.create_connection((sys.argv[1], int(sys.argv[2])),
                                 timeout=float(sys.argv[4]) if len(sys.argv) == 5 else 10)
    s.sendall(d)
    s.shutdown(socket.SHUT_WR)
    got = bytearray()
    while True:
        b = s.recv(65536)
        if not b:
            break
        got += b
    print("tcp %d bytes back %s" % (len(d), "intact" if got == d else
                                     "DIFFERENT (%d bytes)" % len(got)))
    sys.exit(0 if got == d else 1)


if __name__ == "__main__":
    main()
