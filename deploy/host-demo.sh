#!/usr/bin/env bash
# The host demo: pollnet as a host on a small Ethernet LAN with a Linux peer.
#
#   [namespace pollnet-demo]                 [namespace pollnet-peer]
#   pollnet --port dpdk:net_af_packet0  <-- veth -->  Linux kernel
#           198.18.0.2/24                             198.18.0.1/24
#
# The peer pings pollnet, ARP-pings it, and exchanges UDP datagrams with
# its echo service; then a libpollnet client runs the lab's socket tests
# through pollnet against a UDP server on the peer.  pollnet prints a line
# per frame (--dump), then its counters when it stops.  Everything is created here and removed on exit.
# Addresses are from 198.18.0.0/15 (benchmarking) and exist only in the
# namespaces.  Needs root and hugepages (./run.sh demo does both).
set -euo pipefail
PN=${1:-build/app/pollnet}
TOOLS=$(dirname "$(dirname "$PN")")/client
NS=pollnet-demo
PEER=pollnet-peer
PN_IP=198.18.0.2
PEER_IP=198.18.0.1
pn_pid=
srv_pid=

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

cleanup() {
    [ -z "$srv_pid" ] || kill "$srv_pid" 2>/dev/null || true
    if [ -n "$pn_pid" ] && kill -0 "$pn_pid" 2>/dev/null; then
        kill -KILL "$pn_pid" 2>/dev/null || true
    fi
    ip netns del "$NS" 2>/dev/null || true
    ip netns del "$PEER" 2>/dev/null || true
}
trap cleanup EXIT
cleanup     # a previous run that was killed

step "a LAN of two hosts: pollnet ($PN_IP) and the Linux kernel ($PEER_IP)"
ip netns add "$NS"
ip netns add "$PEER"
ip link add pn0 netns "$NS" type veth peer name peer0 netns "$PEER"
ip netns exec "$NS" sysctl -qw net.ipv6.conf.pn0.disable_ipv6=1
ip netns exec "$PEER" sysctl -qw net.ipv6.conf.peer0.disable_ipv6=1
# a real wire carries complete UDP checksums; veth would leave them partial
ip netns exec "$PEER" ethtool -K peer0 tx off >/dev/null
ip -n "$PEER" addr add "$PEER_IP/24" dev peer0
ip -n "$NS" link set pn0 up
ip -n "$PEER" link set peer0 up
echo "veth pn0 (namespace $NS) <-> peer0 (namespace $PEER)"

step "starting pollnet"
log=$(mktemp /tmp/pollnet-demo.XXXXXX)
ctl=$log.sock
set -x
ip netns exec "$NS" "$PN" -l 0-1 --in-memory --no-pci --log-level=warning -- \
    --port dpdk:net_af_packet0,iface=pn0 --ip "$PN_IP/24" --echo-port 7 --dump \
    --ctl "$ctl" > "$log" 2>&1 &
{ set +x; } 2>/dev/null
pn_pid=$!
tail -n +1 -f --pid="$pn_pid" "$log" | sed -u 's/^/  [pollnet] /' &
tail_pid=$!
for _ in $(seq 100); do
    grep -q "pollnet: port" "$log" && break
    kill -0 "$pn_pid" 2>/dev/null || { echo "pollnet failed to start"; exit 1; }
    sleep 0.1
done
grep -q "pollnet: port" "$log" || { echo "pollnet did not start in 10 s"; exit 1; }
sleep 0.3

step "the kernel pings pollnet"
ip netns exec "$PEER" ping -c 3 -i 0.3 -W 2 "$PN_IP"
sleep 0.2

step "the kernel ARP-pings pollnet"
ip netns exec "$PEER" arping -c 2 -i peer0 "$PN_IP"
sleep 0.2

step "a UDP client on the kernel side talks to pollnet's echo service (port 7)"
ip netns exec "$PEER" python3 - "$PN_IP" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
for i, msg in enumerate([b"hello, pollnet", b"x" * 1472, b"bye"]):
    s.sendto(msg, (sys.argv[1], 7))
    data, src = s.recvfrom(2048)
    shown = data if len(data) < 40 else data[:20] + b"..."
    print("  sent %4d bytes, got %4d back from %s:%d %s: %r" %
          (len(msg), len(data), src[0], src[1], "identical" if data == msg else "DIFFERENT", shown))
PY
sleep 0.3

step "a libpollnet client runs the lab's socket tests through pollnet"
echo "(against a UDP server on the kernel side, like the lab's server.py)"
ip netns exec "$PEER" timeout 60 python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 26099))
while True:
    d, a = s.recvfrom(4096)
    s.sendto(b"this is the host!", a)
' &
srv_pid=$!
sleep 0.3
# pollnet's line per frame would drown these ~460 frames: stop showing them
kill "$tail_pid" 2>/dev/null || true
"$TOOLS/pollnet-nettests" --ctl "$ctl" --skip-dns "$PEER_IP" 26099 | sed 's/^/  /' &
wait $! || { echo "demo: the lab's tests failed"; exit 1; }
sleep 0.3

step "stopping pollnet (SIGINT): its counters"
kill -INT "$pn_pid"
for _ in $(seq 100); do kill -0 "$pn_pid" 2>/dev/null || break; sleep 0.1; done
wait "$pn_pid" 2>/dev/null || true
sed -n '/^pollnet: stopping/,$p' "$log" | sed 's/^/  [pollnet] /'
grep -q "rx_frames == rx_delivered + rx_answered + rx_dropped + rx_merged + rx_kernel: ok" "$log" &&
    grep -qE "pool.in_use +0$" "$log" || { echo "demo: counters did not reconcile"; exit 1; }
rm -f "$log" "$ctl"
step "done: namespaces removed"
