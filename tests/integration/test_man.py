#!/usr/bin/python3
"""The manual pages say what the code does.

- groff renders each page with no warning (-ww);
- pollnet(8) names every option of `pollnet --help` and every configuration
  key the parser takes (config/config.c);
- pollnetctl(8) names every command, every option of each command's
  --help, every field of the socket schema (decode/statnames.c) and every key
  of `tail --json` (decode/summary.c);
- libpollnet(3) names every function of pollnet.h (NAME and SYNOPSIS) and
  every errno the library or pollnet's control thread returns to a client;
- the example program of libpollnet(3) compiles (-Wall -Wextra -Werror)
  as it is printed.

usage: test_man.py SOURCE_DIR POLLNET POLLNETCTL CC
"""
import glob
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from netns import check, finish  # noqa: E402


def run(*cmd):
    return subprocess.run(cmd, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          timeout=60)


def rendered(page):
    """The page as a reader sees it (plain text, no hyphenation)."""
    r = subprocess.run(["groff", "-man", "-Tutf8", "-P", "-cbou", "-rHY=0", "-ww", page],
                       text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    return r.stdout, r.stderr.strip()


def words(text):
    # join words hyphenated or broken across lines; unicode dashes to '-'
    text = text.replace("\u2010", "-").replace("\u2212", "-").replace("\u2019", "'")
    return text


def main():
    src, pollnet, pollnetctl, cc = sys.argv[1:5]
    man = os.path.join(src, "man")
    pages = {}
    for name in ("pollnet.8", "pollnetctl.8", "libpollnet.3", "pollnet-run.1"):
        out, err = rendered(os.path.join(man, name))
        check(out and not err, "%s renders with no groff warning%s" % (name, ": " + err if err else ""))
        pages[name] = words(out)

    # pollnet(8): options and configuration keys
    helptext = run(pollnet, "--help").stdout
    opts = sorted(set(re.findall(r"(?<![\w-])(--[a-z][a-z-]+)",
                                 re.split(r"\nEAL options", helptext)[0])))
    missing = [o for o in opts if o not in pages["pollnet.8"]]
    check(len(opts) >= 10 and not missing, "pollnet(8) names the %d options of --help%s" %
          (len(opts), " (missing %s)" % missing if missing else ""))
    with open(os.path.join(src, "config", "config.c")) as f:
        keys = re.findall(r'IS\("(\w+)", "(\w+)"\)', f.read())
    missing = []
    for sec, key in keys:
        section = re.search(r"\[%s\](.*?)(?:\n\s*\[\w+\]|\nICMP|\Z)" % sec, pages["pollnet.8"], re.S)
        if section is None or not re.search(r"\b%s\b" % key, section.group(1)):
            missing.append("%s.%s" % (sec, key))
    check(len(keys) >= 20 and not missing, "pollnet(8) names the %d configuration keys in "
          "their sections%s" % (len(keys), " (missing %s)" % missing if missing else ""))

    # pollnetctl(8): commands, their options, the socket schema, tail's JSON
    page = pages["pollnetctl.8"]
    missing = []
    for cmd in ("stats", "sockets", "tail", "capture"):
        helptext = run(pollnetctl, cmd, "--help").stdout
        usage = helptext.splitlines()[0]
        opts = set(re.findall(r"(?<![\w-])(-{1,2}[a-z][a-z-]*)", usage.split(cmd, 1)[1]))
        # both spellings of each option the usage lists ("  -n, --lines N")
        for line in re.findall(r"^  (-.*?)(?:  |$)", helptext, re.M):
            opts |= set(re.findall(r"(?<![\w-])(-{1,2}[a-zA-Z][a-z-]*)", line))
        opts -= {"-h", "--help"}        # DESCRIPTION: "Every command takes -h or --help"
        section = re.search(r"\n {3}%s\n(.*?)(?:\n {3}[a-z]+\n|\nFILTERS)" % cmd, page, re.S)
        for o in sorted(opts):
            if section is None or not re.search(r"(?<![\w-])%s(?![\w-])" % re.escape(o),
                                               section.group(1)):
                missing.append("%s %s" % (cmd, o))
    for line in re.findall(r"^  (-.*?)(?:  |$)", run(pollnetctl, "--help").stdout, re.M):
        for o in re.findall(r"(?<![\w-])(-{1,2}[a-zA-Z][a-z-]*)", line):
            section = page.split("\nOPTIONS\n", 1)[-1].split("\nCOMMANDS\n", 1)[0]
            if not re.search(r"(?<![\w-])%s(?![\w-])" % re.escape(o), section):
                missing.append(o)
    check(not missing, "pollnetctl(8) has every command and every option of its --help, "
          "short and long%s" % (" (missing %s)" % missing if missing else ""))
    with open(os.path.join(src, "decode", "statnames.c")) as f:
        text = f.read()
    fields = re.findall(r'\b(?:str|num)\(arg, "(\w+)"', text[text.index("pn_sock_fields"):])
    missing = [k for k in fields if not re.search(r"\b%s\b" % k, page)]
    check(len(fields) >= 16 and not missing, "pollnetctl(8) names the %d fields of a socket%s" %
          (len(fields), " (missing %s)" % missing if missing else ""))
    # the echo service runs in pollnet's process: its pid is pollnet's
    # (app/statseg.c publishes it, decode/statnames.h says so)
    pid = re.search(r"\n {7}pid\s+(.*?)\n\n", page, re.S)
    pid = " ".join(pid.group(1).split()) if pid else ""
    check("pollnet's own" in pid and "echo service" in pid,
          "pollnetctl(8): the echo service's pid is pollnet's own (%r)" % pid)
    with open(os.path.join(src, "decode", "summary.c")) as f:
        text = f.read()
    jkeys = set(re.findall(r'\\"(\w+)\\": ', text[text.index("pkt_summary_json"):]))
    jkeys |= {"time", "lcore"}
    jkeys.discard("s")              # "%s_type": icmp_ and icmp6_ below
    jkeys |= {"icmp_type", "icmp_code", "icmp_id", "icmp_seq"}
    missing = sorted(k for k in jkeys if not re.search(r"\b%s\b" % k, page))
    check(len(jkeys) >= 40 and not missing, "pollnetctl(8) names the %d keys of tail --json%s" %
          (len(jkeys), " (missing %s)" % missing if missing else ""))

    # libpollnet(3): functions and errors
    page = pages["libpollnet.3"]
    with open(os.path.join(src, "client", "pollnet.h")) as f:
        funcs = sorted(set(re.findall(r"\b(pollnet_\w+)\(", f.read())))
    name_sec = page.split("LIBRARY")[0]
    synopsis = page.split("SYNOPSIS")[1].split("DESCRIPTION")[0]
    missing = [fn for fn in funcs if fn not in name_sec or fn + "(" not in synopsis]
    check(len(funcs) >= 15 and not missing, "libpollnet(3) has the %d functions of pollnet.h "
          "in NAME and SYNOPSIS%s" % (len(funcs), " (missing %s)" % missing if missing else ""))
    errs = set()
    for path in (("client", "session.c"), ("client", "datapath.c"), ("app", "ctl.c"),
                 ("app", "capture.c")):
        with open(os.path.join(src, *path)) as f:
            errs |= set(re.findall(r"-(E[A-Z]+)\b", f.read()))
    errs -= {"EBADMSG", "EOPNOTSUPP", "EPERM", "EBUSY", "EIO"}   # not from a libpollnet call
    errs -= {"ENOTCONN"}    # pn_int_peer(): the preload library's, not libpollnet's API
    errors = page.split("\nERRORS")[1].split("\nENVIRONMENT")[0]
    missing = sorted(e for e in errs if not re.search(r"\n {7}%s(\n| )" % e, errors))
    check(len(errs) >= 15 and not missing, "libpollnet(3)'s ERRORS has each of the %d errnos "
          "a call can return%s" % (len(errs), " (missing %s)" % missing if missing else ""))

    # pollnet-run(1): the options of its usage, the calls it stands in for
    with open(os.path.join(src, "client", "tools", "pollnet-run.in")) as f:
        usage = f.read().split("<<USAGE")[1].split("USAGE\n")[0]
    opts = sorted(set(re.findall(r"(?<![\w-])(--[a-z][a-z-]+)", usage)))
    missing = [o for o in opts if o not in pages["pollnet-run.1"]]
    check(len(opts) >= 4 and not missing, "pollnet-run(1) names the %d options of its usage%s" %
          (len(opts), " (missing %s)" % missing if missing else ""))
    calls = set()
    for path in glob.glob(os.path.join(src, "client", "preload_*.c")):
        with open(path) as f:
            calls |= set(re.findall(r"^EXPORT [^\n]*\n(\w+)\(", f.read(), re.M))
    calls = sorted(calls)
    missing = [c for c in calls if not re.search(r"\b%s\b" % re.escape(c), pages["pollnet-run.1"])]
    check(len(calls) >= 30 and not missing, "pollnet-run(1) names each of the %d calls the "
          "library stands in for%s" % (len(calls), " (missing %s)" % missing if missing else ""))

    # the example compiles, as printed
    with open(os.path.join(man, "libpollnet.3")) as f:
        roff = f.read()
    ex = roff.split(".SH EXAMPLES")[1].split(".EX\n")[1].split(".EE\n")[0]
    code = ex.replace("\\e", "\\").replace("\\-", "-")
    tmp = tempfile.mkdtemp(prefix="pn-man.")
    with open(os.path.join(tmp, "echo.c"), "w") as f:
        f.write(code)
    r = run(cc, "-c", "-Wall", "-Wextra", "-Werror", "-I", os.path.join(src, "client"),
            os.path.join(tmp, "echo.c"), "-o", os.path.join(tmp, "echo.o"))
    check(r.returncode == 0, "libpollnet(3)'s example compiles with -Wall -Wextra -Werror%s" %
          (": " + r.stdout if r.returncode else ""))
    finish()


if __name__ == "__main__":
    main()
