#!/usr/bin/python3
"""pollnetctl against a running pollnet (net_af_packet on a veth, namespaces
created and removed here): tail and capture show crafted ARP, UDP, TCP and
ICMP frames with the right fields (the capture read back by tshark); stats
and sockets agree with pollnet's own report and with what a client moved;
DPDK telemetry serves the same counters; bad arguments and a missing
pollnet give usage or a clear error.

usage: test_ctl.py POLLNET POLLNETCTL ECHO_TOOL"""
import glob
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from netns import check, finish, for_other_users, Namespaces, Pollnet, need_root, sh, PREFIX  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DUT_IP = "198.18.0.2"
PEER_IP = "198.18.0.1"
TMP = tempfile.mkdtemp(prefix="pollnetctl-test.")
os.chmod(TMP, 0o755)        # nobody reads the segment too
STATS = os.path.join(TMP, "pollnet.stats")
CTL = os.path.join(TMP, "pollnet.sock")
ANY_USER = {}


def ctl(*args, timeout=30, user=None, stats=STATS):
    cmd = [POLLNETCTL, "--stats", stats] + list(args)
    if user:
        # a copy it can run: the build tree may be under a 0700 home
        if user not in ANY_USER:
            ANY_USER[user] = for_other_users(os.path.dirname(os.path.dirname(POLLNETCTL)),
                                             POLLNETCTL)[0][0]
        cmd = ["setpriv", "--reuid", user, "--regid", "nogroup", "--clear-groups",
               ANY_USER[user]] + cmd[1:]
    p = subprocess.run(cmd, text=True, timeout=timeout,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return p.returncode, p.stdout, p.stderr


def expect_rc(args, rc, needle, where="stderr"):
    got, out, err = ctl(*args)
    text = err if where == "stderr" else out
    check(got == rc and needle in text,
          "pollnetctl %s -> %d, %r (got %d: %s)" % (" ".join(args), rc, needle, got,
                                                   (err or out).strip()[:160]))


def peer(ns, action, **args):
    out = sh("/usr/bin/python3", os.path.join(HERE, "peer.py"), action,
             json.dumps(args), ns=ns, timeout=120).stdout
    return json.loads(out.strip().splitlines()[-1])


def tshark(*args):
    return subprocess.run(["tshark"] + list(args), text=True, timeout=60,
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)


def tail_json(*args):
    rc, out, err = ctl("tail", "--json", *args)
    if rc != 0:
        return None
    return [json.loads(line) for line in out.splitlines()]


def telemetry(cmd, pid):
    """Ask DPDK's telemetry socket of the pollnet with this pid."""
    for path in glob.glob("/var/run/dpdk/*/dpdk_telemetry.v2"):
        try:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            s.settimeout(5)
            s.connect(path)
            json.loads(s.recv(16384).decode())
            s.send(b"/pollnet/info")
            info = json.loads(s.recv(65536).decode()).get("/pollnet/info")
            s.close()
            if not info or info.get("pid") != pid:
                continue
            s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            s.settimeout(5)
            s.connect(path)
            s.recv(16384)
            s.send(cmd.encode())
            r = json.loads(s.recv(1 << 20).decode())
            s.close()
            return r
        except (OSError, ValueError):
            continue
    return None


def main():
    global POLLNETCTL
    need_root()
    binary, POLLNETCTL, echo_tool = sys.argv[1], sys.argv[2], sys.argv[3]

    # -- arguments, and no pollnet --
    expect_rc(["--help"], 0, "Usage: pollnetctl", "stdout")
    expect_rc([], 2, "a command is needed")
    expect_rc(["frobnicate"], 2, "unknown command 'frobnicate'")
    expect_rc(["stats", "-i", "0"], 2, "--interval 0: expected seconds")
    expect_rc(["stats", "-c", "3"], 2, "--count needs --interval")
    expect_rc(["stats", "extra"], 2, "unexpected argument 'extra'")
    expect_rc(["tail", "-n", "ten"], 2, "--lines ten: expected a whole number")
    # filters are libpcap's: its own messages
    expect_rc(["tail", "port"], 2, "filter 'port': can't parse filter expression: syntax error")
    expect_rc(["tail", "port", "70000"], 2, "illegal port number 70000 > 65535")
    expect_rc(["tail", "host", "300.1.1.1"], 2, "invalid IPv4 address '300.1.1.1'")
    expect_rc(["tail", "vlan", "5000"], 2, "VLAN tag 5000 greater than maximum 4095")
    expect_rc(["capture", "-w", "/tmp/x.pcap", "udp", "and"], 2, "syntax error")
    expect_rc(["capture", "udp"], 2, "--write FILE is required")
    expect_rc(["capture", "-w", "/tmp/x.pcap", "-s", "5"], 2, "--snaplen 5: expected a whole number")
    expect_rc(["sockets"], 1, "pollnet is not running (no stats segment at %s)" % STATS)
    expect_rc(["tail"], 1, "pollnet is not running")

    net = Namespaces(peer_ip=PEER_IP + "/24")
    pn = Pollnet(binary, net.dut, "dpdk:net_af_packet0,iface=%s" % net.dut_if,
                 DUT_IP + "/24", extra=["--stats", STATS, "--ctl", CTL,
                                        "--set", "control.mode=0666"])
    dut_mac = re.search(r"mac ([0-9A-Fa-f:]{17})", pn.output()).group(1).lower()
    pid = pn.proc.pid
    rc, out, err = ctl("stats", "--json")
    check(rc == 0, "stats --json runs (%s)" % err.strip())
    st = json.loads(out) if rc == 0 else {}
    pid = st.get("pid", pid)
    check(st.get("ip") == DUT_IP and st.get("driver") == "net_af_packet",
          "stats names the port and address (%s, %s)" % (st.get("ip"), st.get("driver")))

    # -- capture the crafted frames while sending them --
    pcap = os.path.join(TMP, "cap.pcap")
    cap = subprocess.Popen([POLLNETCTL, "--stats", STATS, "capture", "-w", pcap,
                            "-c", "7", "-t", "20"], text=True,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 10
    started = False
    while time.time() < deadline and not started:
        rc, out, err = ctl("stats", "--json")
        started = rc == 0 and json.loads(out)["counters"]["control.captures"] == 1
        time.sleep(0.05)
    check(started, "capture started (control.captures == 1)")
    sent = peer(net.peer, "frames", iface=net.peer_if, dst_ip=DUT_IP, dst_mac=dut_mac,
                src_ip=PEER_IP)
    peer_mac = sent["src_mac"].lower()
    try:
        _, cap_err = cap.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        cap.kill()
        _, cap_err = cap.communicate()
    check(cap.returncode == 0 and "7 frames captured, 0 skipped" in cap_err,
          "capture -c 7 ends by itself (%s)" % cap_err.strip().replace("\n", " | "))

    # -- tail: the fields of each frame, RX and TX --
    recs = tail_json("-n", "100") or []
    rx = [r for r in recs if r["dir"] == "rx"]
    tx = [r for r in recs if r["dir"] == "tx"]

    def find(lst, **kw):
        return next((r for r in lst if all(r.get(k) == v for k, v in kw.items())), None)

    a = find(rx, kind="arp", arp_op=1, src_ip=PEER_IP, dst_ip=DUT_IP)
    check(a is not None and a["src_mac"] == peer_mac and a["dst_mac"] == "ff:ff:ff:ff:ff:ff"
          and a["ethertype"] == 0x0806, "tail: ARP request in, MACs and IPs (%s)" % a)
    a = find(tx, kind="arp", arp_op=2, src_ip=DUT_IP, dst_ip=PEER_IP)
    check(a is not None and a["src_mac"] == dut_mac and a["dst_mac"] == peer_mac,
          "tail: ARP reply out (%s)" % a)
    u = find(rx, kind="udp", src_port=5001, dst_port=7)
    check(u is not None and u["src_ip"] == PEER_IP and u["dst_ip"] == DUT_IP and u["df"]
          and not u["mf"] and u["ttl"] == 61 and u["udp_len"] == 28 and u["ethertype"] == 0x0800
          and u["src_mac"] == peer_mac and u["dst_mac"] == dut_mac,
          "tail: UDP in with DF, ttl 61, ports 5001 > 7, length 28 (%s)" % u)
    u = find(tx, kind="udp", src_port=7, dst_port=5001)
    check(u is not None and u["dst_ip"] == PEER_IP and u["udp_len"] == 28,
          "tail: the UDP echo out (%s)" % u)
    t = find(rx, kind="tcp", src_port=5002, dst_port=80)
    check(t is not None and t["tcp_flags"] == 0x02 and t["seq"] == 1234 and not t["df"]
          and t["ttl"] == 62, "tail: TCP SYN in, seq 1234, no DF (%s)" % t)
    i = find(rx, kind="icmp", icmp_type=8)
    check(i is not None and i["icmp_id"] == 77 and i["icmp_seq"] == 5 and i["ttl"] == 63,
          "tail: ICMP echo request in, id 77 seq 5 (%s)" % i)
    i = find(tx, kind="icmp", icmp_type=0)
    check(i is not None and i["icmp_id"] == 77 and i["dst_ip"] == PEER_IP,
          "tail: ICMP echo reply out (%s)" % i)

    rc, out, err = ctl("tail", "-n", "100")
    lines = out.splitlines()
    for needle in ("> ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42: ARP, Request who-has "
                   "%s tell %s" % (DUT_IP, PEER_IP),
                   "%s.5001 > %s.7: UDP, length 20, ttl 61, ip id 1, flags [DF]" % (PEER_IP, DUT_IP),
                   "%s.5002 > %s.80: TCP, flags [S], seq 1234, ttl 62, ip id 1, flags [none]" % (PEER_IP, DUT_IP),
                   "%s > %s: ICMP echo request, id 77, seq 5, ttl 63" % (PEER_IP, DUT_IP),
                   "RX %s > %s" % (peer_mac, dut_mac)):
        check(any(needle in line for line in lines), "tail line: ...%s..." % needle)

    only = tail_json("-n", "100", "tcp") or []
    check(len(only) == 1 and only[0]["kind"] == "tcp", "tail tcp: just the SYN (%d)" % len(only))
    only = tail_json("-n", "100", "port", "7") or []
    check(len(only) == 2 and all(r["kind"] == "udp" for r in only),
          "tail port 7: the datagram and its echo (%d)" % len(only))
    only = tail_json("-n", "100", "arp", "and", "host", PEER_IP) or []
    check(len(only) >= 2 and all(r["kind"] == "arp" and PEER_IP in (r["src_ip"], r["dst_ip"])
                                 for r in only),
          "tail arp and host %s: ARP to or from it only (%d)" % (PEER_IP, len(only)))
    only = tail_json("-n", "2") or []
    check(len(only) == 2, "tail -n 2: two lines (%d)" % len(only))

    # -- the capture, read back by tshark --
    r = tshark("-r", pcap, "-T", "fields", "-E", "separator=|", "-e", "eth.src",
           "-e", "eth.dst", "-e", "arp.opcode", "-e", "ip.src", "-e", "ip.dst",
           "-e", "ip.flags.df", "-e", "ip.ttl", "-e", "udp.srcport", "-e", "udp.dstport",
           "-e", "tcp.srcport", "-e", "tcp.dstport", "-e", "tcp.flags.syn", "-e", "icmp.type")
    rows = [ln.split("|") for ln in r.stdout.splitlines() if "|" in ln]
    print("tshark:\n  " + "\n  ".join(r.stdout.splitlines()))
    check(len(rows) == 7, "tshark reads 7 frames from the capture (%d)" % len(rows))

    def row(**kw):
        names = ["src", "dst", "arp", "ipsrc", "ipdst", "df", "ttl", "usport", "udport",
                 "tsport", "tdport", "syn", "icmp"]
        for cells in rows:
            d = dict(zip(names, cells))
            if all(d.get(k) == v for k, v in kw.items()):
                return d
        return None
    check(row(src=peer_mac, dst="ff:ff:ff:ff:ff:ff", arp="1") is not None, "tshark: ARP request")
    check(row(src=dut_mac, dst=peer_mac, arp="2") is not None, "tshark: ARP reply")
    check(row(src=peer_mac, ipsrc=PEER_IP, ipdst=DUT_IP, df="1", ttl="61", usport="5001",
              udport="7") is not None, "tshark: UDP 5001 > 7 with DF, ttl 61")
    check(row(src=dut_mac, ipsrc=DUT_IP, ipdst=PEER_IP, usport="7", udport="5001") is not None,
          "tshark: UDP echo 7 > 5001")
    check(row(ipsrc=PEER_IP, df="0", tsport="5002", tdport="80", syn="1") is not None,
          "tshark: TCP SYN 5002 > 80, no DF")
    check(row(ipsrc=PEER_IP, icmp="8") is not None and row(ipsrc=DUT_IP, icmp="0") is not None,
          "tshark: ICMP echo request and reply")
    r = tshark("-r", pcap, "-T", "fields", "-e", "udp.checksum.status",
               "-e", "ip.checksum.status", "-o", "udp.check_checksum:TRUE",
               "-o", "ip.check_checksum:TRUE", "udp")
    check(r.stdout.split() == ["1", "1", "1", "1"],    # 1: good
          "tshark: IP and UDP checksums good both ways (%s)" % r.stdout.split())

    # -- tail -f follows new packets --
    fol = subprocess.Popen([POLLNETCTL, "--stats", STATS, "tail", "-f", "-n", "0", "-c", "2",
                            "--json", "icmp"], text=True, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE)
    time.sleep(0.5)
    sh("ping", "-c", "1", "-W", "2", DUT_IP, ns=net.peer, check=False)
    try:
        out, _ = fol.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        fol.kill()
        out, _ = fol.communicate()
    got = [json.loads(ln) for ln in out.splitlines()]
    check(fol.returncode == 0 and [g["icmp_type"] for g in got] == [8, 0],
          "tail -f -c 2 icmp: the ping's request and reply, then exit (%s)" %
          [g.get("icmp_type") for g in got])

    # -- stats agree with pollnet's own report --
    time.sleep(0.3)         # lcores publish every ms, the port every 100 ms
    rep = pn.report()
    rc, out, err = ctl("stats", "--json")
    st = json.loads(out)["counters"]
    same = [k for k in rep if k.startswith(("port.", "stack.")) and k in st]
    diff = {k: (rep[k], st[k]) for k in same if rep[k] != st[k]}
    check(len(same) > 60 and not diff,
          "stats --json equals pollnet's report on %d counters (diff: %s)" % (len(same), diff))
    # 4 crafted + ping (its ARP, if the kernel asked, and the request)
    check(st["stack.rx_drop.ip_unknown_proto"] == 1 and st["stack.icmp_echo_replies"] == 2
          and st["stack.udp_delivered"] == 1,
          "stats: the TCP SYN dropped as ip_unknown_proto, 2 pings answered, 1 datagram")
    check(st["stack.rx_frames"] == st["stack.rx_delivered"] + st["stack.rx_answered"] +
          st["stack.rx_dropped"] +
          st["stack.rx_merged"], "stats: rx_frames == delivered + answered + dropped + merged")
    rc, out, err = ctl("stats")
    check(rc == 0 and re.search(r"^stack\.rx_drop\.ip_unknown_proto\s+1\s", out, re.M) and
          "stack.rx_drop.udp_no_socket" not in out,
          "stats table: the non-zero drop reason, not the zero ones")
    rc, out, err = ctl("stats", "-a")
    check("stack.rx_drop.udp_no_socket" in out, "stats -a: zero drop reasons too")
    rc, out, err = ctl("stats", "-i", "0.2", "-c", "2", "--json")
    samples = [json.loads(ln) for ln in out.splitlines()]
    # (interval_s is pollnetctl's own time between its readings; it was the
    # control thread's, which publishes every 100 ms, and read 0.1 for 0.2
    # once under load)
    check(rc == 0 and len(samples) == 2 and all(0.15 < s["interval_s"] < 1.5 for s in samples)
          and "stack.rx_frames" in samples[1]["rates"],
          "stats -i 0.2 -c 2 --json: two samples with rates (status %d, intervals %s, %s)" %
          (rc, [s.get("interval_s") for s in samples], err.strip()[-200:]))

    # -- sockets: a libpollnet client moving datagrams --
    echo = subprocess.Popen(["ip", "netns", "exec", net.dut, echo_tool, "--ctl", CTL, "7000"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    time.sleep(1.0)
    res = peer(net.peer, "echo_sweep", dst=DUT_IP, port=7000, sizes=[10, 20, 30, 40, 50])
    check(not res["bad"], "5 datagrams echoed by pollnet-echo (%s)" % res["bad"])
    time.sleep(0.3)
    rc, out, err = ctl("sockets", "--json")
    socks = json.loads(out) if rc == 0 else []
    s7000 = next((s for s in socks if s["local_port"] == 7000), None)
    check(s7000 is not None and s7000["kind"] == "udp" and s7000["local_addr"] == DUT_IP
          and s7000["connected"] == 0 and s7000["remote_addr"] == "0.0.0.0"
          and s7000["rx_datagrams"] == 5
          and s7000["tx_datagrams"] == 5 and s7000["rx_bytes"] == 150 and s7000["rx_queued"] == 0,
          "sockets: 198.18.0.2:7000, 5 datagrams and 150 bytes each way, nothing queued (%s)" % s7000)
    child = sh("pgrep", "-f", "pollnet-echo --ctl %s" % CTL, check=False).stdout.split()
    check(s7000 is not None and str(s7000["pid"]) in child,
          "sockets: the owner is pollnet-echo's pid (%s in %s)" % (s7000 and s7000["pid"], child))
    s7 = next((s for s in socks if s["kind"] == "echo"), None)
    check(s7 is not None and s7["local_port"] == 7 and s7["rx_datagrams"] == 1,
          "sockets: the echo service on port 7, 1 datagram (%s)" % s7)
    # the echo service runs in pollnet's own process: that is its owner
    check(s7 is not None and s7["pid"] == pid and pid > 0,
          "sockets: the echo service's pid is pollnet's, %d (%s)" % (pid, s7 and s7["pid"]))
    rc, out, err = ctl("sockets")
    check(re.search(r"^\d+\s+udp\s+%s:7000\s+\*:\*\s+%d\s" % (re.escape(DUT_IP), s7000["pid"]
                                                            if s7000 else -1), out, re.M)
          is not None, "sockets table row for 7000")
    check(re.search(r"^\d+\s+echo\s+%s:7\s+\*:\*\s+%d\s" % (re.escape(DUT_IP), pid), out, re.M)
          is not None, "sockets table: the echo service's row shows pollnet's pid %d" % pid)

    # -- telemetry --
    t = telemetry("/pollnet/stats", pid)
    tv = (t or {}).get("/pollnet/stats") or {}
    rc, out, err = ctl("stats", "--json")
    st = json.loads(out)["counters"]
    diff = {k: (tv.get(k.replace(".", "_")), v) for k, v in st.items()
            if k.startswith("stack.") and tv.get(k.replace(".", "_")) != v}
    check(len(tv) == len(st) and not diff,
          "telemetry /pollnet/stats: the same %d counters as stats --json (diff: %s)" %
          (len(tv), diff))
    t = telemetry("/pollnet/sockets", pid)
    ids = (t or {}).get("/pollnet/sockets") or []
    info = [((telemetry("/pollnet/socket,%d" % i, pid) or {}).get("/pollnet/socket") or {})
            for i in ids]
    check(any(s.get("local_port") == 7000 and s.get("rx_datagrams") == 5 for s in info),
          "telemetry /pollnet/socket,ID: port 7000 with 5 datagrams (%s)" % info)
    # one schema, one id per socket: telemetry's entries are sockets --json's
    rc, out, err = ctl("sockets", "--json")
    again = {s["id"]: s for s in json.loads(out)} if rc == 0 else {}
    mine = {s.get("id"): s for s in info}
    check(sorted(ids) == sorted(again) == sorted(mine) and len(set(ids)) == len(ids),
          "telemetry's socket ids are sockets --json's, each once (%s, %s)" %
          (sorted(ids), sorted(again)))
    same = [i for i in mine if again.get(i) == mine[i]]
    check(len(same) == len(mine) and len(mine) == 2,
          "telemetry's socket entries equal sockets --json's, field for field (%d of %d; "
          "json %s, telemetry %s)" % (len(same), len(mine), again, mine))
    check([s.get("pid") for s in info if s.get("kind") == "echo"] == [pid],
          "telemetry: the echo service's pid is pollnet's (%s)" % info)

    # -- who may do what --
    rc, out, err = ctl("stats", user="nobody")
    check(rc == 0 and "stack.rx_frames" in out, "nobody may read stats (the segment is 0644)")
    rc, out, err = ctl("capture", "-w", "/tmp/%s-x.pcap" % PREFIX, "-c", "1", "-t", "1",
                       user="nobody")
    check(rc == 1 and ("refused" in err or "only root" in err),
          "nobody may not capture (%s)" % err.strip())
    cap2 = subprocess.Popen([POLLNETCTL, "--stats", STATS, "capture", "-w", os.devnull,
                             "-t", "3"], stderr=subprocess.PIPE, text=True)
    time.sleep(1)
    rc, out, err = ctl("capture", "-w", os.devnull, "-t", "1")
    check(rc == 1 and "another capture is running" in err,
          "a second capture is refused while one runs (%s)" % err.strip())
    cap2.communicate(timeout=15)

    echo.send_signal(signal.SIGINT)
    echo.wait(timeout=10)
    counters, out = pn.stop()
    check(counters.get("pool.in_use") == 0, "pool back to 0 at exit")
    expect_rc(["stats"], 1, "pollnet is not running (no stats segment")

    # a pollnet that dies leaves a stale segment: told apart by its lock
    pn = Pollnet(binary, net.dut, "dpdk:net_af_packet0,iface=%s" % net.dut_if,
                 DUT_IP + "/24", extra=["--stats", STATS, "--ctl", CTL])
    pn.proc.kill()
    pn.proc.wait()
    subprocess.run(["pkill", "-9", "-f", "pollnet.*%s" % STATS], check=False)
    time.sleep(0.5)
    expect_rc(["stats"], 1, "is left from one that exited")
    pn = Pollnet(binary, net.dut, "dpdk:net_af_packet0,iface=%s" % net.dut_if,
                 DUT_IP + "/24", extra=["--stats", STATS, "--ctl", CTL])
    rc, out, err = ctl("stats", "--json")
    check(rc == 0, "a new pollnet takes over the stale segment")
    pn.stop()
    finish(pn.log_path)


if __name__ == "__main__":
    main()
