#!/usr/bin/python3
"""Python's socket module under pollnet-run: a user's program, unchanged.

usage: pollnet-run python3 preload_py.py CASE PEER_IP PEER_PORT

PEER_IP:PEER_PORT is a UDP echo server.  Each case prints "ok CASE ..."
lines (or raises, exit 1).
"""
import asyncio
import errno
import os
import selectors
import signal
import socket
import sys
import threading
import time

CASE, PEER, PORT = sys.argv[1], sys.argv[2], int(sys.argv[3])
ADDR = (PEER, PORT)


def ok(what):
    print("ok", CASE, what, flush=True)


def echo(s, msg, timeout=2.0):
    s.settimeout(timeout)
    s.sendto(msg, ADDR)
    data, frm = s.recvfrom(4096)
    assert data == msg and frm == ADDR, (data[:20], frm)
    return data


def case_blocking():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", 0))
    name = s.getsockname()
    assert name[1] != 0, name
    s.sendto(b"hello", ADDR)
    data, frm = s.recvfrom(2048)          # blocking, no timeout
    assert data == b"hello" and frm == ADDR, (data, frm)
    ok("blocking recvfrom got the echo from %s:%d on port %d" % (frm[0], frm[1], name[1]))
    for n in (1, 100, 1472):
        echo(s, os.urandom(n))
    ok("1, 100 and 1472 bytes echoed intact")
    for n in (1473, 1900):
        echo(s, os.urandom(n))
    ok("1473 and 1900 bytes echoed intact (in fragments, as the kernel sends them; "
       "test_frag.py has them to 65507 on a port that passes fragments)")
    s.setsockopt(socket.IPPROTO_IP, 10, 2)      # IP_MTU_DISCOVER, IP_PMTUDISC_DO
    try:
        s.sendto(b"x" * 1473, ADDR)
        raise AssertionError("1473 bytes sent with IP_PMTUDISC_DO")
    except OSError as e:
        assert e.errno == errno.EMSGSIZE, e
    s.setsockopt(socket.IPPROTO_IP, 10, 1)      # back to IP_PMTUDISC_WANT
    ok("1473 bytes with IP_PMTUDISC_DO: EMSGSIZE")
    s.connect(ADDR)
    assert s.getpeername() == ADDR
    s.send(b"connected")
    assert s.recv(100) == b"connected"
    ok("connect, getpeername, send, recv")
    s.connect(("0.0.0.0", 0)) if False else None
    s.close()


def case_timeout():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", 0))
    s.settimeout(0.3)
    t0 = time.monotonic()
    try:
        s.recvfrom(100)
        raise AssertionError("received from nobody")
    except socket.timeout:
        pass
    dt = time.monotonic() - t0
    assert 0.25 < dt < 2.0, dt
    ok("settimeout(0.3): timed out after %.2f s" % dt)
    # SO_RCVTIMEO on a blocking socket: the kernel's EAGAIN
    s.settimeout(None)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, b"\x00\x00\x00\x00\x00\x00\x00\x00"
                 b"\x20\xa1\x07\x00\x00\x00\x00\x00")    # 0 s, 500000 us
    t0 = time.monotonic()
    try:
        s.recv(100)
        raise AssertionError("received from nobody")
    except BlockingIOError:
        pass
    dt = time.monotonic() - t0
    assert 0.4 < dt < 2.0, dt
    ok("SO_RCVTIMEO 0.5 s: EAGAIN after %.2f s" % dt)
    s.setblocking(False)
    try:
        s.recv(100)
        raise AssertionError("received from nobody")
    except BlockingIOError:
        pass
    ok("setblocking(False): EAGAIN at once")


def case_selectors():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setblocking(False)
    r, w = os.pipe()
    for cls in (selectors.SelectSelector, selectors.PollSelector, selectors.EpollSelector):
        sel = cls()
        sel.register(s, selectors.EVENT_READ, "udp")
        sel.register(r, selectors.EVENT_READ, "pipe")
        assert sel.select(0.1) == [], cls
        s.sendto(b"sel", ADDR)
        ev = sel.select(2.0)
        assert [k.data for k, _ in ev] == ["udp"], (cls, ev)
        assert s.recv(10) == b"sel"
        os.write(w, b"p")
        ev = sel.select(2.0)
        assert [k.data for k, _ in ev] == ["pipe"], (cls, ev)
        os.read(r, 1)
        assert sel.select(0) == []
        sel.close()
        ok("%s: the pollnet socket and a pipe in one set, each woke it" % cls.__name__)


