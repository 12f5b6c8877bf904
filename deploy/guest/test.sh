# deploy/pollnet-guest test (sourced by deploy/pollnet-guest): the end-to-end
# tests.  In the guest: the lab's tests from a libpollnet client against the
# host (10.0.2.2), DNS included, to a dnsmasq on the host's loopback with a
# local record and no upstream.  From the host: datagrams through hostfwd
# to pollnet's echo service.  Then the wire QEMU recorded, read by tshark.
LAB_PORT=17099
DNS_PORT=17053
N_HOST=12

T_PASS=0 T_FAIL=0
t_check() {   # t_check STATUS WHAT: STATUS 0 passes
    if [ "$1" = 0 ]; then T_PASS=$((T_PASS + 1)); echo "ok   $2" >&2
    else T_FAIL=$((T_FAIL + 1)); echo "FAIL $2" >&2; fi
}
t_ge() {      # t_ge N MIN WHAT
    if [ "$1" -ge "$2" ]; then t_check 0 "$3"; else t_check 1 "$3"; fi
}
t_grep() {    # t_grep PATTERN FILE WHAT
    # (no pipe into grep -q: under pipefail, grep's early exit would fail
    # the writer with SIGPIPE, now and then)
    if grep -qE "$1" "$2"; then t_check 0 "$3"; else t_check 1 "$3"; fi
}

cmd_test() {
    pn_install $PN_PKGS_RUN $PN_PKGS_TEST
    cmd_build
    local tmp log rc=0
    tmp=$(mktemp -d /tmp/pollnet-guest-test.XXXXXX)
    python3 "$HERE/guest/labserver.py" "$LAB_PORT" "$TIMEOUT" > "$tmp/lab.log" 2>&1 &
    LAB_PID=$!
    dnsmasq -k --no-resolv --no-hosts --conf-file=/dev/null --bind-interfaces \
        --listen-address=127.0.0.1 --port="$DNS_PORT" --address=/pollnet.test/10.0.2.77 \
        --user=root --pid-file="$tmp/dnsmasq.pid" 2> "$tmp/dnsmasq.log" &
    DNS_PID=$!
    sleep 0.3
    test_host_client() {
        python3 "$HERE/guest/hostclient.py" "$HOSTFWD_PORT" "$N_HOST" pollnet-e2e > "$tmp/host.log" 2>&1
        echo $? > "$tmp/host.rc"
    }
    ON_READY=test_host_client
    log=$tmp/console.log
    QUIET=1 boot run "$(guest_script_test)" "$log" || rc=$?
    kill "$LAB_PID" "$DNS_PID" 2>/dev/null || true
    tr -d '\r' < "$log" > "$log.txt"         # the console's CR LF endings
    log=$log.txt
    grep -E "^(testing|nettests|all tests|[0-9]+ test|pollnet's echo|only)" "$log" | sed 's/^/  [guest] /' >&2 || true
    t_check "$rc" "the guest's tests (status $rc)"
    for t in "one ping" "single-process pings" "multi-process pings" "DNS"; do
        t_grep "^testing $t: .*OK" "$log" "in the guest, lab test: $t"
    done
    t_grep "^check rx_frames == rx_delivered \+ rx_answered \+ rx_dropped: ok" "$log" \
        "the guest's pollnet counters reconcile"
    t_grep "^  pool.in_use +0$" "$log" "the guest's pollnet returned every mbuf"
    t_grep "^CTL-STATS driver=[a-z0-9_]+ ip=10.0.2.15 reconciles=True echo_pkts_seen=True" "$log" \
        "in the guest, pollnetctl stats --json: counters reconcile"
    t_grep "^CTL-SOCKETS echo port=7 rx=$N_HOST tx=$N_HOST" "$log" \
        "in the guest, pollnetctl sockets: the echo service moved $N_HOST datagrams each way"
    t_grep "^CTL-TAIL echo-replies=$N_HOST$" "$log" \
        "in the guest, pollnetctl tail: $N_HOST echo replies from 10.0.2.15.7"
    t_grep "^CTL-CAPTURE pollnetctl: 40 frames captured, 0 skipped" "$log" \
        "in the guest, pollnetctl capture -c 40 udp port $LAB_PORT"
    t_grep "^CTL-PCAP magic=a1b2c3d4 link=1 frames=40 lab=40" "$log" \
        "in the guest, the capture is a pcap of 40 lab datagrams"
    t_check "$(cat "$tmp/host.rc" 2>/dev/null || echo 1)" \
        "from the host, through hostfwd: $(tail -1 "$tmp/host.log" 2>/dev/null)"

    # The wire: tshark reads QEMU's pcap.
    local n
    n=$(tshark -r "$PCAP" -Y "arp.opcode==1 && arp.src.proto_ipv4==10.0.2.15 && arp.dst.proto_ipv4==10.0.2.2" 2>/dev/null | wc -l)
    t_ge "$n" 1 "pcap: pollnet's ARP request for 10.0.2.2 ($n)"
    n=$(tshark -r "$PCAP" -Y "arp.opcode==2 && arp.src.proto_ipv4==10.0.2.2 && arp.dst.proto_ipv4==10.0.2.15" 2>/dev/null | wc -l)
    t_ge "$n" 1 "pcap: the reply from 10.0.2.2 ($n)"
    local out_payload in_payload
    out_payload=$(printf 'a message from pollnet!' | od -An -tx1 | tr -d ' \n')
    in_payload=$(printf 'this is the host!' | od -An -tx1 | tr -d ' \n')
    n=$(tshark -r "$PCAP" -Y "ip.src==10.0.2.15 && udp.dstport==$LAB_PORT" -T fields -e udp.payload 2>/dev/null | grep -c "^$out_payload$" || true)
    # one ping: 2; single-process: 100; multi-process: 10
    t_ge "$n" 112 "pcap: the guest's pings to the host, payload intact ($n)"
    n=$(tshark -r "$PCAP" -Y "ip.dst==10.0.2.15 && udp.srcport==$LAB_PORT" -T fields -e udp.payload 2>/dev/null | grep -c "^$in_payload$" || true)
    t_ge "$n" 112 "pcap: the host's answers to the guest ($n)"
    local to_guest from_guest
    to_guest=$(tshark -r "$PCAP" -Y "ip.dst==10.0.2.15 && udp.dstport==7" -T fields -e udp.payload 2>/dev/null | sort)
    from_guest=$(tshark -r "$PCAP" -Y "ip.src==10.0.2.15 && udp.srcport==7" -T fields -e udp.payload 2>/dev/null | sort)
    n=$(printf "%s\n" "$to_guest" | grep -c . || true)
    local what="pcap: hostfwd datagrams to the guest's port 7 and the same payloads back ($n)"
    if [ "$n" -ge "$N_HOST" ] && [ "$to_guest" = "$from_guest" ]; then t_check 0 "$what"; else t_check 1 "$what"; fi
    n=$(tshark -r "$PCAP" -Y "dns.qry.name==\"pollnet.test\" && dns.a==10.0.2.77" 2>/dev/null | wc -l)
    t_ge "$n" 1 "pcap: the DNS answer for pollnet.test ($n)"

    test_tap "$tmp"
    test_socket "$tmp"
    if [ "$T_FAIL" = 0 ]; then rm -rf "$tmp"; else echo "guest test logs kept in $tmp" >&2; fi
    echo "guest: $T_PASS passed, $T_FAIL failed" >&2
    [ "$T_FAIL" = 0 ]
}

