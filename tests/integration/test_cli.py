#!/usr/bin/python3
"""The command lines: pollnet's --help, bad options and bad configuration
files give a clear message and exit status 2, before anything is
initialised; pollnet, pollnetctl (and each of its commands), pollnet-echo
and pollnet-nettests parse their options one way (below: "one way to parse
options"); the client tools' messages.

usage: test_cli.py POLLNET SOURCE_DIR (pollnetctl and the client tools are
found beside pollnet in the build tree)"""
import os
import re
import subprocess
import sys
import tempfile

binary = sys.argv[1]
source = sys.argv[2]
failures = []
# EAL options that make a pollnet which wrongly gets past its options
# harmless: no hugepages, no devices, no shared configuration, no telemetry
SAFE_EAL = ["-l", "0-1", "--no-huge", "-m", "64", "--no-shconf", "--no-pci", "--no-telemetry",
            "--file-prefix=pn-cli-test", "--log-level=error"]


def run(*args):
    p = subprocess.run([binary] + list(args), text=True, timeout=30,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return p.returncode, p.stdout, p.stderr


def expect(args, rc, needle, where="stderr"):
    got_rc, out, err = run(*args)
    text = err if where == "stderr" else out
    ok = got_rc == rc and needle in text
    print("%s pollnet %s -> %d, %r" % ("ok  " if ok else "FAIL", " ".join(args), got_rc, needle))
    if not ok:
        print("   stdout: %s\n   stderr: %s" % (out[:300], err[:300]))
        failures.append(args)


expect(["--help"], 0, "Usage:", "stdout")
expect(["--", "--help"], 0, "--echo-port N", "stdout")
expect(["--", "--bogus"], 2, "unknown option '--bogus'")
expect(["--", "--port"], 2, "option --port needs a value")
expect(["--", "--port", "dpdk:x", "--ip", "198.18.0.300/24"], 2,
       "--ip 198.18.0.300/24: '198.18.0.300' is not an IPv4 address")
expect(["--", "--port", "dpdk:x", "--ip", "198.18.0.2/24", "--echo-port", "70000"], 2,
       "--echo-port 70000: '70000' is too large")
expect(["--", "--port", "dpdk:x"], 2, "no address")
expect(["--", "--port", "eth0", "--ip", "198.18.0.2/24"], 2,
       "--port eth0: 'eth0' is not a port spec: expected dpdk:")
expect(["--", "--ip", "198.18.0.2/24"], 2, "no port")
expect(["--", "--port", "dpdk:x", "--ip", "198.18.0.2/24", "stray"], 2, "unexpected argument 'stray'")
expect(["--", "--set", "port.rx_desc"], 2, "expected SECTION.KEY=VALUE")
expect(["--", "--config", "/nonexistent.conf"], 2, "/nonexistent.conf: No such file or directory")

with tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False) as f:
    f.write("[port]\nspec = dpdk:net_null0\n\n[sockets]\nrx_ring = 1000\n")
expect(["--", "--config", f.name], 2, "%s:5: [sockets] rx_ring: 1000 is not a power of 2" % f.name)
os.unlink(f.name)
expect(["--", "--config", os.path.join(source, "config", "pollnet.conf"), "--help"], 0,
       "Usage:", "stdout")
# the key that was wrong is named, whatever set it
expect(["--", "--port", "dpdk:x", "--ip", "198.18.0.2/24", "--set", "sockets.rx_ring=1000"], 2,
       "--set sockets.rx_ring=1000: 1000 is not a power of 2")
with tempfile.NamedTemporaryFile("wb", suffix=".conf", delete=False) as f:
    f.write(b"[port]\nspec = dpdk:net_null0\n[ipv4]\naddress = 10.0.0.1/24\x00x\n")
expect(["--", "--config", f.name], 2, "%s:4: a NUL byte (the file is not text)" % f.name)
os.unlink(f.name)
d = tempfile.mkdtemp()
expect(["--", "--config", d], 2, "%s: not a file (a directory)" % d)
os.rmdir(d)
expect(SAFE_EAL + ["--", "--port", "dpdk:x", "--ip", "198.18.0.2/24", "--gateway", "198.18.0.2"], 2,
       "--gateway 198.18.0.2: '198.18.0.2' is pollnet's own address")
expect(SAFE_EAL + ["--", "--port", "dpdk:x", "--ip", "198.18.0.2/24", "--gateway", "198.18.0.255"], 2,
       "--gateway 198.18.0.255: '198.18.0.255' is the broadcast address of 198.18.0.0/24")
expect(SAFE_EAL + ["--", "--port", "dpdk:x", "--ip", "198.18.0.255/24"], 2,
       "--ip 198.18.0.255/24: '198.18.0.255' is the broadcast address of 198.18.0.0/24")
