#!/usr/bin/python3
"""docs/ARCHITECTURE.md says what the code does, checked as test_man.py
checks the manual pages:

- every path in backquotes exists (a glob matches something; a bare file
  name is a file of the tree, a library meson builds, or a program the
  deploy scripts use);
- every C identifier in backquotes exists: a function(), a CONSTANT or a
  `struct name` in the tree's code (comments left out) or, for the
  system's and DPDK's, in the system headers; any other name_with_an
  underscore somewhere in the tree;
- every `section.key` is a key config/config.c takes, every counter name
  one pollnet publishes (decode/statnames.c, abi/pn_counters.h,
  app/report.c);
- every header of abi/ and every driver port_open() knows are named;
- the numbers the page gives are the code's: "N (`CONSTANT`)" and
  "`CONSTANT` N" against the #define, "`section.key`, default N" against
  config_defaults(), and the claims in CLAIMS below (the port's
  operations, the spin defaults, the burst, the log, the rings, the ICMP
  rate, the ARP cache, the limits, the harnesses...) against the
  constants or the code they describe;
- the socket's fields are pn_sock_fields()' in its order, and the callers
  the page names for pn_stats_emit() and pn_sock_fields() are its callers;
- what the page says of the batch calls' ring updates is what
  client/datapath.c does, and the paragraph on the frame log names the
  key that turns it off.

usage: test_architecture.py SOURCE_DIR
"""
import glob
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from netns import check, finish  # noqa: E402

SRC = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else "."
PAGE = "docs/ARCHITECTURE.md"
SECTIONS = ("port", "ipv4", "dataplane", "sockets", "control")
WORDS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen "
    "fourteen fifteen sixteen seventeen eighteen nineteen twenty".split())}
# where the system's and DPDK's identifiers live
INCLUDE = "/usr/include"
SYSTEM_HEADERS = ("*.h", "linux", "x86_64-linux-gnu", "dpdk", "pcap", "netinet", "net",
                  "netpacket", "arpa", "bsd", "valgrind")


def read(rel):
    with open(os.path.join(SRC, rel), errors="replace") as f:
        return f.read()


def number(s):
    """'five', '1,024', '32' -> int (None if it is neither)."""
    s = s.lower().replace(",", "")
    if s in WORDS:
        return WORDS[s]
    return int(s) if s.isdigit() else None


def strip_comments(c):
    """C source without its comments (string and character literals kept)."""
    out, i, n = [], 0, len(c)
    while i < n:
        ch = c[i]
        if c.startswith("/*", i):
            j = c.find("*/", i + 2)
            i = n if j < 0 else j + 2
            out.append(" ")
        elif c.startswith("//", i):
            j = c.find("\n", i)
            i = n if j < 0 else j
        elif ch in "\"'":
            j = i + 1
            while j < n and c[j] != ch:
                j += 2 if c[j] == "\\" else 1
            out.append(c[i:j + 1])
            i = j + 1
        else:
            out.append(ch)
            i += 1
    return "".join(out)


# ---- the tree ----

def tree_files():
    files = []
    for top, dirs, names in os.walk(SRC):
        rel = os.path.relpath(top, SRC)
        dirs[:] = [d for d in dirs if not d.startswith((".", "build")) and d != "__pycache__"
                   and os.path.join(rel, d) not in ("./tests/fuzz/corpus", "tests/fuzz/corpus")]
        for name in names:
            files.append(os.path.normpath(os.path.join(rel, name)))
    return sorted(files)


FILES = tree_files()
C_FILES = [f for f in FILES if f.endswith((".c", ".h"))]
# the tree's text: code, scripts, build files (not the pages that describe it)
TEXT_FILES = [f for f in FILES if not f.endswith((".md", ".json", ".png", ".pcap"))
              and not f.startswith(("man/", "docs/")) and f != "README.md"]
