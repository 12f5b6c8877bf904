# deploy/pollnet-guest test (sourced by deploy/pollnet-guest): the end-to-end
# tests.  In the guest: the lab's tests from a libpollnet client against the
# host (10.0.2.2), DNS included, to a dnsmasq on the host's loopback with a
# local record and no upstream.  From the host: datagrams through hostfwd
# to pollnet's echo service.  Then the wire QEMU recorded, read by tshark.
LAB_PORT=17099
DNS_PORT=17053
ECHO_PORT=17098         # a UDP echo server on the host's loopback
IPERF_PORT=17201        # iperf -s -u on the host's loopback
SOCKPERF_PORT=17203     # sockperf server on the host's loopback
# the cases of preload_py.py run in the guest under pollnet-run
PY_CASES="blocking timeout selectors asyncio sigalrm fork subprocess dup reuse threads unsupported"
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
    python3 "$HERE/guest/labserver.py" "$LAB_PORT" "$TIMEOUT" "$ECHO_PORT" > "$tmp/lab.log" 2>&1 &
    LAB_PID=$!
    dnsmasq -k --no-resolv --no-hosts --conf-file=/dev/null --bind-interfaces \
        --listen-address=127.0.0.1 --port="$DNS_PORT" --address=/pollnet.test/10.0.2.77 \
        --user=root --pid-file="$tmp/dnsmasq.pid" 2> "$tmp/dnsmasq.log" &
    DNS_PID=$!
    # The guest's own resolver (glibc's, under pollnet-run) asks port 53 of
    # its resolv.conf's 10.0.2.2: a second dnsmasq on the host's 127.0.0.1:53,
    # no upstream (never QEMU's 10.0.2.3, which forwards to the real one).
    local dns53=
    if ss -Hlun 'sport = :53' | grep -qE '(127\.0\.0\.1|0\.0\.0\.0|\*|\[::\]):53 '; then
        echo "pollnet-guest: something already serves UDP port 53 on this host's loopback:" \
             "the guest's name lookups under pollnet-run cannot be tested" >&2
    else
        dnsmasq -k --no-resolv --no-hosts --conf-file=/dev/null --bind-interfaces \
            --listen-address=127.0.0.1 --port=53 --address=/pollnet.test/10.0.2.77 \
            --user=root --log-queries --log-facility="$tmp/dns53.log" \
            --pid-file="$tmp/dnsmasq53.pid" 2> "$tmp/dnsmasq53.err" &
        dns53=$!
    fi
    iperf -s -u -B 127.0.0.1 -p "$IPERF_PORT" -l 1000 > "$tmp/iperf-server.log" 2>&1 &
    local iperf_srv=$!
    sockperf server -i 127.0.0.1 -p "$SOCKPERF_PORT" > "$tmp/sockperf-server.log" 2>&1 &
    local sockperf_srv=$!
    sleep 0.3
    # When the guest's iperf server (under pollnet-run) is up, the host's
    # iperf client sends to it through hostfwd.
    (
        for _ in $(seq 1 "$((TIMEOUT * 5))"); do
            grep -q '^RUN-IPERF-SERVER-READY' "$tmp/console.log" 2>/dev/null && break
            sleep 0.2
        done
        iperf -c 127.0.0.1 -u -p "$IPERF_FWD_PORT" -l 1000 -b 2M -t 2 > "$tmp/iperf-host.log" 2>&1
        echo $? > "$tmp/iperf-host.rc"
    ) &
    local iperf_cli=$!
    test_host_client() {
        python3 "$HERE/guest/hostclient.py" "$HOSTFWD_PORT" "$N_HOST" pollnet-e2e > "$tmp/host.log" 2>&1
        echo $? > "$tmp/host.rc"
    }
    ON_READY=test_host_client
    log=$tmp/console.log
    QUIET=1 boot run "$(guest_script_test)" "$log" || rc=$?
    kill "$LAB_PID" "$DNS_PID" $dns53 "$iperf_srv" "$sockperf_srv" "$iperf_cli" 2>/dev/null || true
    wait "$iperf_srv" "$sockperf_srv" 2>/dev/null || true
    tr -d '\r' < "$log" > "$log.txt"         # the console's CR LF endings
    log=$log.txt
    grep -E "^(testing|nettests|all tests|[0-9]+ test|pollnet's echo|only)" "$log" | sed 's/^/  [guest] /' >&2 || true
    t_check "$rc" "the guest's tests (status $rc)"
    for t in "one ping" "single-process pings" "multi-process pings" "DNS"; do
        t_grep "^testing $t: .*OK" "$log" "in the guest, lab test: $t"
    done
    t_grep "^check rx_frames == rx_delivered \+ rx_answered \+ rx_dropped \+ rx_merged \+ rx_kernel: ok" "$log" \
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

    preload_checks "$tmp" "$log" "$dns53"

    test_tap "$tmp"
    test_beside "$tmp"
    test_socket "$tmp"
    if [ "$T_FAIL" = 0 ]; then rm -rf "$tmp"; else echo "guest test logs kept in $tmp" >&2; fi
    echo "guest: $T_PASS passed, $T_FAIL failed" >&2
    [ "$T_FAIL" = 0 ]
}

