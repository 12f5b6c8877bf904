#!/usr/bin/python3
"""A UDP echo server with a timeout on its socket, as a user writes one.

usage: pollnet-run python3 echo_timeout.py PORT IDLE_S LIMIT_S

Binds PORT, sets a 0.5 s timeout on the socket, and echoes every datagram
to its sender.  A receive that times out is only a quiet spell; a send
that times out is the fault this server is for: a UDP send on the kernel
does not stall for half a second, so it is counted (with the longest send)
and the datagram is given up.  So is a send that succeeded only after
waiting its whole timeout: the wait for room slept to its deadline (no
wake-up came) and the last look, at the deadline, found room.  Once datagrams have come and none has for
IDLE_S seconds (every datagram pollnet delivered has been read: the ring
is empty), it prints one line of counts, "done received=... sent=...
send_timeouts=... sends_whole_timeout=... send_errors=...
longest_send_ms=...", and waits for a
line on stdin before it closes the socket, so that the socket's counters
can be read while it still exists.  It gives up after LIMIT_S seconds,
whatever came.
"""
import socket
import sys
import time

PORT, IDLE, LIMIT = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
TIMEOUT = 0.5

s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", PORT))
s.settimeout(TIMEOUT)
print("ready", s.getsockname()[1], flush=True)

received = sent = send_timeouts = whole_timeout = send_errors = 0
longest = 0.0
first_error = ""
quiet_since = None
start = time.monotonic()
while time.monotonic() - start < LIMIT:
    try:
        data, peer = s.recvfrom(2048)
    except socket.timeout:
        now = time.monotonic()
        if received == 0:
            continue
        if quiet_since is None:
            quiet_since = now - TIMEOUT
        if now - quiet_since >= IDLE:
            break
        continue
    quiet_since = None
    received += 1
    t0 = time.monotonic()
    try:
        s.sendto(data, peer)
        sent += 1
    except socket.timeout:
        send_timeouts += 1
    except OSError as e:
        send_errors += 1
        first_error = first_error or repr(e)
    dt = time.monotonic() - t0
    longest = max(longest, dt)
    if dt >= TIMEOUT:
        whole_timeout += 1

print("done received=%d sent=%d send_timeouts=%d sends_whole_timeout=%d send_errors=%d "
      "longest_send_ms=%.1f%s" %
      (received, sent, send_timeouts, whole_timeout, send_errors, longest * 1000,
       " first_error=" + first_error if first_error else ""), flush=True)
sys.stdin.readline()
s.close()
