#!/usr/bin/env bash
# pollnet's two entry points on a fresh Debian 12 machine:
#
#   ./run.sh demo    install what is missing, build, run the main job: the
#                    QEMU guest with pollnet on its e1000 (as root)
#   ./run.sh test    install what is missing, build, run every test (as root)
#
# Both are idempotent: packages already installed are not touched, a build
# that exists is reused, hugepages already reserved are kept.
set -euo pipefail
cd "$(dirname "$0")"
. deploy/packages.sh

HUGEPAGES=${POLLNET_HUGEPAGES:-512}     # 2 MiB each

say() { printf '\n== %s\n' "$*"; }

need_root() {
    if [ "$(id -u)" != 0 ]; then
        if command -v sudo >/dev/null; then exec sudo -E "$0" "$@"; fi
        echo "run.sh: needs root (packages, hugepages, network namespaces)" >&2
        exit 1
    fi
}

setup_hugepages() {
    mkdir -p /dev/hugepages
    mountpoint -q /dev/hugepages || mount -t hugetlbfs nodev /dev/hugepages
    local have
    have=$(cat /proc/sys/vm/nr_hugepages)
    if [ "$have" -lt "$HUGEPAGES" ]; then
        echo "$HUGEPAGES" > /proc/sys/vm/nr_hugepages
        have=$(cat /proc/sys/vm/nr_hugepages)
        [ "$have" -ge "$HUGEPAGES" ] || {
            echo "run.sh: asked for $HUGEPAGES hugepages, got $have" >&2; exit 1; }
    fi
    echo "hugepages: $(grep HugePages_Free /proc/meminfo | awk '{print $2}') of $have free (2 MiB)"
}

build() {   # build DIR [meson options...]
    local dir=$1; shift
    if [ ! -d "$dir" ]; then
        meson setup "$dir" "$@"
    fi
    ninja -C "$dir"
}

cmd=${1:-}
case "$cmd" in
demo)
    need_root "$@"
    pn_install $PN_PKGS_BUILD $PN_PKGS_RUN $PN_PKGS_GUEST
    setup_hugepages
    say "building"
    build build
    say "the guest demo"
    exec deploy/pollnet-guest demo
    ;;
test)
    need_root "$@"
    pn_install $PN_PKGS_BUILD $PN_PKGS_RUN $PN_PKGS_TEST $PN_PKGS_GUEST
    setup_hugepages
    say "build: gcc, -Wall -Wextra -Werror"
    build build
    status=0
    say "tests: unit and integration (gcc build)"
    meson test -C build --print-errorlogs || status=1
    say "build: clang with AddressSanitizer and UndefinedBehaviorSanitizer"
    CC=clang build build-san -Db_sanitize=address,undefined -Db_lundef=false
    say "tests: unit and integration (sanitizer build)"
    ASAN_OPTIONS=abort_on_error=1 LSAN_OPTIONS=suppressions=$PWD/tests/lsan.supp \
    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
        meson test -C build-san --print-errorlogs || status=1
    say "tests: end to end, in the QEMU guest, on pollnet's e1000 driver"
    deploy/pollnet-guest --driver e1000 test 2>&1 | tee build/guest-test.log || status=1
    say "tests: end to end, in the QEMU guest, on DPDK's net_e1000_em"
    deploy/pollnet-guest --driver dpdk test 2>&1 | tee -a build/guest-test.log || status=1
    # one closing line for every run, from meson's logs and the guest's
    python3 - build/meson-logs/testlog.json build-san/meson-logs/testlog.json \
        build/guest-test.log <<'PY'
import json, re, sys
n = {"OK": 0, "FAIL": 0, "SKIP": 0}
for path in sys.argv[1:3]:
    for line in open(path):
        r = json.loads(line)["result"]
        n["OK" if r == "OK" else "SKIP" if r == "SKIP" else "FAIL"] += 1
g = re.findall(r"^guest: (\d+) passed, (\d+) failed", open(sys.argv[3]).read(), re.M)
for ok, bad in g:
    n["OK"] += int(ok); n["FAIL"] += int(bad)
n["FAIL"] += 2 - len(g)     # a guest run that never got to its checks
print("\ntests: %d passed, %d failed, %d skipped" % (n["OK"], n["FAIL"], n["SKIP"]))
PY
    exit $status
    ;;
*)
    echo "usage: $0 demo|test" >&2
    echo "  demo  install what is missing, build, run the guest demo" >&2
    echo "  test  install what is missing, build, run every test (also under ASan/UBSan, and in the guest)" >&2
    exit 2
    ;;
esac