CODE = "\n".join(strip_comments(read(f)) for f in C_FILES)
TEXT = "\n".join(read(f) for f in TEXT_FILES)
_system = None


def system_words():
    global _system
    if _system is None:
        _system = set()
        for pat in SYSTEM_HEADERS:
            for top in glob.glob(os.path.join(INCLUDE, pat)):
                paths = [top] if os.path.isfile(top) else \
                    [os.path.join(d, n) for d, _, ns in os.walk(top) for n in ns]
                for p in paths:
                    if p.endswith(".h"):
                        with open(p, errors="replace") as f:
                            _system.update(re.findall(r"\w+", f.read()))
    return _system


def in_code(name):
    return re.search(r"\b%s\b" % re.escape(name), CODE) is not None or name in system_words()


def in_text(name):
    return re.search(r"\b%s\b" % re.escape(name), TEXT) is not None or name in system_words()


def defines():
    """Every #define NAME <integer expression> of the tree, evaluated."""
    raw = {}
    for f in C_FILES:
        for name, val in re.findall(r"^\s*#\s*define\s+([A-Z][A-Z0-9_]*)[ \t]+([^\n]*)",
                                    strip_comments(read(f)), re.M):
            raw.setdefault(name, val.strip())
    vals = {}

    def value(name, depth=0):
        if name in vals or depth > 8:
            return vals.get(name)
        expr = raw.get(name)
        if expr is None:
            return None
        expr = re.sub(r"\b(0x[0-9a-fA-F]+|\d+)[uUlL]*\b", r"\1", expr)
        for ref in set(re.findall(r"\b[A-Z][A-Z0-9_]*\b", expr)):
            v = value(ref, depth + 1)
            if v is None:
                return None
            expr = re.sub(r"\b%s\b" % ref, str(v), expr)
        if not re.fullmatch(r"[\d\sxa-fA-F()+\-*/<>|&~]+", expr):
            return None
        try:
            vals[name] = int(eval(expr, {"__builtins__": {}}))  # digits and operators only
        except Exception:
            return None
        return vals[name]

    return {n: value(n) for n in raw if value(n) is not None}


DEFINES = defines()


# ---- what the code says ----

def config_keys():
    """{(section, key): field of struct pn_config} from config.c's set_key."""
    c = read("config/config.c")
    body = c[c.index("set_key("):]
    parts = re.split(r'\bIS\("(\w+)", "(\w+)"\)', body)
    keys = {}
    for i in range(1, len(parts) - 2, 3):
        m = re.search(r"NUM\((\w+),|c->(\w+)", parts[i + 2])
        keys[(parts[i], parts[i + 1])] = (m.group(1) or m.group(2)) if m else None
    return keys


def config_defaults():
    c = read("config/config.c")
    body = c[c.index("config_defaults("):]
    body = body[:body.index("\n}\n")]
    out = {}
    for field, v in re.findall(r"c->(\w+) = ([^;]+);", body):
        v = re.sub(r"[uU]$", "", v.strip())
        out[field] = int(v, 8 if re.fullmatch(r"0\d+", v) else 0) \
            if re.fullmatch(r"0x[0-9a-f]+|\d+", v) else DEFINES.get(v)
    return out


def counter_names():
    names = set(re.findall(r'"((?:port|stack|lcore|control|pool|exception)[\w.%]*)"',
                           read("decode/statnames.c")))
    names = {n.replace("%u", "0").replace(".%s", "") for n in names}
    for n in re.findall(r'X\(\w+,\s*"(\w+)"\)', read("abi/pn_counters.h")):
        names |= {"stack.rx_drop." + n, "stack.tx_drop." + n}
    for n in re.findall(r'X\(\w+,\s*"(\w+)"\)', read("abi/pn_stats.h")):
        names.add("control.refused." + n)
    names |= set(re.findall(r'"(sock\.echo\.\w+)"', read("app/report.c")))
    return names