def case_asyncio():
    class Proto(asyncio.DatagramProtocol):
        def __init__(self):
            self.got = asyncio.get_event_loop().create_future()
            self.n = 0

        def datagram_received(self, data, addr):
            self.n += 1
            if self.n == 100:
                self.got.set_result(addr)

    async def run():
        loop = asyncio.get_running_loop()
        tr, pr = await loop.create_datagram_endpoint(Proto, remote_addr=ADDR)
        for i in range(100):
            tr.sendto(b"a%d" % i)
            await asyncio.sleep(0)
        addr = await asyncio.wait_for(pr.got, 5)
        tr.close()
        return addr

    addr = asyncio.run(run())
    assert addr == ADDR, addr
    ok("asyncio datagram endpoint: 100 sent, 100 echoed")


def case_sigalrm():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", 0))
    fired = []
    signal.signal(signal.SIGALRM, lambda *a: fired.append(1))
    signal.setitimer(signal.ITIMER_REAL, 0.2)
    # Python retries on EINTR (PEP 475) after running the handler: the
    # handler ran and the call went on waiting; a second alarm raises
    def raiser(*a):
        raise InterruptedError("alarm")
    t0 = time.monotonic()
    signal.signal(signal.SIGALRM, raiser)
    signal.setitimer(signal.ITIMER_REAL, 0.3)
    try:
        s.recv(100)
        raise AssertionError("received from nobody")
    except InterruptedError:
        pass
    dt = time.monotonic() - t0
    assert dt < 2.0, dt
    ok("SIGALRM interrupted a blocking recv after %.2f s" % dt)


def case_fork():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", 0))
    s.settimeout(2)
    pid = os.fork()
    if pid == 0:
        try:
            echo(s, b"from the child")
            os._exit(0)
        except BaseException as e:  # noqa: B036
            print("child:", repr(e), flush=True)
            os._exit(1)
    _, st = os.waitpid(pid, 0)
    assert st == 0, st
    ok("the child used the parent's socket")
    echo(s, b"from the parent, after")
    ok("the parent's socket still works after the child exited")
    # a socket the child opens is its own, and goes with it
    pid = os.fork()
    if pid == 0:
        c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        echo(c, b"child's own")
        os._exit(0)
    _, st = os.waitpid(pid, 0)
    assert st == 0, st
    ok("the child opened a socket of its own")
    s.close()


def case_subprocess():
    """A program that runs another one: Python's subprocess forks with
    vfork() and closes every descriptor above 2 in the child before it
    execs; the parent's socket must not notice."""
    import subprocess
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", 0))
    s.settimeout(2)
    echo(s, b"before")
    for env in (None, {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}):
        r = subprocess.run(["sh", "-c", "echo ran"], stdout=subprocess.PIPE, env=env)
        assert r.returncode == 0 and r.stdout == b"ran\n", r
        echo(s, b"after a subprocess")
    ok("the socket still works after subprocess.run (close_fds), with and without the shim "
       "in the child")
    r = subprocess.run(["sh", "-c", "echo ran"], stdout=subprocess.PIPE, close_fds=False)
    echo(s, b"after posix_spawn")
    ok("and after one that posix_spawn runs")
    os.system("true")
    echo(s, b"after system")
    ok("and after system()")
    s.close()


