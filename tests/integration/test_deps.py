#!/usr/bin/python3
"""Every program the tests run comes from a package the scripts install.

A fresh Debian 12 machine has only the Essential and Priority: required
packages; everything else a test executes must be in one of the package
lists in deploy/packages.sh, which ./run.sh and deploy/pollnet-guest install
before the steps that need them.  (A machine that ran the guest tests once
has tshark; a fresh one does not.  This test is what keeps that from coming
back.)

How programs are found, statically:
- Python: a list or tuple literal whose first element is a string naming a
  program (["tshark", "-r", ...]), and sh("prog", ...) / spawn("prog", ...)
  calls; wrappers are looked through (ip netns exec NS, timeout N, setpriv
  OPTS, env VAR=...);
- shell: the word in command position (start of a line, after | ; && || $(
  and the same wrappers), skipping keywords, builtins and the script's own
  functions.
Each program is resolved on PATH and mapped to its package with dpkg -S.
A program that is neither
from a package nor built by meson fails the test, as does one from a package
that is not in the lists or the base system.  Python modules imported by the tests are
mapped to packages the same way (scapy: python3-scapy).

usage: test_deps.py SOURCE_DIR
"""
import ast
import glob
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from netns import check, finish  # noqa: E402

# Host-side code that tests run (the guest's own scripts run in the guest,
# on busybox and the image's programs; pollnet-guest copies those in).
TEST_FILES = ["tests/integration/*.py", "tests/integration/*.sh", "tests/fuzz/*.sh",
              "tests/fuzz/*.py", "deploy/pollnet-guest", "deploy/guest/test.sh",
              "deploy/guest/hostclient.py", "deploy/guest/labserver.py",
              "deploy/guest/sockpeer.py", "deploy/guest/demo.sh", "run.sh",
              "deploy/packages.sh", "deploy/host-demo.sh"]
# Used only where present, on purpose.
OPTIONAL = {"sudo": "run.sh re-runs itself with sudo when not root and sudo exists"}
# where a fresh machine's packages put programs (not /usr/local, not a
# user's own PATH)
SYSTEM_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"
WRAPPERS = {"timeout", "setpriv", "env", "exec", "nice", "taskset", "stdbuf", "sudo",
            "command"}
SH_SKIP = {"if", "then", "else", "elif", "fi", "for", "while", "until", "do", "done",
           "case", "esac", "in", "function", "return", "local", "export", "set",
           "unset", "shift", "trap", "wait", "read", "cd", "echo", "printf", "test",
           "[", "[[", "]]", "true", "false", "eval", "source", ".", "declare",
           "break", "continue", "exit", "kill", "type", "let", "mapfile", "pushd",
           "popd", "getopts", "ulimit", "umask", "!", "{", "}", "(", ")", "time"}


