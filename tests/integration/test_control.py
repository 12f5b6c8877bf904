#!/usr/bin/python3
"""pollnet's control channel, message by message (ctlproto.py speaks it by
hand): what a client sends that libpollnet never would.

- Messages shorter than a request are answered -EBADMSG with sequence 0
  (their sequence number is not all there), whatever bytes they hold, and
  the session goes on.
- control.allow_groups: the groups a client had when it connected decide,
  as SO_PEERCRED's uid and gid do, not those its process (or whatever
  process has its pid by then) has when HELLO comes: a client of user
  nobody that joins an allowed group after connecting is refused, one that
  leaves it after connecting is let in; a primary or supplementary group
  at connect time is let in, no group refused.

usage: test_control.py POLLNET
"""
import errno
import grp
import os
import struct
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from netns import check, finish, Namespaces, Pollnet, need_root, sh  # noqa: E402
import ctlproto  # noqa: E402
from ctlproto import REQ, HELLO  # noqa: E402

DUT_IP, PEER_IP = "198.18.0.2", "198.18.0.1"
ALLOWED_GID = grp.getgrnam("sys").gr_gid     # a group nobody is not in


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


# As another user: connect, then (when asked) set the supplementary groups,
# then HELLO; print the reply's status.
HELLO_AS = """
import os, socket, struct, sys
path, version, then = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(path)
if then != "-":
    os.setgroups([int(g) for g in then.split(",") if g])
s.send(struct.pack("=IIIIHHIII", 1, 1, 0, 0, 0, version, 0, 0, 0))
s.settimeout(5)
print(struct.unpack("=Ii", s.recv(64)[:8])[1])
"""


def groups_at_connect(ctl, gid):
    def hello_as(setpriv, then="-"):
        r = sh(*(["setpriv", "--reuid=nobody"] + setpriv +
                 ["/usr/bin/python3", "-c", HELLO_AS, ctl, str(ctlproto.VERSION), then]),
               check=False)
        try:
            return int(r.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            return r.stdout.strip()

    # CAP_SETGID kept across setpriv's change of uid: to change groups
    # after connecting, as a process in the pid's place would have others
    setgid = ["--inh-caps=+setgid", "--ambient-caps=+setgid"]
    st = hello_as(["--regid=nogroup", "--clear-groups"])
    check(st == -errno.EACCES, "nobody in no allowed group: -EACCES (%s)" % st)
    st = hello_as(["--regid=nogroup", "--groups=%d" % gid])
    check(st == 0, "nobody with the allowed group as a supplementary one: let in (%s)" % st)
    st = hello_as(["--regid=%d" % gid, "--clear-groups"])
    check(st == 0, "nobody with the allowed group as its primary one: let in (%s)" % st)
    st = hello_as(["--regid=nogroup", "--clear-groups"] + setgid, then=str(gid))
    check(st == -errno.EACCES, "nobody joining the allowed group after connecting: -EACCES "
          "(%s)" % st)
    st = hello_as(["--regid=nogroup", "--groups=%d" % gid] + setgid, then="")
    check(st == 0, "nobody leaving the allowed group after connecting: let in (%s)" % st)


def main():
    need_root()
    binary = sys.argv[1]
    tmp = tempfile.mkdtemp(prefix="pn-control-")
    os.chmod(tmp, 0o755)
    ctl = os.path.join(tmp, "pollnet.sock")
    net = Namespaces(peer_ip=PEER_IP + "/24")
    pn = Pollnet(binary, net.dut, "dpdk:net_af_packet0,iface=%s" % net.dut_if, DUT_IP + "/24",
                 extra=["--ctl", ctl, "--set", "control.mode=0666",
                        "--set", "control.allow_groups=%d" % ALLOWED_GID])
    short_messages(ctl)
    groups_at_connect(ctl, ALLOWED_GID)
    c = pn.report()
    check(c["control.refused.credentials"] == 2,
          "the two refusals counted (control.refused.credentials %d)" %
          c["control.refused.credentials"])
    check(c["control.clients"] == 0 and c["control.sockets"] == 0,
          "every session and socket closed (%d, %d)" % (c["control.clients"],
                                                         c["control.sockets"]))
    counters, _ = pn.stop()
    check(counters["pool.in_use"] == 0, "at exit every mbuf is back")
    finish(pn.log_path)


if __name__ == "__main__":
    main()
