# Sourced by the scripts that need Debian packages: the one place that says
# which.  tests/integration/test_deps.py checks that every program the tests
# run comes from one of these lists (or from Debian's base system).
#
# build   compile pollnet, libpollnet, pollnetctl and the tests
# run     run pollnet on the host and talk to it (namespaces, veth, ping)
# test    the test suite's tools: sanitizers and fuzzers (clang), frame
#         crafting (scapy), DNS (dnsmasq, unbound, nsd, dnsperf), reference
#         decoders (tshark, tcpdump), load generators (iperf, trafgen from
#         netsniff-ng)
# guest   build and boot the QEMU guest (and the unmodified programs it
#         runs under pollnet-run)
# bench   the benchmarks' extra tools
PN_PKGS_BUILD="gcc libc6-dev meson ninja-build pkg-config libdpdk-dev dpdk libbsd-dev libcmocka-dev libpcap-dev clang"
PN_PKGS_RUN="iproute2 iputils-ping arping ethtool procps python3 kmod util-linux"
PN_PKGS_TEST="clang libclang-rt-14-dev python3-scapy dnsmasq-base tshark tcpdump iperf netsniff-ng netcat-openbsd ncat groff-base socat sockperf bind9-dnsutils unbound nsd dnsperf libpython3.11-testsuite"
PN_PKGS_GUEST="qemu-system-x86 busybox-static kmod pciutils python3 cpio file dpdk socat netcat-openbsd iperf sockperf unbound nsd"
PN_PKGS_BENCH="valgrind gnuplot-nox time iperf sockperf"

# pn_install PKG...: install those not installed yet (apt-get update only then).
pn_install() {
    local missing=()
    for p in "$@"; do
        [[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" == *"ok installed" ]] || missing+=("$p")
    done
    [ ${#missing[@]} -gt 0 ] || return 0
    if [ "$(id -u)" != 0 ]; then
        echo "missing Debian packages: ${missing[*]} (run as root to install them)" >&2
        return 1
    fi
    printf '\n== installing %s\n' "${missing[*]}"
    pn_apt update -q
    DEBIAN_FRONTEND=noninteractive pn_apt install -y -q --no-install-recommends "${missing[@]}"
}

# pn_apt ARGS...: apt-get, waiting (up to 20 minutes) while another apt or
# dpkg holds its lock instead of failing.  DPkg::Lock::Timeout makes an
# install wait for dpkg's lock; apt-get update gives up at once on the
# lists' lock, so it is tried again.
pn_apt() {
    local log rc tries=0
    log=$(mktemp)
    while :; do
        apt-get -o DPkg::Lock::Timeout=600 "$@" 2>&1 | tee "$log"
        rc=${PIPESTATUS[0]}
        if [ "$rc" = 0 ] || ! grep -q 'Could not get lock\|Unable to lock' "$log" ||
           [ $((tries += 1)) -gt 120 ]; then
            rm -f "$log"
            return "$rc"
        fi
        echo "== another apt holds the lock: waiting"
        sleep 10
    done
}