def case_dup():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", 0))
    port = s.getsockname()[1]
    fd2 = os.dup(s.fileno())
    target = 40
    os.dup2(s.fileno(), target)
    s.close()                               # two descriptors left
    t = socket.socket(fileno=target)
    assert t.getsockname()[1] == port and t.type == socket.SOCK_DGRAM
    echo(t, b"through dup2")
    ok("dup, dup2: the socket lives on under fd %d" % target)
    t.detach()
    os.close(target)
    u = socket.socket(fileno=fd2)
    echo(u, b"through dup")
    ok("closing one descriptor leaves the other working")
    u.close()
    # close_range closes pollnet sockets too
    a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    lo = min(a.fileno(), b.fileno())
    hi = max(a.fileno(), b.fileno())
    a.detach(), b.detach()
    os.closerange(lo, hi + 1)
    for fd in (lo, hi):
        try:
            os.fstat(fd)
            raise AssertionError("fd %d still open" % fd)
        except OSError as e:
            assert e.errno == errno.EBADF
    ok("closerange closed both")
    # exec: close-on-exec honoured (Python's sockets are inheritable=False)
    c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    fd = c.fileno()
    r = os.system("test -e /proc/self/fd/%d" % fd)
    assert r != 0, "a close-on-exec socket reached a child program"
    ok("close-on-exec: the socket is not in an exec'd program")
    c.close()


def case_reuse():
    """iperf's server: it connects the socket a client reached, then binds
    a new listener to the same port (SO_REUSEADDR on both, as the kernel
    wants); connect moves the socket without a datagram refused meanwhile."""
    a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    a.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    a.bind(("0.0.0.0", 0))
    port = a.getsockname()[1]
    a.connect(ADDR)
    assert a.getsockname()[1] == port
    b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    b.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    b.bind(("0.0.0.0", port))
    ok("SO_REUSEADDR: a listener bound beside a connected socket on port %d" % port)
    c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        c.bind(("0.0.0.0", port))
        raise AssertionError("bound without SO_REUSEADDR")
    except OSError as e:
        assert e.errno == errno.EADDRINUSE, e
    ok("without SO_REUSEADDR: EADDRINUSE")
    echo(a, b"to the connected one")
    ok("the connected socket still gets its peer's datagrams")
    # the listener has its own ephemeral-free port number: sending from it
    # reaches the peer, whose answer goes to the connected socket (the
    # kernel's rule: the more specific match wins)
    b.sendto(b"from the listener", ADDR)
    a.settimeout(2.0)
    assert a.recv(100) == b"from the listener"
    ok("the peer's answer to the shared port went to the connected socket")
    for x in (a, b, c):
        x.close()


def case_threads():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect(ADDR)
    n = 500
    got = []

    def reader():
        s.settimeout(3)
        try:
            while len(got) < 2 * n:
                got.append(s.recv(100))
        except socket.timeout:
            pass

    rt = threading.Thread(target=reader)
    rt.start()

    def sender(tag):
        for i in range(n):
            s.send(b"%s%d" % (tag, i))
            if i % 50 == 0:
                time.sleep(0.005)

    ts = [threading.Thread(target=sender, args=(t,)) for t in (b"a", b"b")]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    rt.join()
    a = sorted(int(x[1:]) for x in got if x[:1] == b"a")
    b = sorted(int(x[1:]) for x in got if x[:1] == b"b")
    # UDP may lose datagrams, but none may be mangled or duplicated
    assert len(set(a)) == len(a) and len(set(b)) == len(b), "duplicates"
    assert len(got) >= n, len(got)
    ok("two threads sending on one socket: %d of %d echoed, none mangled" % (len(got), 2 * n))


def case_unsupported():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    t0 = time.monotonic()
    try:
        s.setsockopt(socket.IPPROTO_IP, socket.IP_OPTIONS, b"\x01\x01\x01\x00")
        raise AssertionError("IP_OPTIONS accepted")
    except OSError as e:
        assert e.errno == errno.ENOPROTOOPT, e
    try:
        # SO_MARK (36) as a control message
        s.sendmsg([b"x"], [(socket.SOL_SOCKET, 36, b"\x10\x00\x00\x00")], 0, ADDR)
        raise AssertionError("control message accepted")
    except OSError as e:
        assert e.errno == errno.EOPNOTSUPP, e
    assert time.monotonic() - t0 < 1
    ok("IP_OPTIONS: ENOPROTOOPT; a SO_MARK control message: EOPNOTSUPP; at once")
    try:
        s.bind(("10.9.9.9", 0))
        raise AssertionError("bound to an address pollnet does not have")
    except OSError as e:
        assert e.errno == errno.EADDRNOTAVAIL, e
    ok("bind to an address not pollnet's: EADDRNOTAVAIL")
    # TCP stays with the kernel
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    assert t.getsockopt(socket.SOL_SOCKET, socket.SO_TYPE) == socket.SOCK_STREAM
    t.close()
    ok("a TCP socket is the kernel's")