def function_body(text, name):
    m = re.search(r"^%s\([^)]*\)\s*\{" % re.escape(name), text, re.M)
    if m is None:
        return ""
    depth, i = 1, m.end()
    while depth and i < len(text):
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        i += 1
    return text[m.end():i]


def ring_updates(fn):
    """How many times fn (client/datapath.c) publishes a ring position: its
    calls of pn_ring_publish() and of the file's functions that publish."""
    text = strip_comments(read("client/datapath.c"))
    funcs = set(re.findall(r"^(\w+)\([^;{]*\)\s*\{", text, re.M))
    memo = {}

    def publishes(f, seen=()):
        if f not in memo:
            body = function_body(text, f)
            memo[f] = "pn_ring_publish(" in body or any(
                publishes(g, seen + (f,)) for g in re.findall(r"\b(\w+)\(", body)
                if g in funcs and g != f and g not in seen)
        return memo[f]

    body = function_body(text, fn)
    return len(re.findall(r"\bpn_ring_publish\(", body)) + sum(
        1 for g in re.findall(r"\b(\w+)\(", body) if g in funcs and g != fn and publishes(g))


def struct_members(text, name):
    m = re.search(r"struct %s \{(.*?)\n\};" % name, strip_comments(text), re.S)
    return re.findall(r"^\s*[\w\s*]*?\(?\*?\s*(\w+)\)?\s*(?:\([^;]*\))?\s*(?:\[[^\]]*\])?;",
                      m.group(1), re.M) if m else []


def sock_fields():
    c = read("decode/statnames.c")
    return re.findall(r'\b(?:str|num)\(arg, "(\w+)"', c[c.index("pn_sock_fields("):])


def callers(func, under=("app",)):
    """The files (under app/) that call func."""
    return sorted(f for f in C_FILES if f.startswith(under) and f.endswith(".c")
                  and re.search(r"\b%s\(" % func, strip_comments(read(f)))
                  and not re.search(r"^%s\(" % func, read(f), re.M))


def count(regex, rel, flags=0):
    return len(re.findall(regex, read(rel), flags))


def one(regex, rel, flags=0):
    m = re.search(regex, read(rel), flags)
    return int(m.group(1).replace(",", ""), 0) if m else None


# a test's count from its third argument, and its default
ARGV3_DEFAULT = r"int\(sys\.argv\[3\]\) if len\(sys\.argv\) > 3 else (\d+)"