expect(SAFE_EAL + ["--", "--port", "dpdk:x", "--ip", "198.18.0.0/24"], 2,
       "--ip 198.18.0.0/24: '198.18.0.0' is the network address of 198.18.0.0/24")
# addresses the stack drops as martian sources: pollnet cannot be one
expect(SAFE_EAL + ["--", "--port", "dpdk:x", "--ip", "127.0.0.1/8"], 2,
       "--ip 127.0.0.1/8: '127.0.0.1' is a loopback address (127.0.0.0/8)")
expect(SAFE_EAL + ["--", "--port", "dpdk:x", "--ip", "0.0.0.1/8"], 2, "is in 0.0.0.0/8")
expect(SAFE_EAL + ["--", "--port", "dpdk:x", "--ip", "224.0.0.5/24"], 2, "is a multicast address")
expect(SAFE_EAL + ["--", "--port", "dpdk:x", "--ip", "198.18.0.2/32"], 2, "--ip 198.18.0.2/32: a /32 has no neighbour")
expect(SAFE_EAL + ["--", "--port", "dpdk:x", "--ip", "198.18.0.2/24", "--gateway", "127.0.0.1"], 2,
       "--gateway 127.0.0.1: '127.0.0.1' is a loopback address")

# a bad value is refused whatever else is given: EAL's -l makes
# dataplane.lcores unused, not right
expect(SAFE_EAL + ["--", "--port", "dpdk:x", "--ip", "198.18.0.2/24", "--set",
                   "dataplane.lcores=garbage"], 2,
       "--set dataplane.lcores=garbage: 'garbage' is not a core list")
with tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False) as f:
    f.write("[port]\nspec = dpdk:x\n[ipv4]\naddress = 198.18.0.2/24\n[dataplane]\nlcores = garbage\n")
expect(SAFE_EAL + ["--", "--config", f.name], 2,
       "%s:6: [dataplane] lcores: 'garbage' is not a core list" % f.name)
os.unlink(f.name)
# an unknown section is an error, empty or not
with tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False) as f:
    f.write("[port]\nspec = dpdk:x\n[ipv4]\naddress = 198.18.0.2/24\n" +
            "".join("[unknown%d]\n" % i for i in range(300)))
expect(SAFE_EAL + ["--", "--config", f.name], 2, "%s:5: [unknown0]: unknown section" % f.name)
os.unlink(f.name)
with tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False) as f:
    f.write("[port]\nspec = dpdk:x\n[ipv4]\naddress = 127.0.0.1/8\n")
expect(SAFE_EAL + ["--", "--config", f.name], 2,
       "%s:4: [ipv4] address: '127.0.0.1' is a loopback address" % f.name)
os.unlink(f.name)

# the client tools
tools = os.path.join(os.path.dirname(os.path.dirname(binary)), "client")