# The tap in a namespace: the host's kernel is a real peer (10.0.2.2).
test_tap() {
    local tmp=$1 rc=0
    say "the guest on a tap in a namespace: the host's kernel pings it and talks UDP"
    tap_peer() {
        ip netns exec "$TAP_NS" ping -c 3 -i 0.3 -W 3 10.0.2.15 > "$tmp/ping.log" 2>&1
        echo $? > "$tmp/ping.rc"
        ip netns exec "$TAP_NS" python3 "$HERE/guest/hostclient.py" 10.0.2.15:7 6 over-tap \
            > "$tmp/tap.log" 2>&1
        echo $? > "$tmp/tap.rc"
    }
    NET=tap ON_READY=tap_peer QUIET=1 boot run "$(guest_wait_echoes 6)" "$tmp/tap-console.log" || rc=$?
    t_check "$rc" "tap: the guest's side (status $rc)"
    t_check "$(cat "$tmp/ping.rc" 2>/dev/null || echo 1)" \
        "tap: the kernel pings pollnet: $(grep -o '[0-9]* received' "$tmp/ping.log")"
    t_check "$(cat "$tmp/tap.rc" 2>/dev/null || echo 1)" "tap: $(tail -1 "$tmp/tap.log")"
    if [[ "$(ip netns list)" == *"$TAP_NS"* ]]; then t_check 1 "tap: namespace removed"
    else t_check 0 "tap: namespace removed"; fi
}

