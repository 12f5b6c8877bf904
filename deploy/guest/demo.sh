# deploy/pollnet-guest demo (sourced by deploy/pollnet-guest): the main job.
LAB_PORT=17099

cmd_demo() {
    cmd_build
    say "the host: the lab's server on 127.0.0.1:$LAB_PORT (10.0.2.2:$LAB_PORT for the guest)"
    python3 "$HERE/guest/labserver.py" "$LAB_PORT" "$TIMEOUT" &
    LAB_PID=$!
    local log rc=0
    sleep 0.3
    say "booting the guest: pollnet on its e1000, then a libpollnet client in it"
    # Once pollnet is up, the host sends datagrams to the guest through
    # QEMU's hostfwd; the guest's script waits for them to be echoed.
    demo_host_client() {
        say "the host sends datagrams to the guest (127.0.0.1:$HOSTFWD_PORT -> 10.0.2.15:7)"
        python3 "$HERE/guest/hostclient.py" "$HOSTFWD_PORT" 6 >&2 || HOSTFWD_FAILED=1
    }
    HOSTFWD_FAILED=0
    ON_READY=demo_host_client
    log=$(mktemp /tmp/pollnet-guest.XXXXXX)
    boot run "$(guest_script_demo)" "$log" || rc=$?
    kill "$LAB_PID" 2>/dev/null || true
    rm -f "$log"
    [ "$HOSTFWD_FAILED" = 0 ] || { echo "pollnet-guest: host datagrams were not echoed" >&2; rc=1; }
    say "the wire, as QEMU recorded it: $PCAP"
    if command -v tcpdump >/dev/null; then
        tcpdump -nn -r "$PCAP" 2>/dev/null | head -12 | sed 's/^/  /' >&2
        echo "  ... $(tcpdump -nn -r "$PCAP" 2>/dev/null | wc -l) frames in all" >&2
    fi
    [ $rc = 0 ] && say "demo done" || say "demo FAILED ($rc)"
    return $rc
}

guest_script_demo() {
    cat <<GUEST
echo "== in the guest: the lab's socket tests, a libpollnet client against the host (10.0.2.2:$LAB_PORT)"
pollnet-nettests --skip-dns 10.0.2.2 $LAB_PORT || exit 1
echo "== in the guest: waiting for the host's datagrams to be echoed"
$(guest_wait_echoes 6)
echo "== in the guest: pollnetctl sockets"
pollnetctl sockets
echo "== in the guest: pollnetctl tail -n 8 (the last frames pollnet saw)"
pollnetctl tail -n 8
echo "== in the guest: pollnetctl stats (non-zero drop reasons only)"
pollnetctl stats | head -40
GUEST
}

# Shell for the guest: wait until pollnet's echo service has answered N
# datagrams (read from its counters, SIGUSR1), for up to a minute.
guest_wait_echoes() {
    cat <<'GUEST' | sed "s/@N@/$1/"
i=0
while :; do
    kill -USR1 $(pidof pollnet)
    sleep 0.5
    n=$(grep "sock.echo.tx_pkts" /tmp/pollnet.log | tail -1 | awk '{print $2}')
    [ "${n:-0}" -ge @N@ ] && { echo "pollnet's echo service answered $n datagrams"; break; }
    i=$((i + 1))
    [ $i -lt 120 ] || { echo "only ${n:-0} of @N@ datagrams echoed"; exit 1; }
done
GUEST
}
