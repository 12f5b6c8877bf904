#!/usr/bin/env bash
# tests/fresh-debian.sh: prove that the README's quick start works on a fresh
# Debian 12 machine.
#
# usage: tests/fresh-debian.sh [--reuse] [--dir DIR] [--repo REPO]
#                              [--clone-dir PATH] [--only demo|test] [COMMIT]
#        tests/fresh-debian.sh --help
#
# As root, on a Debian (or Debian-like) host that reaches deb.debian.org:
#   1. makes a minimal Debian 12 root with
#        debootstrap --variant=minbase bookworm DIR http://deb.debian.org/debian
#      (DIR defaults to /var/tmp/pollnet-fresh; debootstrap is installed with
#      apt-get if missing) and keeps a pristine tarball of it, DIR.base.tar;
#      with --reuse the tarball of an earlier run is unpacked instead, so that
#      every run starts from the freshly debootstrapped root and never sees a
#      package an earlier run installed;
#   2. copies the host's /etc/resolv.conf into it and writes its apt sources
#      (bookworm, bookworm-updates, bookworm-security; main; deb.debian.org);
#   3. makes DIR a mount point (bind-mounted onto itself, as / is on a
#      machine: ip netns exec needs it), bind-mounts /proc, /sys, /dev and
#      /dev/pts into it (as slaves, so that nothing mounted inside shows up
#      on the host), a tmpfs on its /run and on its /dev/shm (a booted
#      machine has both); everything mounted under DIR is unmounted on exit,
#      on failure too;
#   4. clones REPO (default: the repository holding this script) at COMMIT
#      (default: its HEAD; only committed work is tested) into DIR/root/pollnet
#      with git on the host (minbase has no git); --clone-dir PATH puts it at
#      DIR/PATH instead (PATH as the chroot sees it: root's home, /root, is
#      mode 0700, and other users cannot read what is under it);
#   5. runs, in a clean environment in the chroot,
#        cd /root/pollnet && ./run.sh demo      then
#        cd /root/pollnet && ./run.sh test
#      logging each to DIR-demo.log and DIR-test.log (with the default DIR:
#      /var/tmp/pollnet-fresh-demo.log, /var/tmp/pollnet-fresh-test.log), and
#      prints a summary: each command's exit status, its time and the last
#      line of its output (for test: "tests: N passed, M failed, K skipped").
#
# Exit status: 0 if both commands passed, 1 if one failed, 2 on a usage or
# setup error.
#
# The chroot shares the host's kernel, network stack and hugepages: the tests
# create their network namespaces, veths and taps in the host's kernel (and
# remove them), run.sh reserves hugepages kernel-wide, and the guest's UDP
# ports (17007, 17053, 17099, 17100, 17101 on 127.0.0.1) must be free on the
# host.  With QEMU under TCG on 2 cores: about 10 minutes (2 more for a new
# debootstrap), up to 25 on a slower machine or mirror.
set -euo pipefail

DIR=/var/tmp/pollnet-fresh
REUSE=
REPO=
CLONE=/root/pollnet
COMMIT=
ONLY=
MIRROR=http://deb.debian.org/debian
SECURITY=http://deb.debian.org/debian-security
SUITE=bookworm

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }
die() { echo "fresh-debian: $*" >&2; exit 2; }
say() { printf '\n=== fresh-debian: %s\n' "$*" >&2; }

while [ $# -gt 0 ]; do
    case "$1" in
    --reuse) REUSE=1; shift ;;
    --dir) DIR=${2:?--dir needs a value}; shift 2 ;;
    --dir=*) DIR=${1#*=}; shift ;;
    --repo) REPO=${2:?--repo needs a value}; shift 2 ;;
    --repo=*) REPO=${1#*=}; shift ;;
    --clone-dir) CLONE=${2:?--clone-dir needs a value}; shift 2 ;;
    --clone-dir=*) CLONE=${1#*=}; shift ;;
    --only) ONLY=${2:?--only needs a value}; shift 2 ;;
    --only=*) ONLY=${1#*=}; shift ;;
    -h|--help) usage; exit 0 ;;
    -*) echo "fresh-debian: unknown option $1" >&2; usage >&2; exit 2 ;;
    *) [ -z "$COMMIT" ] || die "one COMMIT at most"; COMMIT=$1; shift ;;
    esac
