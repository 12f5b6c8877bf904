#!/usr/bin/python3
"""pollnetctl on a stats segment gone wrong (pn_segforge: strings with no
NUL, invalid UTF-8, quotes, backslashes and control characters; sockets of
an unknown kind; log records longer than a record; a clock before 1970 or
one that makes no sense): every --json output is valid UTF-8 and valid JSON (Python's json,
strict: no control characters in strings, no NaN), a valid "é" comes out
as it is, and the tables carry no control character to the terminal.  A
command may refuse the segment instead (status 1, a message, nothing on
stdout).  Needs neither root nor pollnet: the test holds the segment's lock
as pollnet would.

usage: test_ctl_segment.py POLLNETCTL PN_SEGFORGE"""
import fcntl
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from netns import check, finish  # noqa: E402

CONTROL = set(range(0x20)) - {0x0a} | {0x7f}


def no_constant(name):
    raise ValueError("%s is not JSON" % name)


def strict_json(text):
    """The value, or an exception: strict UTF-8, strict JSON, and every
    string one that UTF-8 can encode (no lone surrogate from a \\ud800)."""
    v = json.loads(text.decode("utf-8"), parse_constant=no_constant)
    json.dumps(v, ensure_ascii=False).encode("utf-8")
    return v


def run(ctl, stats, *args):
    p = subprocess.run([ctl, "--stats", stats] + list(args), timeout=30,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return p.returncode, p.stdout, p.stderr


def main():
    ctl, forge = sys.argv[1], sys.argv[2]
    tmp = tempfile.mkdtemp(prefix="pn-segforge.")
    for variant in ("sane", "past", "wild"):
        seg = os.path.join(tmp, "pollnet-%s.stats" % variant)
        subprocess.run([forge, seg, variant], check=True)
        fd = os.open(seg, os.O_RDONLY)
        fcntl.flock(fd, fcntl.LOCK_EX)      # "pollnet is running"
        try:
            for args, lines in ((["stats", "--json"], False),
                                (["stats", "--json", "-i", "0.05", "-c", "2"], True),
                                (["sockets", "--json"], False),
                                (["tail", "--json", "-n", "100"], True)):
                what = "%s: pollnetctl %s" % (variant, " ".join(args))
                rc, out, err = run(ctl, seg, *args)
                if rc == 1 and not out:
                    check(err.strip() != b"", "%s refuses the segment, saying why (%s)" %
                          (what, err.decode("utf-8", "replace").strip()))
                    continue
                docs = out.splitlines() if lines else [out]
                try:
                    vals = [strict_json(d) for d in docs]
                    ok, why = rc == 0 and len(vals) > 0, "status %d" % rc
                except (UnicodeError, ValueError) as e:
                    vals, ok, why = [], False, "%s in %r" % (e, out[:300])
                check(ok, "%s: valid UTF-8 JSON (%s)" % (what, why))
                if args[0] == "stats" and vals:
                    check(vals[0]["port"].startswith("dpdk:\u00e9\"quote\\back\n"),
                          "%s: the port's valid characters kept, the rest escaped (%r)" %
                          (what, vals[0]["port"][:24]))
                if args[0] == "sockets" and vals:
                    kinds = sorted(s["kind"] for s in vals[0])
                    check(kinds == ["echo", "udp", "udp"] and
                          all(s["last_refused"] for s in vals[0]),
                          "%s: the sockets of known kinds, each with its last_refused (%s)" %
                          (what, kinds))
                if args[0] == "tail" and vals:
                    big = [v["caplen"] for v in vals if v["caplen"] > 112]
                    check(not big, "%s: no record longer than a record holds (%s)" % (what, big))
            for args in (["stats"], ["sockets"], ["tail", "-n", "100"]):
                rc, out, err = run(ctl, seg, *args)
                what = "%s: pollnetctl %s" % (variant, " ".join(args))
                if rc == 1 and not out:
                    continue
                bad = sorted(set(b for b in out if b in CONTROL))
                try:
                    out.decode("utf-8")
                    utf8 = True
                except UnicodeError:
                    utf8 = False
                check(rc == 0 and utf8 and not bad,
                      "%s: UTF-8 with no control character (status %d, %s)" %
                      (what, rc, bad))
        finally:
            os.close(fd)
            os.unlink(seg)
    os.rmdir(tmp)
    finish()


if __name__ == "__main__":
    main()