# The tap in a namespace: the host's kernel is a real peer (10.0.2.2).
test_tap() {
    local tmp=$1 rc=0 n peers=
    say "the guest on a tap in a namespace: the host's kernel pings it and talks UDP"
    # the kernel's transcripts of the case scripts the guest runs, with the
    # guest's addresses (in namespaces of their own, before the boot)
    python3 "$TOP/tests/integration/guest_oracle.py" kernel "$tmp" > "$tmp/oracle.log" 2>&1 || rc=$?
    t_check $rc "tap: the kernel's transcripts: $(tr '\n' ' ' < "$tmp/oracle.log")"
    tap_peer() {
        # the case scripts' peers, on the host's kernel behind the tap
        ip netns exec "$TAP_NS" python3 "$TOP/tests/integration/frag_cases.py" echo 10.0.2.2 \
            9300 400 > "$tmp/frag-peer.log" 2>&1 &
        peers=$!
        ip netns exec "$TAP_NS" python3 "$TOP/tests/integration/udp_cases.py" reflect 9200 400 \
            "$TAP_IF" > "$tmp/udp-peer.log" 2>&1 &
        peers="$peers $!"
        ip netns exec "$TAP_NS" python3 "$TOP/tests/integration/mcast_cases.py" peer 9500 400 \
            "$TAP_IF" > "$tmp/mcast-peer.log" 2>&1 &
        peers="$peers $!"
        ip netns exec "$TAP_NS" ping -c 3 -i 0.3 -W 3 10.0.2.15 > "$tmp/ping.log" 2>&1
        echo $? > "$tmp/ping.rc"
        # in IP fragments both ways, through pollnet's e1000 and the echo service
        ip netns exec "$TAP_NS" ping -c 2 -i 0.5 -W 5 -s 8000 10.0.2.15 > "$tmp/bigping.log" 2>&1
        echo $? > "$tmp/bigping.rc"
        ip netns exec "$TAP_NS" /usr/bin/python3 -c '
import os, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(10)
ok = []
for n in (8000, 60000, 65507):
    d = os.urandom(n)
    s.sendto(d, ("10.0.2.15", 7))
    try:
        ok.append(s.recv(65536) == d)
    except socket.timeout:
        ok.append(False)
print("8000, 60000 and 65507 bytes echoed intact:", ok)
sys.exit(0 if all(ok) else 1)' > "$tmp/big.log" 2>&1
        echo $? > "$tmp/big.rc"
        ip netns exec "$TAP_NS" python3 "$HERE/guest/hostclient.py" 10.0.2.15:7 6 over-tap \
            > "$tmp/tap.log" 2>&1
        echo $? > "$tmp/tap.rc"
    }
    rc=0
    NET=tap ON_READY=tap_peer QUIET=1 boot run "$(guest_wait_echoes 9; guest_cases)" \
        "$tmp/tap-console.log" || rc=$?
    [ -z "$peers" ] || kill $peers 2>/dev/null || true
    t_check "$rc" "tap: the guest's side (status $rc)"
    for n in udp frag mcast; do
        rc=0
        python3 "$TOP/tests/integration/guest_oracle.py" compare $n "$tmp/$n.kernel" \
            "$tmp/tap-console.log" > "$tmp/$n.cmp" 2>&1 || rc=$?
        t_check $rc "tap: $(cat "$tmp/$n.cmp")"
    done
    t_check "$(cat "$tmp/ping.rc" 2>/dev/null || echo 1)" \
        "tap: the kernel pings pollnet: $(grep -o '[0-9]* received' "$tmp/ping.log")"
    t_check "$(cat "$tmp/bigping.rc" 2>/dev/null || echo 1)" \
        "tap: ping -s 8000, in fragments both ways: $(grep -o '[0-9]* received' "$tmp/bigping.log")"
    t_check "$(cat "$tmp/big.rc" 2>/dev/null || echo 1)" "tap: $(tail -1 "$tmp/big.log")"
    t_check "$(cat "$tmp/tap.rc" 2>/dev/null || echo 1)" "tap: $(tail -1 "$tmp/tap.log")"
    if [[ "$(ip netns list)" == *"$TAP_NS"* ]]; then t_check 1 "tap: namespace removed"
    else t_check 0 "tap: namespace removed"; fi
}

