#!/usr/bin/python3
"""README's Status agrees with the rest of the README and with
docs/PERFORMANCE.md: every section of PERFORMANCE.md that reports a target
missed (or pollnet losing to the kernel) is named in Status's "Not met"
part, and Status calls nothing "not yet" (what the README describes is
done; what is not is "Not met" or "Not started").

usage: test_readme.py SOURCE_DIR"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from netns import check, finish  # noqa: E402

# A PERFORMANCE.md section (by the start of its heading) and the words
# Status's "Not met" part uses for it.
SUBJECTS = {
    "The guest's NIC": "driver",
    "A UDP echo server": "echo server",
    "The same servers in the guest": "echo server",
    "Unmodified programs": "pollnet-run",
    "Shared-memory sockets": "round trip",
    "A DNS server": "unbound",
    "Beside the kernel: the whole machine": "cpu per echoed datagram",
    "Beside the kernel": "exception path",
}
MISSED = re.compile(r"not met|missed|loses to the kernel|not the half")


def main():
    src = sys.argv[1]
    with open(os.path.join(src, "README.md")) as f:
        readme = f.read()
    with open(os.path.join(src, "docs", "PERFORMANCE.md")) as f:
        perf = f.read()
    status = readme.split("\n## Status\n", 1)[1].split("\n## ", 1)[0]
    status = " ".join(status.split())
    check("not yet" not in status.lower(),
          "Status calls nothing 'not yet' (%s)" %
          re.findall(r"[^.;(]*not yet[^.;)]*", status, re.I))
    m = re.search(r"Not met:(.*?)(?:Not started:|$)", status, re.S)
    not_met = m.group(1).lower() if m else ""
    check(m is not None, "Status has a 'Not met:' part")
    for sec in perf.split("\n## ")[1:]:
        heading, body = sec.split("\n", 1)
        if not MISSED.search(" ".join(body.split())):
            continue
        subject = next((w for h, w in SUBJECTS.items() if heading.startswith(h)), None)
        check(subject is not None,
              "PERFORMANCE.md's '%s' reports a target missed: test_readme.py knows "
              "what Status calls it" % heading)
        if subject is not None:
            check(subject in not_met, "Status's 'Not met' names '%s' (PERFORMANCE.md: %s)" %
                  (subject, heading))
    finish()


if __name__ == "__main__":
    main()
