#!/usr/bin/python3
"""Many name lookups in one process under pollnet-run, while resolv.conf
changes between them: libnss_pollnet must read the file once, and again
only when it changed, as glibc's resolver does.

usage: pollnet-run python3 nss_lookups.py NAME CONF_A ADDR_A CONF_B ADDR_B

CONF_A and CONF_B are two resolv.conf contents (paths), each naming a
nameserver that answers NAME with its own address (ADDR_A, ADDR_B);
/etc/resolv.conf holds CONF_A's when this starts.  It is rewritten in
place (the file is a bind mount: renaming another over it would not be
seen), as an administrator's editor or a DHCP client does.

The file's opens are counted with inotify, so whatever opens it counts,
glibc's own resolver included (it reads the file once, and again when it
changes: one more each time).  Prints "ok ..." lines, or "FAIL ..." and
exits 1.
"""
import ctypes
import os
import signal
import socket
import struct
import sys
import threading
import time

NAME, CONF_A, ADDR_A, CONF_B, ADDR_B = sys.argv[1:6]
RESOLV = "/etc/resolv.conf"
IN_OPEN, IN_CLOSE_WRITE, IN_CLOSE_NOWRITE, IN_Q_OVERFLOW = 0x20, 0x08, 0x10, 0x4000
# this process's opens per version of the file: glibc's own resolver's
# (getaddrinfo and gethostbyname consult it before any NSS module) and
# libnss_pollnet's
MAX_OPENS = 2
failed = []


def check(cond, what):
    print("%s %s" % ("ok  " if cond else "FAIL", what), flush=True)
    if not cond:
        failed.append(what)


class Opens:
    """Counts opens of RESOLV.  Closes are watched too: inotify merges an
    event into an identical one still unread, so a stream of IN_OPEN
    alone would count as one."""

    def __init__(self):
        libc = ctypes.CDLL(None, use_errno=True)
        self.fd = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        if self.fd < 0 or libc.inotify_add_watch(
                self.fd, RESOLV.encode(), IN_OPEN | IN_CLOSE_WRITE | IN_CLOSE_NOWRITE) < 0:
            raise OSError(ctypes.get_errno(), "inotify on " + RESOLV)

    def take(self):
        """The opens since the last call."""
        n = 0
        while True:
            try:
                buf = os.read(self.fd, 65536)
            except BlockingIOError:
                return n
            off = 0
            while off < len(buf):
                _, mask, _, nlen = struct.unpack_from("iIII", buf, off)
                if mask & IN_Q_OVERFLOW:
                    raise RuntimeError("inotify queue overflow")
                n += bool(mask & IN_OPEN)
                off += 16 + nlen


def rewrite(path, opens):
    """RESOLV in place (same inode) with path's contents; its own open
    is not counted."""
    with open(path) as f:
        text = f.read()
    # past the granularity of the file system's timestamps, so that the
    # change shows in the mtime even where the size stays the same
    time.sleep(0.05)
    with open(RESOLV, "w") as f:
        f.write(text)
    opens.take()


def lookups(addr, n):
    """n rounds of the three kinds of lookup; the wrong answers."""
    wrong = []
    for _ in range(n):
        got = [socket.gethostbyname(NAME),
               sorted({a[4][0] for a in socket.getaddrinfo(NAME, 53, socket.AF_UNSPEC,
                                                           socket.SOCK_DGRAM)}),
               socket.gethostbyaddr(addr)[0]]
        if got != [addr, [addr], NAME]:
            wrong.append(got)
    return wrong


def main():
    opens = Opens()
    st = os.stat(RESOLV)

    wrong = lookups(ADDR_A, 20)
    n = opens.take()
    check(not wrong, "60 lookups (gethostbyname, getaddrinfo, gethostbyaddr) answered "
          "by the first nameserver: %s" % wrong[:2])
    check(n <= MAX_OPENS, "%s opened %d times for 60 lookups (at most %d: glibc and "
          "libnss_pollnet read it once each)" % (RESOLV, n, MAX_OPENS))

    rewrite(CONF_B, opens)
    st2 = os.stat(RESOLV)
    what = "same inode, %s size" % ("same" if st2.st_size == st.st_size else "another")
    check(st2.st_ino == st.st_ino, "resolv.conf rewritten in place (%s)" % what)
    got = socket.gethostbyname(NAME)
    check(got == ADDR_B, "the first lookup after the change asks the new nameserver: %s "
          "(want %s)" % (got, ADDR_B))
    wrong = lookups(ADDR_B, 20)
    n = opens.take()
    check(not wrong, "60 more lookups, all from the new nameserver: %s" % wrong[:2])
    check(n <= MAX_OPENS, "%s opened %d times after the change (at most %d)" %
          (RESOLV, n, MAX_OPENS))

    # several threads at once find the file changed: read once, by one
    rewrite(CONF_A, opens)
    barrier = threading.Barrier(4)
    results = []

    def worker():
        barrier.wait()
        results.extend(socket.gethostbyname(NAME) for _ in range(10))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    n = opens.take()
    check(results == [ADDR_A] * 40, "4 threads, 10 lookups each, right after a change: "
          "all from the first nameserver again (%s)" %
          sorted(set(results) - {ADDR_A}))
    check(n <= MAX_OPENS, "%s opened %d times by the 4 threads (at most %d)" %
          (RESOLV, n, MAX_OPENS))

    # fork while other threads look names up: a child must not inherit a
    # lock no thread of its own will release
    stop = threading.Event()

    def busy():
        while not stop.is_set():
            socket.gethostbyname(NAME)

    threads = [threading.Thread(target=busy) for _ in range(3)]
    for t in threads:
        t.start()
    statuses = []
    for i in range(20):
        time.sleep(0.01 * (i % 5))
        pid = os.fork()
        if pid == 0:
            try:
                signal.alarm(20)
                os._exit(0 if socket.gethostbyname(NAME) == ADDR_A else 3)
            except BaseException:
                os._exit(4)
        statuses.append(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
    stop.set()
    for t in threads:
        t.join()
    check(statuses == [0] * 20, "20 children forked amid other threads' lookups each "
          "looked a name up (exit statuses %s)" % sorted(set(statuses)))

    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
