#!/usr/bin/python3
"""UDP sockets driven step by step, one step a line on stdin, one answer a
line on stdout: run on the kernel's sockets as it is, on pollnet's under
pollnet-run, so that a test can hold the two answers side by side.

usage: [pollnet-run] python3 bind_steps.py PEER_IP

  new X               a UDP socket named X                       ok
  reuse X             SO_REUSEADDR on                            ok
  bind X PORT         bind to 0.0.0.0:PORT (0: ephemeral; eN:    ok, or the errno's
                      the port `name` called eN)                  name (EADDRINUSE)
  connect X PORT      connect to PEER_IP:PORT                    ok or errno
  disconnect X        connect(AF_UNSPEC)                         ok or errno
  name X              getsockname's port: a port the steps        7100, 0, e1, ...
                      named, 0, or eN for the Nth ephemeral port
                      seen (the same port, the same name)
  close X                                                        ok
  recv N              N datagrams, to whichever sockets get      the names of the
                      them (the test sends them): who got        sockets, in order
                      each, within 3 s; more in the next          ("b b b"; "+a" for
                      0.3 s are marked                            one too many)
"""
import ctypes
import errno
import select
import socket
import sys
import time

PEER = sys.argv[1]
socks = {}
ephemeral = {}
named = set()
libc = ctypes.CDLL(None, use_errno=True)


def port_name(p):
    if p == 0 or p in named:
        return str(p)
    if p not in ephemeral:
        ephemeral[p] = "e%d" % (len(ephemeral) + 1)
    return ephemeral[p]


def port_of(text):
    if text.startswith("e"):
        return next(p for p, n in ephemeral.items() if n == text)
    named.add(int(text))
    return int(text)


def disconnect(s):
    # connect(AF_UNSPEC): Python's connect() takes no such address
    sa = (ctypes.c_ubyte * 16)()
    if libc.connect(s.fileno(), sa, 16) != 0:
        raise OSError(ctypes.get_errno(), "connect(AF_UNSPEC)")


def recv(n):
    got, end = [], time.time() + 3
    while len(got) < n and time.time() < end:
        ready, _, _ = select.select(list(socks.values()), [], [], 0.05)
        for s in ready:
            s.recv(2048)
            got.append(next(k for k, v in socks.items() if v is s))
    extra, end = [], time.time() + 0.3
    while time.time() < end:
        ready, _, _ = select.select(list(socks.values()), [], [], 0.05)
        for s in ready:
            s.recv(2048)
            extra.append("+" + next(k for k, v in socks.items() if v is s))
    return " ".join(got + extra + ["-"] * (n - len(got)))


def step(words):
    op, x = words[0], words[1]
    if op == "recv":
        return recv(int(x))
    if op == "new":
        socks[x] = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        return "ok"
    s = socks[x]
    if op == "reuse":
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    elif op == "bind":
        s.bind(("0.0.0.0", port_of(words[2])))
    elif op == "connect":
        s.connect((PEER, port_of(words[2])))
    elif op == "disconnect":
        disconnect(s)
    elif op == "name":
        return port_name(s.getsockname()[1])
    elif op == "close":
        s.close()
        del socks[x]
    else:
        return "unknown step " + op
    return "ok"


for line in sys.stdin:
    try:
        out = step(line.split())
    except OSError as e:
        out = errno.errorcode.get(e.errno, str(e.errno))
    print(out, flush=True)