# Shell for the guest: the case scripts (tests/integration) under
# pollnet-run against their peers behind the tap, each line tagged for
# guest_oracle.py compare.  (udp_cases.py asks about pollnet's interface,
# pn0: the guest's kernel has it, the exception path's.)
guest_cases() {
    cat <<'GUEST'
for c in udp:9200 frag:9300 mcast:9500; do
    n=${c%%:*}
    pollnet-run python3 /usr/share/pollnet/${n}_cases.py cases 10.0.2.2 ${c#*:} pn0 2>&1 |
        sed "s/^/CASE-$n /"
done
GUEST
}

# pollnet beside the guest's kernel (port.exception = pn0): the kernel has
# pollnet's address on pn0 and what pollnet does not consume.  In the
# guest: the address, a ping from the kernel, a TCP echo server on the
# kernel that the host reaches through hostfwd, nsd under pollnet-run (its
# UDP through pollnet, its TCP through the kernel) answering the host's
# dig over both; the exception path's counters.
test_beside() {
    local tmp=$1 rc=0
    say "pollnet beside the guest's kernel: pn0, a ping from the kernel, TCP from the host"
    beside_host() {
        local i
        for i in $(seq 1 300); do
            grep -q "^BESIDE-READY" "$tmp/beside-console.log" 2>/dev/null && break
            sleep 0.2
        done
        dig @127.0.0.1 -p "$DNSFWD_PORT" www.pollnet.test +short +notcp +time=5 +tries=2 \
            > "$tmp/beside-dig-udp.log" 2>&1 || true
        dig @127.0.0.1 -p "$DNSFWD_PORT" www.pollnet.test +short +tcp +time=5 +tries=2 \
            > "$tmp/beside-dig-tcp.log" 2>&1 || true
        # TCP through hostfwd to the guest kernel's echo server
        local r=0
        python3 "$TOP/tests/integration/tcp_echo_client.py" 127.0.0.1 "$TCPFWD_PORT" 200000 30 \
            > "$tmp/beside-tcp.log" 2>&1 || r=$?
        echo $r > "$tmp/beside-tcp.rc"
    }
    ON_READY=beside_host QUIET=1 boot run "$(cat <<'GUEST'
ip addr show dev pn0 | grep -o 'inet [0-9./]*' | sed 's/^/BESIDE-ADDR pn0 /'
mkdir -p /tmp/nsd
cat > /tmp/nsd/nsd.conf <<'CONF'
server:
  port: 5300
  do-ip6: no
  username: ""
  chroot: ""
  zonesdir: "/tmp/nsd"
  database: ""
  pidfile: "/tmp/nsd/nsd.pid"
  xfrdfile: "/tmp/nsd/xfrd.state"
  zonelistfile: "/tmp/nsd/zone.list"
  xfrdir: "/tmp/nsd"
  server-count: 1
  logfile: "/tmp/nsd/nsd.log"
remote-control:
  control-enable: no
zone:
  name: pollnet.test
  zonefile: pollnet.test.zone
CONF
printf '$ORIGIN pollnet.test.\n$TTL 300\n@ IN SOA ns admin 1 3600 600 86400 300\n@ IN NS ns\nns IN A 10.0.2.15\nwww IN A 10.0.2.99\n' > /tmp/nsd/pollnet.test.zone
pollnet-run nsd -d -c /tmp/nsd/nsd.conf > /tmp/nsd/out 2>&1 &
i=0
until grep -q "nsd started" /tmp/nsd/nsd.log 2>/dev/null || [ $i -gt 600 ]; do sleep 0.1; i=$((i + 1)); done
grep -h "nsd started\|error" /tmp/nsd/nsd.log /tmp/nsd/out | sed 's/^/BESIDE-NSD /'
ping -c 2 -W 3 10.0.2.2 > /tmp/ping.out 2>&1
echo "BESIDE-PING status=$? $(grep -o '[0-9]* packets received' /tmp/ping.out)"
timeout 120 socat TCP-LISTEN:7100,reuseaddr EXEC:cat &
tcp=$!
i=0      # listening (port 7100 = 1BBC, state 0A) before the host is told to connect
until grep -q ':1BBC 00000000:0000 0A' /proc/net/tcp || [ $i -gt 300 ]; do sleep 0.1; i=$((i + 1)); done
echo BESIDE-READY
wait $tcp
echo "BESIDE-TCP status=$?"
sleep 0.5
pollnetctl sockets | sed 's/^/BESIDE-SOCK /'
pollnetctl stats | grep -E '^(exception|stack.rx_kernel)' | sed 's/^/BESIDE-STAT /'
kill $(pidof nsd) 2>/dev/null || true
GUEST
)" "$tmp/beside-console.log" || rc=$?
    tr -d '\r' < "$tmp/beside-console.log" > "$tmp/beside.txt"
    t_check "$rc" "beside: the guest's side (status $rc)"
    t_grep "^BESIDE-ADDR pn0 inet 10\.0\.2\.15/24" "$tmp/beside.txt" \
        "beside: the guest's kernel has pollnet's address on pn0"
    t_grep "^BESIDE-PING status=0 2 packets received" "$tmp/beside.txt" \
        "beside: the guest's kernel pings 10.0.2.2 through pollnet"
    t_check "$(cat "$tmp/beside-tcp.rc" 2>/dev/null || echo 1)" \
        "beside: TCP through hostfwd to the guest kernel's echo server: $(tail -1 "$tmp/beside-tcp.log" 2>/dev/null)"
    t_check "$([ "$(cat "$tmp/beside-dig-udp.log")" = 10.0.2.99 ] && echo 0 || echo 1)" \
        "beside: nsd under pollnet-run answers the host's dig over UDP (through pollnet): $(head -1 "$tmp/beside-dig-udp.log")"
    t_check "$([ "$(cat "$tmp/beside-dig-tcp.log")" = 10.0.2.99 ] && echo 0 || echo 1)" \
        "beside: and over TCP (through the guest's kernel): $(head -1 "$tmp/beside-dig-tcp.log")"
    t_grep "^BESIDE-SOCK .*udp-run +[0-9.*]+:5300 " "$tmp/beside.txt" \
        "beside: pollnetctl sockets: nsd's UDP socket is pollnet's"
    t_grep "^BESIDE-STAT exception\.to_kernel\.tcp +[1-9]" "$tmp/beside.txt" \
        "beside: pollnet counted the TCP it gave the kernel"
    t_grep "^BESIDE-STAT exception\.from_kernel\.tcp +[1-9]" "$tmp/beside.txt" \
        "beside: and the TCP the kernel sent"
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
$(guest_preload_script)
GUEST
}

