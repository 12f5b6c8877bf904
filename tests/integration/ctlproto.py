"""pollnet's control protocol by hand (abi/pn_control.h): one
SOCK_SEQPACKET message each way.  For tests that must send what libpollnet
never sends (short messages), or see a reply's fields as they are (the
local port a CONNECT leaves a socket)."""
import collections
import os
import re
import socket
import struct

_abi = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "abi")
with open(os.path.join(_abi, "pn_versions.h")) as _f:
    _hdr = _f.read()
with open(os.path.join(_abi, "pn_control.h")) as _f:
    _hdr += _f.read()
VERSION = int(re.search(r"#define PN_CTL_VERSION\s+(\d+)", _hdr).group(1))
BIND_REUSEADDR = int(re.search(r"#define PN_BIND_REUSEADDR\s+(\d+)u", _hdr).group(1))
HELLO, SOCKET, BIND, CONNECT, CLOSE, CAPTURE = range(1, 7)

# struct pn_ctl_req and struct pn_ctl_rep
REQ = struct.Struct("=IIIIHHIII")
REP = struct.Struct("=IiIIHHI")
Reply = collections.namedtuple("Reply", "seq status sock_id addr port version region_size")


def _be32(ip):
    return struct.unpack("=I", socket.inet_aton(ip))[0]


def _be16(port):
    return struct.unpack("=H", struct.pack("!H", port))[0]


class Session:
    """One control connection; hello=True says HELLO first (and expects 0)."""

    def __init__(self, path, hello=True):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.s.connect(path)
        self.s.settimeout(5)
        self.seq = 0
        if hello:
            st = self.call(HELLO, version=VERSION).status
            assert st == 0, "HELLO: %d" % st

    def send_raw(self, data):
        self.s.send(data)

    def reply(self):
        """The next reply (descriptors it carries are closed), or None if
        the message is too short to be one."""
        msg, fds, _, _ = socket.recv_fds(self.s, 64, 4)
        for fd in fds:
            os.close(fd)
        if len(msg) < REP.size:
            return None
        r = Reply(*REP.unpack(msg[:REP.size]))
        return r._replace(port=struct.unpack("!H", struct.pack("=H", r.port))[0])

    def call(self, op, sock_id=0, addr="0.0.0.0", port=0, version=0, arg=0):
        self.seq += 1
        self.s.send(REQ.pack(op, self.seq, sock_id, _be32(addr), _be16(port), version, arg,
                             0, 0))
        r = self.reply()
        assert r is not None and r.seq == self.seq, r
        return r

    def socket(self):
        r = self.call(SOCKET)
        assert r.status == 0, "SOCKET: %d" % r.status
        return r.sock_id

    def bind(self, sid, port, reuse=False):
        """(status, local port)"""
        r = self.call(BIND, sid, port=port, arg=BIND_REUSEADDR if reuse else 0)
        return r.status, r.port

    def connect(self, sid, addr, port):
        """(status, local port); addr 0.0.0.0 and port 0: disconnect"""
        r = self.call(CONNECT, sid, addr=addr, port=port)
        return r.status, r.port

    def close_socket(self, sid):
        return self.call(CLOSE, sid).status

    def close(self):
        self.s.close()