# -netdev socket: frames as UDP datagrams on loopback, a scripted peer.
test_socket() {
    local tmp=$1 rc=0
    say "the guest on -netdev socket: a peer that speaks Ethernet frames over UDP"
    sock_peer() {
        /usr/bin/python3 "$HERE/guest/sockpeer.py" "$SOCK_QEMU_PORT" "$SOCK_HOST_PORT" 3 \
            > "$tmp/sock.log" 2>&1
        echo $? > "$tmp/sock.rc"
    }
    NET=socket ON_READY=sock_peer QUIET=1 boot run "$(guest_wait_echoes 3; guest_drop_counters)" \
        "$tmp/sock-console.log" || rc=$?
    t_check "$rc" "socket: the guest's side (status $rc)"
    t_check "$(cat "$tmp/sock.rc" 2>/dev/null || echo 1)" "socket: $(tail -1 "$tmp/sock.log")"
    # the hostile frames: each counted in the guest exactly as expected
    local want got c
    want=$(sed -n 's/^HOSTILE-EXPECT //p' "$tmp/sock.log")
    got=$(tr -d '\r' < "$tmp/sock-console.log" | sed -n 's/^DROPS //p')
    for c in $want; do
        if [[ " $got " == *" $c "* ]]; then t_check 0 "socket: hostile frames counted in the guest: $c"
        else t_check 1 "socket: hostile frames counted in the guest: $c (guest: ${got:-nothing})"; fi
    done
    [ -n "$want" ] || t_check 1 "socket: the peer sent its hostile frames"
}

guest_script_test() {
    cat <<GUEST
pollnetctl capture -w /tmp/lab.pcap -c 40 -t 120 udp port $LAB_PORT 2> /tmp/capture.err &
CAP=\$!
until grep -q capturing /tmp/capture.err 2>/dev/null; do sleep 0.1; done
pollnet-nettests --dns 10.0.2.2 --dns-port $DNS_PORT --dns-name pollnet.test \\
    --dns-expect 10.0.2.77 10.0.2.2 $LAB_PORT || exit 1
wait \$CAP
sed 's/^/CTL-CAPTURE /' /tmp/capture.err
$(guest_wait_echoes "$N_HOST")
$(guest_ctl_checks)
GUEST
}

# Shell for the guest: every non-zero drop counter, one line.
guest_drop_counters() {
    cat <<'GUEST'
pollnetctl stats --json | python3 -c 'import json, sys; c = json.load(sys.stdin)["counters"]; print("DROPS " + " ".join("%s=%d" % (k, v) for k, v in sorted(c.items()) if "_drop." in k and v))'
GUEST
}

# pollnetctl in the guest: its answers, reduced to lines the host checks.
guest_ctl_checks() {
    cat <<'GUEST'
sleep 0.3
pollnetctl stats --json > /tmp/stats.json && python3 - <<'PY'
import json
d = json.load(open("/tmp/stats.json"))
c = d["counters"]
print("CTL-STATS driver=%s ip=%s reconciles=%s echo_pkts_seen=%s" % (
    d["driver"], d["ip"],
    c["stack.rx_frames"] == c["stack.rx_delivered"] + c["stack.rx_answered"] + c["stack.rx_dropped"],
    c["stack.udp_delivered"] > 0))
PY
pollnetctl sockets --json > /tmp/socks.json && python3 -c 'import json; s = json.load(open("/tmp/socks.json")); e = [x for x in s if x["kind"] == "echo"][0]; print("CTL-SOCKETS echo port=%d rx=%d tx=%d" % (e["local_port"], e["rx_datagrams"], e["tx_datagrams"]))'
pollnetctl tail -n 4000 udp port 7 | grep -c "10.0.2.15.7 > " | sed 's/^/CTL-TAIL echo-replies=/'
python3 - <<'PY'
import struct
data = open("/tmp/lab.pcap", "rb").read()
magic, _, _, _, _, snap, link = struct.unpack("<IHHiIII", data[:24])
off, n, lab = 24, 0, 0
while off + 16 <= len(data):
    _, _, incl, orig = struct.unpack("<IIII", data[off:off + 16])
    f = data[off + 16:off + 16 + incl]
    off += 16 + incl
    n += 1
    if f[12:14] == b"\x08\x00" and f[23] == 17:
        sport, dport = struct.unpack(">HH", f[34:38])
        lab += 17099 in (sport, dport)
print("CTL-PCAP magic=%x link=%d frames=%d lab=%d" % (magic, link, n, lab))
PY
GUEST
}