# pollnet-run in the guest, whose kernel has pollnet's address on pn0 (the
# exception path): a UDP program under pollnet-run works through pollnet,
# one without through the kernel and pollnet's exception path.
# Unmodified programs from Debian's packages against the host's servers
# (10.0.2.2 is the host's loopback) and against each other in the guest.
guest_preload_script() {
    cat <<GUEST
counts() { pollnetctl stats --json | python3 -c 'import json, sys; c = json.load(sys.stdin)["counters"]; print(c["stack.udp_delivered"], c["stack.tx_frames"])'; }
if getent hosts pollnet.test > /dev/null 2>&1; then echo "RUN-NOPRELOAD resolved"; else echo "RUN-NOPRELOAD failed"; fi
echo "RUN-GETENT \$(pollnet-run getent hosts pollnet.test | tr -s ' \t' '  ')"
echo "RUN-GETENT-SEARCH \$(pollnet-run getent ahostsv4 www | head -1 | tr -s ' \t' '  ')"
echo "RUN-PY-RESOLVE \$(pollnet-run python3 -c 'import socket; print(socket.gethostbyname("pollnet.test"))' 2>&1 | tail -1)"
echo "RUN-NC \$(echo 'nc says hi' | pollnet-run nc.openbsd -u -w 2 10.0.2.2 $ECHO_PORT)"
echo "RUN-SOCAT \$(echo 'socat says hi' | pollnet-run socat -T 3 - UDP4:10.0.2.2:$ECHO_PORT)"
pollnet-run socat UDP4-RECVFROM:9202,fork SYSTEM:cat &
SRV=\$!
sleep 1
echo "RUN-LOCAL \$(echo 'local hi' | pollnet-run nc.openbsd -u -w 2 10.0.2.15 9202)"
kill \$SRV
for c in $PY_CASES; do
    pollnet-run python3 /usr/share/pollnet/preload_py.py \$c 10.0.2.2 $ECHO_PORT > /tmp/py.out 2>&1
    echo "RUN-PY \$c status=\$? ok=\$(grep -c '^ok ' /tmp/py.out)"
    grep '^ok ' /tmp/py.out | sed 's/^/RUN-PY-OK /'
done
set -- \$(counts); rx0=\$1 tx0=\$2
pollnet-run iperf -c 10.0.2.2 -u -p $IPERF_PORT -l 1000 -b 2M -t 2 > /tmp/iperf.out 2>&1
echo "RUN-IPERF-CLIENT-STATUS \$?"
set -- \$(counts); echo "RUN-IPERF-CLIENT-COUNTS delivered=\$((\$1 - rx0)) sent=\$((\$2 - tx0))"
sed 's/^/RUN-IPERF-CLIENT /' /tmp/iperf.out
pollnet-run iperf -s -u -p 5001 -l 1000 > /tmp/iperfs.out 2>&1 &
SRV=\$!
sleep 1
set -- \$(counts); rx0=\$1 tx0=\$2
echo RUN-IPERF-SERVER-READY
i=0
until grep -q '%)' /tmp/iperfs.out || [ \$i -gt 600 ]; do sleep 0.1; i=\$((i + 1)); done
sleep 0.5
set -- \$(counts); echo "RUN-IPERF-SERVER-COUNTS delivered=\$((\$1 - rx0)) sent=\$((\$2 - tx0))"
kill \$SRV
sed 's/^/RUN-IPERF-SERVER /' /tmp/iperfs.out
pollnet-run sockperf ping-pong -i 10.0.2.2 -p $SOCKPERF_PORT -t 2 -m 64 > /tmp/sp.out 2>&1
echo "RUN-SOCKPERF-CLIENT-STATUS \$?"
sed 's/^/RUN-SOCKPERF-CLIENT /' /tmp/sp.out
pollnet-run sockperf server -i 10.0.2.15 -p 11112 > /tmp/sps.out 2>&1 &
SRV=\$!
sleep 1
pollnet-run sockperf ping-pong -i 10.0.2.15 -p 11112 -t 2 -m 64 > /tmp/sp.out 2>&1
echo "RUN-SOCKPERF-LOCAL-STATUS \$?"
sed 's/^/RUN-SOCKPERF-LOCAL /' /tmp/sp.out
kill \$SRV
GUEST
}

