#!/usr/bin/python3
"""pollnet's control channel, message by message (ctlproto.py speaks it by
hand): what a client sends that libpollnet never would.

- Messages shorter than a request are answered -EBADMSG with sequence 0
  (their sequence number is not all there), whatever bytes they hold, and
  the session goes on.

usage: test_control.py POLLNET
"""
import errno
import os
import struct
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from netns import check, finish, Namespaces, Pollnet, need_root  # noqa: E402
import ctlproto  # noqa: E402
from ctlproto import REQ, HELLO  # noqa: E402

DUT_IP, PEER_IP = "198.18.0.2", "198.18.0.1"


def short_messages(ctl):
    s = ctlproto.Session(ctl, hello=False)
    full = REQ.pack(HELLO, 0x41414141, 0, 0, 0, ctlproto.VERSION, 0, 0, 0)
    # an op and a sequence number but no more; a byte; all but the last byte
    for n in (8, 1, 4, REQ.size - 1):
        s.send_raw(full[:n])
        r = s.reply()
        check(r is not None and r.status == -errno.EBADMSG and r.seq == 0,
              "a %d-byte message: -EBADMSG, sequence 0 (%s)" % (n, r and (r.status, hex(r.seq))))
    # one byte too many is a whole header: its sequence number is answered
    s.send_raw(full + b"\0")
    r = s.reply()
    check(r is not None and r.status == -errno.EBADMSG and r.seq == 0x41414141,
          "a message one byte too long: -EBADMSG with its sequence (%s)" %
          (r and (r.status, hex(r.seq)),))
    r = s.call(HELLO, version=ctlproto.VERSION)
    check(r.status == 0, "then a whole HELLO is answered (%d)" % r.status)
    sid = s.socket()
    s.send_raw(struct.pack("=II", ctlproto.CLOSE, 9))
    r = s.reply()
    check(r is not None and r.status == -errno.EBADMSG and r.seq == 0,
          "a short CLOSE after HELLO: -EBADMSG, sequence 0 (%s)" % (r and (r.status, r.seq),))
    check(s.close_socket(sid) == 0, "and the socket it did not name is still there to close")
    s.close()


def main():
    need_root()
    binary = sys.argv[1]
    tmp = tempfile.mkdtemp(prefix="pn-control-")
    os.chmod(tmp, 0o755)
    ctl = os.path.join(tmp, "pollnet.sock")
    net = Namespaces(peer_ip=PEER_IP + "/24")
    pn = Pollnet(binary, net.dut, "dpdk:net_af_packet0,iface=%s" % net.dut_if, DUT_IP + "/24",
                 extra=["--ctl", ctl, "--set", "control.mode=0666"])
    short_messages(ctl)
    c = pn.report()
    check(c["control.clients"] == 0 and c["control.sockets"] == 0,
          "every session and socket closed (%d, %d)" % (c["control.clients"],
                                                         c["control.sockets"]))
    counters, _ = pn.stop()
    check(counters["pool.in_use"] == 0, "at exit every mbuf is back")
    finish(pn.log_path)


if __name__ == "__main__":
    main()