# Numbers the page states, each by a pattern (its groups: the numbers) and
# what the code says.  Every claim must be on the page at least once.
CLAIMS = [
    ("the port's operations (struct port_ops)",
     r"`struct port` is a table of (\w+) operations",
     lambda: len(struct_members(read("pmd/port.h"), "port_ops"))),
    ("libpollnet's spin (LIB_SPIN_US), pollnet-run's (PRELOAD_SPIN_US)",
     r"(?:defaults of|by default) (\d+) (?:µs \(`LIB_SPIN_US`\) in libpollnet )?and (\d+)",
     lambda: (DEFINES["LIB_SPIN_US"], DEFINES["PRELOAD_SPIN_US"])),
    ("a burst (BURST, app/lcore.h)", r"rx_burst\(port, queue, (\d+)\)", lambda: DEFINES["BURST"]),
    ("TX descriptors drained per socket and loop (BURST)",
     r"drains up to (\d+) TX descriptors", lambda: DEFINES["BURST"]),
    ("the log's records per lcore (PN_STATS_LOG_SIZE)",
     r"one log per lcore: (\d[\d,]*) records", lambda: DEFINES["PN_STATS_LOG_SIZE"]),
    ("the headers a record keeps (PN_LOG_SNAP)", r"headers \(up to (\d+) bytes",
     lambda: DEFINES["PN_LOG_SNAP"]),
    ("a log record's size (struct pn_log_rec)", r"in a (\d+)-byte record",
     lambda: one(r"sizeof\(struct pn_log_rec\) == (\d+)", "abi/pn_stats.h")),
    ("the control thread's publication (PN_STATS_CTL_MS)",
     r"port counters \(hardware and driver\)[^|]*\| control thread \| every (\d+) ms",
     lambda: DEFINES["PN_STATS_CTL_MS"]),
    ("an lcore's publication (PN_STATS_LCORE_MS)",
     r"loop counters \| that lcore \| every (\d+) ms", lambda: DEFINES["PN_STATS_LCORE_MS"]),
    ("the clock's best of N reads (app/statseg.c tsc_with)", r"the best of (\d+) reads",
     lambda: one(r"for \(int i = 0; i < (\d+); i\+\+\)",
                 "app/statseg.c")),
    ("a capture ring's slots and slot size (PN_CAP_SLOTS, PN_CAP_SLOT_SIZE)",
     r"a ring of (\d[\d,]*) (\d+)-KiB slots",
     lambda: (DEFINES["PN_CAP_SLOTS"], DEFINES["PN_CAP_SLOT_SIZE"] // 1024)),
    ("ICMP errors' rate and burst (STACK_ICMP_RATE, STACK_ICMP_BURST)",
     r"\((\d[\d,]*) a second, bursts of (\d+)",
     lambda: (DEFINES["STACK_ICMP_RATE"], DEFINES["STACK_ICMP_BURST"])),
    ("ARP's queues (ARP_PENDING_MAX, ARP_PENDING_TOTAL)",
     r"park up to (\d+) packets per address and (\d+) in all",
     lambda: (DEFINES["ARP_PENDING_MAX"], DEFINES["ARP_PENDING_TOTAL"])),
    ("ARP's requests and their interval (app/main.c's stack_conf)",
     r"(\d+) requests (\d+) s apart",
     lambda: (one(r"\.arp_retries = (\d+)", "app/main.c"),
              one(r"\.arp_retry_ms = (\d+)", "app/main.c") // 1000)),
    ("the ARP cache's geometry (ARP_BUCKETS, ARP_WAYS)", r"\((\d+) sets × (\d+) ways\)",
     lambda: (DEFINES["ARP_BUCKETS"], DEFINES["ARP_WAYS"])),
    ("the ARP timers' period (stack/arp.c)", r"ARP retries and aging, every (\d+) ms",
     lambda: one(r"next_tick_ms = s->now_ms \+ (\d+)", "stack/arp.c")),
    ("the port table's entries (sock/sock_table.c)", r"bound sockets in a (\d[\d,]*)-entry table",
     lambda: one(r"sizeof\(t->ports\[0\]\) \* (\d+)", "sock/sock_table.c")),
    ("grace periods a removal waits (sock_table_remove)", r"removal waits (\w+) RCU grace periods",
     lambda: len(re.findall(r"rte_rcu_qsbr_synchronize",
                            function_body(read("sock/sock_table.c"), "sock_table_remove")))),
    ("the session table (CTL_MAX_CLIENTS)", r"a full session table \((\d+)\)",
     lambda: DEFINES["CTL_MAX_CLIENTS"]),
    ("requests served per session and round (app/ctl.c ctl_poll)",
     r"at most (\d+) requests per\s+session",
     lambda: one(r"for \(int r = 0; r < (\d+); r\+\+\)", "app/ctl.c")),
    ("the ephemeral ports (EPHEMERAL_LO, EPHEMERAL_HI)", r"0 picks from (\d+)-(\d+)",
     lambda: (DEFINES["EPHEMERAL_LO"], DEFINES["EPHEMERAL_HI"])),
    ("the control thread's poll() timeout (app/main.c)", r"`poll\(\)` with a (\d+) ms timeout",
     lambda: one(r"ctl_poll\(&ctl, (\d+)\)", "app/main.c")),
    ("the region's cache lines of positions, wake bits and errors (struct pn_shm_ctl "
     "but its client and assoc lines and its error queue)", r"(\w+) cache lines of ring positions",
     lambda: len(struct_members(read("abi/pn_region.h"), "pn_shm_ctl")) - 3),
    ("a slot (PN_SHM_SLOT_SIZE)", r"descriptors, (\d+) KiB slots",
     lambda: DEFINES["PN_SHM_SLOT_SIZE"] // 1024),
    ("a dozing lcore's longest sleep (LCORE_DOZE_MS)", r"doorbell \((\d+) ms at most\)",
     lambda: one(r"#define LCORE_DOZE_MS\s+(\d+)", "app/lcore.c")),
    ("the e1000's RDT writes (E1000_RX_FREE_THRESH)", r"writes RDT once (?:per )?(\d+) refills",
     lambda: DEFINES["E1000_RX_FREE_THRESH"]),
    ("the e1000's RS bits (E1000_TX_RS_THRESH)", r"sets RS on every (\d+)(?:st|nd|rd|th) descriptor",
     lambda: DEFINES["E1000_TX_RS_THRESH"]),
    ("libFuzzer harnesses (tests/fuzz/meson.build)", r"(\w+) libFuzzer harnesses",
     lambda: count(r"^\s*'fuzz_\w+' :", "tests/fuzz/meson.build", re.M)),
    ("fuzzed frames on the wire (test_wirefuzz.py)", r"(\d[\d,]*) fuzzed frames",
     lambda: one(ARGV3_DEFAULT, "tests/integration/test_wirefuzz.py")),
    ("clients killed (test_clientfault.py)", r"(\d[\d,]*) clients killed",
     lambda: one(ARGV3_DEFAULT, "tests/integration/test_clientfault.py")),
    ("the guest's DPDK plugins (deploy/pollnet-guest)",
     r"the (\w+) plugins pollnet\s+needs \(([^)]*)\)",
     lambda: (len(re.search(r"for p in ([\w ]+); do", read("deploy/pollnet-guest")).group(1).split()),
              ", ".join(re.search(r"for p in ([\w ]+); do",
                                  read("deploy/pollnet-guest")).group(1).split()))),
]


def main():
    page = read(PAGE)
    flat = " ".join(page.split())
    prose = re.sub(r"^```.*?^```", "", page, flags=re.S | re.M)
    spans = [" ".join(s.split()) for s in re.findall(r"`([^`]+)`", prose)]
    keys = config_keys()
    counters = counter_names()

    # paths, identifiers, keys and counters in backquotes
    built = set()
    for f in FILES:
        if f.endswith("meson.build"):
            for kind, name, rest in re.findall(
                    r"\b(library|shared_library)\('([\w-]+)',(.*?)\)\n", read(f), re.S):
                built.add("lib%s.so" % name)
                so = re.search(r"soversion : '(\d+)'", rest)
                if so:
                    built.add("lib%s.so.%s" % (name, so.group(1)))
    deploy_text = "\n".join(read(f) for f in FILES if f.startswith("deploy/"))
    basenames = {os.path.basename(f) for f in FILES}
    bad = {"path": [], "file": [], "function": [], "constant": [], "struct": [],
           "name": [], "dotted": []}
    for s in spans:
        for fn in re.findall(r"\b([A-Za-z_]\w*)\(", s):
            if not in_code(fn):
                bad["function"].append(fn + "()")
        for st in re.findall(r"\bstruct (\w+)", s):
            if not re.search(r"\bstruct %s\s*\{" % st, CODE) and st not in system_words():
                bad["struct"].append("struct " + st)
        if s.startswith("/"):
            continue                    # the system's paths, telemetry's commands
        for w in re.split(r"[\s()\[\],;|=]+|->", s):
            w = w.strip(".:")
            if not w or w.startswith("-") or re.search(r"[<>:=]", w):
                continue
            if "/" in w:
                if not glob.glob(os.path.join(SRC, w)):
                    bad["path"].append(w)
            elif re.fullmatch(r"[\w.-]+\.(?:c|h|py|sh|md|map|conf|build)", w):
                if w not in basenames and w not in deploy_text:
                    bad["file"].append(w)
            elif re.fullmatch(r"lib[\w-]+\.so(?:\.\d+)?", w):
                if w not in built:
                    bad["file"].append(w)
            elif re.fullmatch(r"[a-z][a-z0-9_]*(?:\.[a-z0-9_*]+)+", w):
                sec, key = w.split(".", 1)
                if sec in SECTIONS and (sec, key) in keys:
                    continue
                pat = re.escape(w).replace(r"\*", r"[\w.]*")
                if not any(re.fullmatch(pat, c) for c in counters):
                    bad["dotted"].append(w)
            elif re.fullmatch(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+", w):
                if not in_code(w):
                    bad["constant"].append(w)
            elif re.fullmatch(r"[a-z_][a-z0-9]*_[a-z0-9_]+", w):
                if not in_text(w):
                    bad["name"].append(w)
    kinds = {
        "path": "every path in backquotes exists",
        "file": "every file name in backquotes is the tree's, a library it builds or a "
                "program its scripts run",
        "function": "every function() in backquotes exists",
        "constant": "every CONSTANT in backquotes exists",
        "struct": "every struct in backquotes is defined",
        "name": "every other name_with_underscores in backquotes is the code's",
        "dotted": "every dotted name is a configuration key (`section.key`) or a counter "
                  "pollnet publishes",
    }
    for kind, what in kinds.items():
        check(not bad[kind], what + (" (not: %s)" % ", ".join(sorted(set(bad[kind])))
                                     if bad[kind] else ""))

    # every interface between processes, every driver
    abi = sorted(f for f in FILES if f.startswith("abi/") and f.endswith(".h"))
    missing = [f for f in abi if "`%s`" % f not in page]
    check(len(abi) >= 5 and not missing, "the page names each of the %d headers of abi/%s" %
          (len(abi), " (missing %s)" % missing if missing else ""))
    drivers = re.findall(r'strncmp\(spec, "(\w+)", \d+\)', read("pmd/port.c"))
    missing = [d for d in drivers if not re.search(r"`%s:[^`]*`" % d, page)]
    check(len(drivers) >= 2 and not missing, "the page names each of the %d drivers port_open() "
          "knows (%s)%s" % (len(drivers), ", ".join(drivers),
                            " (missing %s)" % missing if missing else ""))
    only = re.findall(r"`(\w+):[^`]*` is the only driver", flat)
    check(not only or len(drivers) == 1, "no driver is the only one: port_open() knows %s%s" %
          (", ".join(drivers), " (the page: %s is the only driver)" % only[0] if only else ""))

    # numbers tied to the code
    for what, regex, expect in CLAIMS:
        want = expect()
        found = re.findall(regex, flat)
        if not found:
            check(False, "the page states %s (%s)" % (what, want))
            continue
        for got in found:
            got = got if isinstance(got, tuple) else (got,)
            got = tuple(number(g) if number(g) is not None else g for g in got)
            w = want if isinstance(want, tuple) else (want,)
            check(got == w, "%s: the page says %s, the code %s" %
                  (what, "/".join(map(str, got)), "/".join(map(str, w))))
    pairs = re.findall(r"(\d[\d,]*)(?: ?(?:µs|ms|s|bytes|entries|datagrams|records))?"
                       r"(?:, | \()`([A-Z][A-Z0-9_]+)`", flat)
    pairs += [(v, c) for c, v in re.findall(r"`([A-Z][A-Z0-9_]+)`,? (\d[\d,]*)\b(?![.\d])", flat)]
    wrong = ["%s is %s, not %s" % (c, DEFINES[c], v) for v, c in pairs
             if c in DEFINES and number(v) != DEFINES[c]]
    unknown = sorted({c for v, c in pairs if c not in DEFINES})
    check(pairs and not wrong and not unknown, "the %d numbers given with a constant are its "
          "value%s%s" % (len(pairs), " (%s)" % "; ".join(wrong) if wrong else "",
                         " (no such #define: %s)" % unknown if unknown else ""))
    dflt = config_defaults()
    wrong, seen = [], 0
    for sec, key, v in re.findall(r"`(\w+)\.(\w+)`,? \(?(?:by )?default:? (\d[\d,]*)", flat):
        seen += 1
        field = keys.get((sec, key))
        if field is None or dflt.get(field) != number(v):
            wrong.append("%s.%s: %s, not %s" % (sec, key, dflt.get(field), v))
    check(seen >= 3 and not wrong, "the %d defaults given with a configuration key are "
          "config_defaults()'s%s" % (seen, " (%s)" % "; ".join(wrong) if wrong else ""))
    vers = re.findall(r"#define (PN_\w+_VERSION)\s+\d+", read("abi/pn_versions.h"))
    missing = [v for v in vers if not re.search(r"`%s`,? \d" % v, flat)]
    check(len(vers) >= 4 and not missing, "the page gives each of the %d ABI versions of "
          "abi/pn_versions.h%s" % (len(vers), " (missing %s)" % missing if missing else ""))

    # the names of counters and of a socket's fields
    fields = sock_fields()
    listed = []
    m = re.search(r"`pn_sock_fields\(\)`[^:]*: ", flat)
    if m:       # the fields, to the sentence's end, without what is in parentheses
        rest = re.sub(r"\([^()]*\)", "", flat[m.end():])
        rest = rest[:re.search(r"\.(?:\s|$)", rest).start()]
        listed = re.findall(r"`(\w+)`", rest)
    check(len(fields) >= 16 and listed == fields,
          "the page lists a socket's %d fields as pn_sock_fields() gives them%s" %
          (len(fields), "" if listed == fields else " (page: %s; code: %s)" %
           (" ".join(listed), " ".join(fields))))
    names = {"app/report.c": "report", "app/telemetry.c": "telemetry",
             "app/pollnetctl/stats.c": "`pollnetctl stats", "app/pollnetctl/sockets.c":
             "`pollnetctl sockets"}
    for func in ("pn_stats_emit", "pn_sock_fields"):
        users = callers(func)
        sent = next((t for t in re.split(r"\.\s+(?=[A-Z])", flat) if "`%s()`" % func in t), "")
        missing = [u for u in users if names.get(u, u) not in sent]
        check(sent and users and not missing, "the page names the %d users of %s() (%s)%s" %
              (len(users), func, ", ".join(users), " (missing %s)" % missing if missing else ""))

    # the batch calls' ring updates
    for fn in ("pollnet_recvmmsg", "pollnet_sendmmsg"):
        n = ring_updates(fn)
        said = []
        for m in re.finditer(r"((?:`pollnet_\w+`/)?`pollnet_\w+`)[^.;`]*?(\w+) wait[^.;`]*?"
                             r"(\w+) (?:ring updates?|updates? of the ring)", flat):
            if "`%s`" % fn in m.group(1):
                said.append(number(m.group(3)))
        check(said and all(s == n for s in said), "%s: the page says %s ring update(s) per "
              "call, client/datapath.c makes %d" % (fn, "/".join(map(str, said)) or "nothing", n))

    # the frame log can be turned off
    para = [p for p in re.split(r"\n\s*\n", page) if "leaves its headers" in p]
    off = ("dataplane", "summaries") in keys
    check(para and (not off or all("`dataplane.summaries`" in p for p in para)),
          "the paragraph on the frame log says `dataplane.summaries` turns it off")
    finish()


if __name__ == "__main__":
    main()