done
case "$ONLY" in ""|demo|test) ;; *) die "--only: '$ONLY' is not demo or test" ;; esac
case "$CLONE" in /?*) CLONE=$(realpath -m "$CLONE") ;; *) die "--clone-dir: '$CLONE' is not an absolute path" ;; esac
case "$CLONE" in /|/proc|/proc/*|/sys|/sys/*|/dev|/dev/*|/run|/run/*)
    die "--clone-dir: '$CLONE' is / or under a mount (/proc, /sys, /dev, /run)" ;; esac
[ "$(id -u)" = 0 ] || die "needs root (debootstrap, mounts, chroot)"
case "$DIR" in /*) ;; *) DIR=$PWD/$DIR ;; esac
DIR=$(realpath -m "$DIR")
if [ "$DIR" = / ] || [ "$(dirname "$DIR")" = / ]; then die "--dir: '$DIR' is too close to /"; fi
BASE=$DIR.base.tar
if [ -z "$REPO" ]; then
    REPO=$(git -C "$(dirname "$0")" rev-parse --show-toplevel) || die "no repository around $0; use --repo"
fi
REPO=$(realpath "$REPO")
COMMIT=${COMMIT:-HEAD}
REV=$(git -C "$REPO" rev-parse --verify "$COMMIT^{commit}") || die "'$COMMIT' is not a commit of $REPO"
CMDS=(demo test)
[ -z "$ONLY" ] || CMDS=("$ONLY")

# ------------------------------------------------------------ mounts

# Mount points under DIR, deepest first (from /proc/self/mountinfo, whose
# field 5 is the mount point with \040-style escapes).
mounts_under() {
    awk -v d="$DIR" '{
        p = $5
        while (match(p, /\\[0-7][0-7][0-7]/)) {
            c = sprintf("%c", (substr(p, RSTART+1, 1) * 64) + (substr(p, RSTART+2, 1) * 8) + substr(p, RSTART+3, 1))
            p = substr(p, 1, RSTART-1) c substr(p, RSTART+4)
        }
        if (p == d || index(p, d "/") == 1) print length(p) "\t" p
    }' /proc/self/mountinfo | sort -rn -k1,1 | cut -f2-
}

# Processes whose root is the chroot (ours: nothing else runs there).
# shellcheck disable=SC2317  # called from the EXIT trap
chroot_pids() {
    local p r
    for p in /proc/[0-9]*; do
        r=$(readlink "$p/root" 2>/dev/null) || continue
        [ "$r" = "$DIR" ] && echo "${p#/proc/}"
    done
    return 0
}

# shellcheck disable=SC2317  # the EXIT trap
cleanup() {
    local rc=$? pids m
    trap - EXIT INT TERM
    mapfile -t pids < <(chroot_pids)
    if [ ${#pids[@]} -gt 0 ]; then
        echo "fresh-debian: stopping what still runs in the chroot: ${pids[*]}" >&2
        kill "${pids[@]}" 2>/dev/null || true
        for _ in 1 2 3 4 5 6 7 8 9 10; do
            [ -n "$(chroot_pids)" ] || break
            sleep 0.5
        done
        mapfile -t pids < <(chroot_pids)
        [ ${#pids[@]} -eq 0 ] || kill -9 "${pids[@]}" 2>/dev/null || true
        sleep 0.5
    fi
    # twice: a lazy unmount of a busy mount can uncover another
    for _ in 1 2; do
        while IFS= read -r m; do
            [ -n "$m" ] || continue
            umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null ||
                echo "fresh-debian: could not unmount $m" >&2
        done < <(mounts_under)
    done
    if [ -n "$(mounts_under)" ]; then
        echo "fresh-debian: still mounted under $DIR:" >&2
        mounts_under >&2
        [ "$rc" != 0 ] || rc=2
    fi
    exit "$rc"
}

mount_all() {
    local d
    # DIR onto itself first: on a machine / is a mount point, and tools that
    # remount it need that (ip netns exec makes / a slave in its new mount
    # namespace, which fails with EINVAL on a plain directory)
    mount --bind "$DIR" "$DIR"
    mount --make-rslave "$DIR"
    for d in proc sys dev run; do mkdir -p "$DIR/$d"; done
    mount --bind /proc "$DIR/proc"
    mount --make-rslave "$DIR/proc"
    mount --rbind /sys "$DIR/sys"
    mount --make-rslave "$DIR/sys"
    mount --bind /dev "$DIR/dev"
    mount --make-rslave "$DIR/dev"
    mkdir -p "$DIR/dev/pts"
    mount --bind /dev/pts "$DIR/dev/pts"
    mount --make-rslave "$DIR/dev/pts"
    # a booted Debian has both; the bind of /dev shows only devtmpfs's
    # directory, and writing there would write into the host's /dev
    mount -t tmpfs -o mode=1777,nosuid,nodev shm "$DIR/dev/shm"
    mount -t tmpfs -o mode=0755,nosuid,nodev run "$DIR/run"
    mkdir -m 1777 "$DIR/run/lock"
}

# ------------------------------------------------------------ the root

make_root() {
    [ -z "$(mounts_under)" ] || { mounts_under >&2; die "something is mounted under $DIR"; }
    if [ -n "$REUSE" ] && [ -f "$BASE" ]; then
        say "a pristine root from $BASE"
    else
        [ -z "$REUSE" ] || echo "fresh-debian: --reuse: no $BASE yet, making one" >&2
        if ! command -v debootstrap >/dev/null; then
            say "installing debootstrap on the host"
            (. "$REPO/deploy/packages.sh" && pn_install debootstrap)
        fi
        say "debootstrap --variant=minbase $SUITE $DIR $MIRROR"
        rm -rf "$DIR" "$BASE.new"
        debootstrap --variant=minbase "$SUITE" "$DIR" "$MIRROR"
        tar --numeric-owner --xattrs --acls -C "$DIR" -cpf "$BASE.new" .
        mv "$BASE.new" "$BASE"
        echo "fresh-debian: pristine copy: $BASE ($(du -m "$BASE" | cut -f1) MiB)" >&2
    fi
    # every run starts from the tarball, the first one too
    rm -rf "$DIR"
    mkdir -p "$DIR"
    tar --numeric-owner --xattrs --acls -C "$DIR" -xpf "$BASE"

    cp -L /etc/resolv.conf "$DIR/etc/resolv.conf"
    rm -f "$DIR/etc/apt/sources.list"
    cat > "$DIR/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $MIRROR
Suites: $SUITE $SUITE-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $SECURITY
Suites: $SUITE-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
}

# ------------------------------------------------------------ main

[ -z "$(mounts_under)" ] || { mounts_under >&2; die "something is mounted under $DIR already (another run?)"; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

T0=$SECONDS
make_root
mount_all

say "cloning $REPO at $REV into $DIR$CLONE"
mkdir -p "$(dirname "$DIR$CLONE")"
git clone -q --no-hardlinks "$REPO" "$DIR$CLONE"
git -C "$DIR$CLONE" -c advice.detachedHead=false checkout -q --detach "$REV"
git -C "$DIR$CLONE" log -1 --format='%h %s' | cut -c1-100 >&2
echo "fresh-debian: setup took $((SECONDS - T0)) s" >&2

declare -A RC TIME LAST
for c in "${CMDS[@]}"; do
    log=$DIR-$c.log
    say "./run.sh $c (log: $log)"
    t=$SECONDS
    rm -f "$log.rc"
    # in the background, so that a signal to this script is acted on at once
    # (bash runs traps only after a foreground command ends)
    {
        r=0
        chroot "$DIR" /usr/bin/env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin TERM=dumb \
            bash -c "cd '$CLONE' && ./run.sh $c" < /dev/null || r=$?
        echo "$r" > "$log.rc"
    } 2>&1 | tee "$log" &
    wait $! || true
    RC[$c]=$(cat "$log.rc" 2>/dev/null || echo "?")
    rm -f "$log.rc"
    TIME[$c]=$((SECONDS - t))
    LAST[$c]=$(tr -d '\r' < "$log" | grep -v '^[[:space:]]*$' | tail -1 || true)
done

status=0
say "summary ($REV, $DIR)"
for c in "${CMDS[@]}"; do
    if [ "${RC[$c]}" = 0 ]; then verdict=PASS; else verdict=FAIL; status=1; fi
    printf '%-14s %s  exit %s  %d min %02d s  log %s\n' "./run.sh $c" "$verdict" "${RC[$c]}" \
        $((TIME[$c] / 60)) $((TIME[$c] % 60)) "$DIR-$c.log"
    printf '               last line: %s\n' "${LAST[$c]}"
done
printf 'total: %d min %02d s\n' $(((SECONDS - T0) / 60)) $(((SECONDS - T0) % 60))
exit $status