def shell_functions(text):
    return set(re.findall(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*\(\)", text, re.M))


def unquote(code):
    """Shell text with its quoted strings taken out, but for the
    commands inside "...$(...)..." (each set apart by ';')."""
    out, i, n = [], 0, len(code)
    while i < n:
        c = code[i]
        if c == "\\":
            i += 2
        elif c == "'":
            j = code.find("'", i + 1)
            j = n if j < 0 else j + 1
            out.append("''" + "\n" * code.count("\n", i, j))
            i = j
        elif c == '"':
            i += 1
            while i < n and code[i] != '"':
                if code[i] == "\\":
                    i += 2
                elif code.startswith("$(", i):
                    depth, j = 1, i + 2
                    while j < n and depth:
                        depth += {"(": 1, ")": -1}.get(code[j], 0)
                        j += 1
                    out.append(" ; " + code[i + 2:j - 1] + " ; ")
                    i = j
                else:
                    if code[i] == "\n":
                        out.append("\n")
                    i += 1
            i += 1
            out.append('""')
        elif c == "#" and (i == 0 or code[i - 1] in " \t;\n"):
            j = code.find("\n", i)
            i = n if j < 0 else j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def shell_programs(text, funcs):
    """(line, program) for words in command position in a shell script;
    funcs: the shell functions defined (not programs)."""
    found = []
    # here-documents are data: blank them (keeping line numbers)
    lines, heredoc = [], None
    for line in text.split("\n"):
        if heredoc:
            lines.append("")
            if line.strip() == heredoc:
                heredoc = None
            continue
        m = re.search(r"<<-?\s*['\"]?([A-Za-z_]+)['\"]?", line)
        if m:
            heredoc = m.group(1)
        lines.append(line)
    text = "\n".join(lines).replace("\\\n", " \\\n")
    code_all = unquote(text)
    code_all = re.sub(r"\$\{[^}]*\}", "$x", code_all)              # ${...}
    for no, code in enumerate(code_all.replace("\\\n", " ").split("\n"), 1):
        code = re.sub(r"\b[A-Za-z_][A-Za-z0-9_]*=\([^)]*\)", " ", code)  # an array
        code = re.sub(r"^\s*[A-Za-z0-9_.*|\" -]+\)(\s|$)", " ", code)   # a case label
        code = re.sub(r"\bcommand\s+-[vV]\s+\S+", " ", code)         # a lookup, not a run
        # split at command separators; $( and ` start a command too
        for seg in re.split(r"\|\||&&|[|;`]|\$\(|\(\s|\bthen\b|\bdo\b|\belse\b", code):
            words = seg.split()
            while words and (re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", words[0]) or
                             words[0] in ("!", "if", "while", "until", "elif", "{", "(",
                                          "exec", "command", "time")):
                words = words[1:]
            if not words:
                continue
            w = words[0]
            if w in ("ip",) and words[1:3] == ["netns", "exec"] and len(words) > 4:
                found.append((no, "ip"))
                w = words[4]
            elif w in WRAPPERS and len(words) > 1:
                found.append((no, w))
                rest = [x for x in words[1:] if not x.startswith("-") and "=" not in x]
                if w == "timeout" and rest:
                    rest = rest[1:]
                w = rest[0] if rest else ""
            if (not w or w in SH_SKIP or w in funcs or "$" in w or w.startswith("-")
                    or not re.match(r"^[A-Za-z0-9_./+-]+$", w)):
                continue
            found.append((no, w))
    return found


def python_programs(text):
    """(line, program) for programs a Python file runs; and the modules it
    imports."""
    tree = ast.parse(text)
    progs, mods = [], set()

    def from_list(elts, no):
        vals = [e.value if isinstance(e, ast.Constant) and isinstance(e.value, str) else None
                for e in elts]
        i = 0
        while i < len(vals) and vals[i] is not None:
            w = vals[i]
            if w == "ip" and vals[i + 1:i + 3] == ["netns", "exec"]:
                progs.append((no, "ip"))
                i += 4
                continue
            if w in WRAPPERS:
                progs.append((no, w))
                i += 1
                while i < len(vals) and vals[i] is not None and (
                        vals[i].startswith("-") or "=" in vals[i] or
                        (w == "timeout" and re.match(r"^[0-9.]+$", vals[i]))):
                    i += 1
                continue
            if " " not in w and shutil.which(w, path=SYSTEM_PATH) or w.startswith("/usr/") or w.startswith("/bin/"):
                progs.append((no, w))
            break

    for n in ast.walk(tree):
        if isinstance(n, (ast.List, ast.Tuple)) and n.elts:
            from_list(n.elts, n.lineno)
        elif isinstance(n, ast.Call):
            name = getattr(n.func, "id", None) or getattr(n.func, "attr", None)
            if name in ("sh", "spawn", "run", "Popen", "check_output", "check_call",
                        "call", "under") and n.args and isinstance(n.args[0], ast.Constant):
                from_list(n.args, n.lineno)
        elif isinstance(n, ast.Import):
            mods.update(a.name.split(".")[0] for a in n.names)
        elif isinstance(n, ast.ImportFrom) and n.module and n.level == 0:
            mods.add(n.module.split(".")[0])
    return progs, mods


_DPKG = {}


def dpkg_db():
    """Every installed package: (its dependencies, Essential or required)."""
    if not _DPKG:
        r = subprocess.run(["dpkg-query", "-W", "-f=${Package}\t${Essential} ${Priority}"
                            "\t${Pre-Depends}, ${Depends}\n"],
                           capture_output=True, text=True, check=True)
        for line in r.stdout.splitlines():
            pkg, prio, deps = line.split("\t")
            names = [d.strip().split(" ")[0].split(":")[0]
                     for alt in deps.split(",") for d in alt.split("|")]
            _DPKG[pkg] = ([n for n in names if n],
                          prio.startswith("yes") or prio.endswith("required"))
    return _DPKG


def owners(paths):
    """{path: package} for the paths a package owns (usr-merged paths tried
    both ways), in one dpkg -S."""
    cands = {}
    for path in paths:
        for p in {path, os.path.realpath(path)}:
            cands[p] = path
            cands[p[4:] if p.startswith("/usr/") else "/usr" + p] = path
    r = subprocess.run(["dpkg", "-S"] + sorted(cands), capture_output=True, text=True)
    found = {}
    for line in r.stdout.splitlines():
        pkgs, _, owned = line.partition(": ")
        if owned in cands:
            found.setdefault(cands[owned], pkgs.split(",")[0].split(":")[0].strip())
    return found


def base_system(pkg):
    """On every fresh Debian 12 (Essential, or Priority: required)."""
    return dpkg_db().get(pkg, ([], False))[1]


def with_dependencies(pkgs):
    """pkgs and everything they depend on, as installed here (python3 brings
    python3-minimal, pkg-config brings pkgconf)."""
    db = dpkg_db()
    seen, todo = set(), list(pkgs)
    while todo:
        p = todo.pop()
        if p not in seen:
            seen.add(p)
            todo.extend(db.get(p, ([], False))[0])
    return seen


def package_lists(top):
    """Every package named in deploy/packages.sh's PN_PKGS_* lists."""
    text = open(os.path.join(top, "deploy", "packages.sh")).read()
    lists = dict(re.findall(r'^(PN_PKGS_[A-Z]+)="([^"]*)"', text, re.M))
    pkgs = set()
    for v in lists.values():
        pkgs.update(v.split())
    return lists, pkgs


def main():
    top = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..")
    top = os.path.abspath(top)
    lists, listed = package_lists(top)
    installed = with_dependencies(listed)
    check(len(lists) >= 4 and "tshark" in listed,
          "deploy/packages.sh has its lists (%s)" % ", ".join(sorted(lists)))
    # every script installs from those lists, not its own
    for script in ("run.sh", "deploy/pollnet-guest", "bench/run.sh"):
        text = open(os.path.join(top, script)).read()
        own = [l for l in re.findall(r"pn_install\s+([^\n]*)", text) if not l.startswith("$")
               and "\"$@\"" not in l]
        check(not own, "%s installs only from the lists (%s)" % (script, own or "ok"))

    uses = {}                     # program -> [file:line]
    modules = {}
    files = sorted({f for g in TEST_FILES for f in glob.glob(os.path.join(top, g))})
    funcs = set()                 # shell functions, across the sourced scripts
    for path in files:
        if not path.endswith(".py"):
            funcs |= shell_functions(open(path).read())
    for path in files:
        rel = os.path.relpath(path, top)
        text = open(path).read()
        if path.endswith(".py") or text.startswith("#!/usr/bin/python"):
            progs, mods = python_programs(text)
            for m in mods:
                modules.setdefault(m, []).append(rel)
        else:
            progs = shell_programs(text, funcs)
        for no, w in progs:
            uses.setdefault(w, []).append("%s:%d" % (rel, no))

    # what the build makes (meson executable() names) and the scripts' own
    built = set()
    for mb in glob.glob(os.path.join(top, "**", "meson.build"), recursive=True):
        built.update(re.findall(r"executable\(\s*'([^']+)'", open(mb).read()))
    built.update(["pollnet-echo", "pollnet-nettests", "pollnet-guest", "run.sh"])
    missing, ours = [], []
    paths = {p: p if p.startswith("/") else shutil.which(p, path=SYSTEM_PATH) for p in uses}
    origins = {}
    for mod in modules:
        try:
            spec = __import__("importlib.util").util.find_spec(mod)
        except (ImportError, ValueError):
            spec = None
        origin = getattr(spec, "origin", None) if spec else None
        if origin and origin not in ("built-in", "frozen"):
            origins[mod] = origin
    owner = owners([p for p in paths.values() if p and os.path.exists(p)] +
                   list(origins.values()))
    for prog in sorted(uses):
        where = uses[prog]
        if os.path.basename(prog) in built or prog in OPTIONAL:
            ours.append(prog)
            continue
        pkg = owner.get(paths[prog])
        if pkg is None:
            missing.append("%s (not installed, not built here; used at %s)" %
                           (prog, ", ".join(where[:3])))
            continue
        if pkg in installed or base_system(pkg):
            continue
        missing.append("%s (package %s, used at %s)" % (prog, pkg, ", ".join(where[:3])))
    for mod in sorted(origins):
        pkg = owner.get(origins[mod])
        if pkg is None or pkg in installed or base_system(pkg):
            continue
        if pkg.startswith("libpython3") or pkg.startswith("python3.11"):
            continue                # the standard library comes with python3
        missing.append("python module %s (package %s, used in %s)" %
                       (mod, pkg, ", ".join(sorted(set(modules[mod]))[:3])))
    print("programs the tests run: %d; not from a package (built here or in "
          "the guest): %s" % (len(uses), " ".join(ours)))
    check(not missing, "every program and module the tests use is installed by "
          "deploy/packages.sh's lists or is in the base system" +
          "".join("\n     missing: " + m for m in missing))
    finish()


if __name__ == "__main__":
    main()