def tool(name, args, rc, needle, where="stderr"):
    p = subprocess.run([os.path.join(tools, name)] + args, text=True, timeout=30,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    text = p.stderr if where == "stderr" else p.stdout
    ok = p.returncode == rc and needle in text
    print("%s %s %s -> %d, %r" % ("ok  " if ok else "FAIL", name, " ".join(args), p.returncode, needle))
    if not ok:
        failures.append([name] + args)


tool("pollnet-echo", ["--help"], 0, "Usage:", "stdout")
tool("pollnet-echo", [], 2, "pollnet-echo: a PORT is needed")
tool("pollnet-echo", ["70000"], 2, "'70000' is not a port")
tool("pollnet-echo", ["7", "8"], 2, "unexpected argument '8'")
tool("pollnet-echo", ["--datagrams", "x", "7"], 2, "--datagrams x: not a number from 1 up")
tool("pollnet-echo", ["--ctl", "/nonexistent/pollnet.sock", "7000"], 1,
     "cannot reach pollnet: No such file or directory")
tool("pollnet-nettests", ["--help"], 0, "Usage:", "stdout")
tool("pollnet-nettests", ["198.18.0.1"], 2, "pollnet-nettests: expected SERVER_IP SERVER_PORT")
tool("pollnet-nettests", ["--dns", "x", "198.18.0.1", "7"], 2, "--dns x: not an IPv4 address")
tool("pollnet-nettests", ["198.18.0.999", "7"], 2, "expected SERVER_IP SERVER_PORT")
tool("pollnet-nettests", ["--ctl", "/nonexistent/pollnet.sock", "--skip-dns", "198.18.0.1", "7"], 1,
     "FAILED: open: No such file or directory", "stdout")


# ---- one way to parse options, in every tool ----
#
# --help (and -h) prints the usage to stdout and exits 0; a bad option or
# argument prints one line, "PROG: REASON", then a blank line and the usage,
# to stderr, and exits 2.  A value is named by its option's long name,
# however it was spelled.  Every option has a short and a long spelling,
# and a long name has the same short letter in every tool.
pollnetctl = os.path.join(os.path.dirname(binary), "pollnetctl")
TOOLS = {
    # name: (argv before the options, a bad value as (argv, long name, value),
    #        an option that takes a value)
    "pollnet": ([binary, "--"], (["-e", "70000"], "--echo-port", "70000"), "--port"),
    "pollnetctl": ([pollnetctl], None, "--stats"),
    "pollnetctl stats": ([pollnetctl, "stats"], (["-i", "0"], "--interval", "0"), "--count"),
    "pollnetctl sockets": ([pollnetctl, "sockets"], None, None),
    "pollnetctl tail": ([pollnetctl, "tail"], (["-n", "ten"], "--lines", "ten"), "--lines"),
    "pollnetctl capture": ([pollnetctl, "capture"], (["-w", "/dev/null", "-s", "5"], "--snaplen", "5"),
                           "--write"),
    "pollnet-echo": ([os.path.join(tools, "pollnet-echo")], (["-b", "99"], "--batch", "99"), "--ctl"),
    "pollnet-nettests": ([os.path.join(tools, "pollnet-nettests")],
                         (["-p", "x"], "--dns-port", "x"), "--dns"),
}


def spelled(name, args, rc, first=None, usage_to=None):
    """Run one tool; check its status, the first line of stderr and where
    the usage went; return (stdout, stderr)."""
    cmd, _, _ = TOOLS[name]
    p = subprocess.run(cmd + args, text=True, timeout=30,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    prog = name.split()[0]
    lines = p.stderr.splitlines()
    ok = p.returncode == rc
    if first is not None:
        ok = ok and lines[:1] == ["%s: %s" % (prog, first)]
    if usage_to == "stdout":
        ok = ok and p.stdout.startswith("Usage: ") and p.stderr == ""
    elif usage_to == "stderr":
        # the reason, a blank line, the usage; nothing on stdout
        ok = ok and len(lines) > 2 and lines[1] == "" and lines[2].startswith("Usage: ") \
            and p.stdout == ""
    print("%s %s %s -> %d%s" % ("ok  " if ok else "FAIL", name, " ".join(args), p.returncode,
                                ", %r" % first if first else ""))
    if not ok:
        print("   stdout: %s\n   stderr: %s" % (p.stdout[:200], p.stderr[:300]))
        failures.append([name] + args)
    return p.stdout, p.stderr


letters = {}        # long name -> {short letter: tools}
for name, (cmd, bad, needs) in TOOLS.items():
    for h in ("--help", "-h"):
        out, _ = spelled(name, [h], 0, usage_to="stdout")
    spelled(name, ["--bogus"], 2, "unknown option '--bogus'", "stderr")
    spelled(name, ["-Z"], 2, "unknown option '-Z'", "stderr")
    if needs:
        spelled(name, [needs], 2, "option %s needs a value" % needs, "stderr")
    if bad:
        args, longname, value = bad
        short = args[-2]
        _, e1 = spelled(name, args, 2, None, "stderr")
        _, e2 = spelled(name, args[:-2] + [longname, value], 2, None, "stderr")
        _, e3 = spelled(name, args[:-2] + ["%s=%s" % (longname, value)], 2, None, "stderr")
        same = e1.splitlines()[:1] == e2.splitlines()[:1] == e3.splitlines()[:1] and \
            e1.startswith("%s: %s %s: " % (name.split()[0], longname, value))
        print("%s %s: %s, %s and %s=%s say the same, naming %s" %
              ("ok  " if same else "FAIL", name, short, longname, longname, value, longname))
        if not same:
            print("   %r\n   %r\n   %r" % (e1[:120], e2[:120], e3[:120]))
            failures.append([name, short, longname])
    # every option of the usage, both ways: "-x, --long"
    opts = re.findall(r"^  (-\S.*?)(?:  |$)", out, re.M)
    for o in opts:
        m = re.match(r"-(\w), (--[\w-]+)\b", o)
        print("%s %s --help: %r has a short and a long spelling" % ("ok  " if m else "FAIL", name, o))
        if not m:
            failures.append([name, o])
        else:
            letters.setdefault(m.group(2), {}).setdefault(m.group(1), []).append(name)
for longname, shorts in sorted(letters.items()):
    ok = len(shorts) == 1
    print("%s %s: one short letter in every tool (%s)" % ("ok  " if ok else "FAIL", longname, shorts))
    if not ok:
        failures.append([longname, shorts])

# pollnet: EAL's options come before "--", pollnet's after it
expect(["--port", "dpdk:x", "--ip", "198.18.0.2/24"], 2,
       "pollnet: '--port' is a pollnet option: it goes after '--'")
expect(["-l", "0-1", "--ip=198.18.0.2/24", "--", "--port", "dpdk:x"], 2,
       "pollnet: '--ip' is a pollnet option: it goes after '--'")
expect(["-h"], 0, "Usage:", "stdout")

if failures:
    print("%d failed" % len(failures))
    sys.exit(1)
print("all passed")
