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
t_grep() {    # t_grep PATTERN FILE WHAT (the guest's console has CRs)
    if tr -d '\r' < "$2" | grep -qE "$1"; then t_check 0 "$3"; else t_check 1 "$3"; fi
}

cmd_test() {
    pn_install tshark dnsmasq-base python3
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
    tr -d '\r' < "$log" | grep -E "^(testing|nettests|all tests|[0-9]+ test|pollnet's echo|only)" | sed 's/^/  [guest] /' >&2
    t_check "$rc" "the guest's tests (status $rc)"
    for t in "one ping" "single-process pings" "multi-process pings" "DNS"; do
        t_grep "^testing $t: .*OK" "$log" "in the guest, lab test: $t"
    done
    t_grep "^check rx_frames == rx_delivered \+ rx_answered \+ rx_dropped: ok" "$log" \
        "the guest's pollnet counters reconcile"
    t_grep "^  pool.in_use +0$" "$log" "the guest's pollnet returned every mbuf"
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

    rm -rf "$tmp"
    echo "guest: $T_PASS passed, $T_FAIL failed" >&2
    [ "$T_FAIL" = 0 ]
}

guest_script_test() {
    cat <<GUEST
pollnet-nettests --dns 10.0.2.2 --dns-port $DNS_PORT --dns-name pollnet.test \\
    --dns-expect 10.0.2.77 10.0.2.2 $LAB_PORT || exit 1
$(guest_wait_echoes "$N_HOST")
GUEST
}