# The host's view of those: the answers the guest printed, the reports of
# the host's servers, dnsmasq's log.
preload_checks() {
    local tmp=$1 log=$2 dns53=$3 line c
    if [ -n "$dns53" ]; then
        t_grep "^RUN-NOPRELOAD resolved" "$log" \
            "without pollnet-run, getent hosts resolves through the guest kernel's pn0 (the exception path)"
        t_grep "^RUN-GETENT 10\.0\.2\.77 +pollnet\.test" "$log" \
            "pollnet-run getent hosts pollnet.test: 10.0.2.77, from dnsmasq on the host through pollnet"
        t_grep "^RUN-GETENT-SEARCH 10\.0\.2\.77 .*www\.pollnet\.test" "$log" \
            "pollnet-run getent ahostsv4 www: the search list gave www.pollnet.test"
        t_grep "^RUN-PY-RESOLVE 10\.0\.2\.77" "$log" \
            "pollnet-run python3 socket.gethostbyname: 10.0.2.77"
        c=$(grep -c "query\[A\] .*pollnet\.test from 127\.0\.0\.1" "$tmp/dns53.log" 2>/dev/null || true)
        t_ge "${c:-0}" 3 "dnsmasq on the host's 127.0.0.1:53 answered the guest's questions ($c A questions)"
    else
        t_check 1 "pollnet-run getent hosts in the guest: UDP port 53 on the host's loopback is taken"
    fi
    t_grep "^RUN-NC nc says hi$" "$log" "pollnet-run nc -u in the guest -> the host's echo server"
    t_grep "^RUN-SOCAT socat says hi$" "$log" "pollnet-run socat in the guest -> the host's echo server"
    t_grep "^RUN-LOCAL local hi$" "$log" \
        "pollnet-run nc -u -> pollnet-run socat server, in the guest (local delivery)"
    for c in $PY_CASES; do
        line=$(grep "^RUN-PY $c " "$log" || echo "RUN-PY $c (no line)")
        if [[ "$line" == *"status=0 ok="[1-9]* ]]; then t_check 0 "pollnet-run python3 in the guest: $c (${line#*status=0 })"
        else t_check 1 "pollnet-run python3 in the guest: $c ($line)"; fi
    done
    # iperf 2: its "Sent N" has the closing datagram in, a server's total not
    local sent rep lost got
    sent=$(sed -n 's/^RUN-IPERF-CLIENT .*Sent \([0-9]*\) datagrams.*/\1/p' "$log" | tail -1)
    rep=$(sed -n '/^RUN-IPERF-CLIENT .*Server Report/,$p' "$log" | grep -oE '[0-9]+/ *[0-9]+ \(' | head -1)
    lost=${rep%%/*}; got=$(echo "${rep#*/}" | tr -dc 0-9)
    if [ -n "$sent" ] && [ "$lost" = 0 ] && [ "$got" = "$((sent - 1))" ]; then
        t_check 0 "pollnet-run iperf -c -u in the guest: $sent sent, the host's server got $got, lost 0"
    else
        t_check 1 "pollnet-run iperf -c -u in the guest: sent ${sent:-?}, the host's server: ${rep:-no report}"
    fi
    line=$(sed -n 's/^RUN-IPERF-CLIENT-COUNTS //p' "$log")
    local d=${line#delivered=}; d=${d%% *}; local x=${line##*sent=}
    if [ -n "$sent" ] && [ "${x:-0}" -ge "$((sent - 1))" ] && [ "${d:-0}" -ge 1 ]; then
        t_check 0 "in the guest, pollnet sent them all ($x frames) and delivered the report ($d)"
    else t_check 1 "in the guest, pollnet's counters for the iperf client: $line"; fi
    sent=$(grep -oE 'Sent [0-9]+ datagrams' "$tmp/iperf-host.log" 2>/dev/null | tr -dc 0-9)
    rep=$(sed -n 's/^RUN-IPERF-SERVER .*\( [0-9]*\/ *[0-9]* (\).*/\1/p' "$log" | tail -1)
    lost=$(echo "${rep%%/*}" | tr -dc 0-9); got=$(echo "${rep#*/}" | tr -dc 0-9)
    if [ "$(cat "$tmp/iperf-host.rc" 2>/dev/null)" = 0 ] && [ -n "$sent" ] && [ "$lost" = 0 ] &&
       [ "$got" = "$((sent - 1))" ]; then
        t_check 0 "pollnet-run iperf -s -u in the guest: the host's client sent $sent through hostfwd, the server got $got, lost 0"
    else
        t_check 1 "pollnet-run iperf -s -u in the guest: host client sent ${sent:-?} (status $(cat "$tmp/iperf-host.rc" 2>/dev/null)), the server: ${rep:-no report}"
    fi
    line=$(sed -n 's/^RUN-IPERF-SERVER-COUNTS //p' "$log")
    d=${line#delivered=}; d=${d%% *}; x=${line##*sent=}
    if [ -n "$sent" ] && [ "${d:-0}" -ge "$((sent - 1))" ] && [ "${x:-0}" -ge 1 ]; then
        t_check 0 "in the guest, pollnet delivered them all ($d) and sent the report ($x frames)"
    else t_check 1 "in the guest, pollnet's counters for the iperf server: $line"; fi
    local w m
    for w in CLIENT LOCAL; do
        m=$(sed -n "s/^RUN-SOCKPERF-$w .*\[Valid Duration\].*SentMessages=\([0-9]*\); ReceivedMessages=\([0-9]*\).*/\1 \2/p" "$log" | tail -1)
        local p50
        p50=$(sed -n "s/^RUN-SOCKPERF-$w .*percentile 50.000 = *\([0-9.]*\).*/\1/p" "$log" | tail -1)
        local what="pollnet-run sockperf ping-pong in the guest -> the host's sockperf server"
        [ $w = LOCAL ] && what="pollnet-run sockperf ping-pong -> pollnet-run sockperf server, in the guest"
        set -- $m
        if grep -q "^RUN-SOCKPERF-$w-STATUS 0" "$log" && [ $# = 2 ] && [ "$1" -gt 50 ] && [ "$1" = "$2" ]; then
            t_check 0 "$what: $1 sent, $2 received, p50 $p50 usec"
        else t_check 1 "$what: ${m:-no summary}"; fi
    done
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
    c["stack.rx_frames"] == c["stack.rx_delivered"] + c["stack.rx_answered"] + c["stack.rx_dropped"] + c["stack.rx_merged"] + c["stack.rx_kernel"],
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