def case_buffers():
    """SO_RCVBUF/SO_SNDBUF size the rings; then it waits, for pollnetctl."""
    import struct
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    assert s.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF) == 1024 * 2048
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, struct.pack("ll", 0, 300000))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2 << 20)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 64 << 10)
    rcv = s.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
    snd = s.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF)
    assert (rcv, snd) == (2048 * 2048, 64 * 2048), (rcv, snd)
    ok("SO_RCVBUF 2 MiB, SO_SNDBUF 64 KiB: rings of 2048 and 64 (getsockopt %d, %d)" %
       (rcv, snd))
    t0 = time.monotonic()
    try:
        s.recv(100)
        raise AssertionError("a datagram from nowhere")
    except OSError as e:
        assert e.errno == errno.EAGAIN, e
    assert 0.25 < time.monotonic() - t0 < 2, time.monotonic() - t0
    ok("SO_RCVTIMEO set before the new rings still holds (%.2f s)" % (time.monotonic() - t0))
    s.bind(("0.0.0.0", 0))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    assert s.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF) == 2048 * 2048
    ok("SO_RCVBUF once bound: the rings stay, getsockopt says so")
    # 1500 echoes queue up unread: more than the default ring holds
    for i in range(1500):
        s.sendto(b"%d" % i, ADDR)
        if i % 50 == 49:
            time.sleep(0.01)
    time.sleep(1)
    got = 0
    s.setblocking(False)
    try:
        while True:
            s.recv(100)
            got += 1
    except BlockingIOError:
        pass
    assert got == 1500, got
    ok("1500 datagrams waited in the 2048-entry ring, none lost")
    try:
        s.setsockopt(socket.IPPROTO_IP, socket.IP_OPTIONS, b"\x01\x01\x01\x00")
        raise AssertionError("IP_OPTIONS accepted")
    except OSError as e:
        assert e.errno == errno.ENOPROTOOPT, e
    print("ready %d" % s.getsockname()[1], flush=True)
    sys.stdin.readline()
    s.close()


def case_close_blocked():
    """close() from one thread while another is blocked in recvfrom: the
    number is freed, the socket lives until the call returns, and a
    datagram to its port still reaches the call (the kernel's way)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", 0))
    port, fd = s.getsockname()[1], s.fileno()
    got = []

    def reader():
        try:
            got.append(os.read(fd, 100))    # the raw call, on the number it had
        except OSError as e:
            got.append(e.errno)

    t = threading.Thread(target=reader)
    t.start()
    time.sleep(0.2)
    s.close()
    r, w = os.pipe()
    if w == fd:
        w = os.dup(w)
    if r != fd:
        os.dup2(r, fd)                      # the number, taken by a pipe
    os.write(w, b"pipe")
    time.sleep(0.1)
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.sendto(b"after close", ("127.0.0.1", port))
    t.join(3)
    assert not t.is_alive(), "still blocked 3 s after the datagram"
    assert got == [b"after close"], got
    ok("a receive blocked across close() got the datagram sent after it")
    os.set_blocking(fd, False)
    assert os.read(fd, 10) == b"pipe"
    ok("the number's new owner, a pipe, kept its bytes")


def case_fork_bind():
    """A bind in a child is the parent's: one socket."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        s.bind(("0.0.0.0", 0))
        os.write(w, str(s.getsockname()[1]).encode())
        os._exit(0)
    child = int(os.read(r, 16))
    os.waitpid(pid, 0)
    assert s.getsockname()[1] == child, (s.getsockname(), child)
    ok("the parent's getsockname() shows the port its child bound")
    s.settimeout(3)
    s.sendto(b"fork-bind", ADDR)
    data, frm = s.recvfrom(100)
    assert data == b"fork-bind" and frm == ADDR, (data, frm)
    assert s.getsockname()[1] == child
    ok("the parent sends and receives on that port")


globals()["case_" + CASE]()
