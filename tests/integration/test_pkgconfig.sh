#!/usr/bin/env bash
# libpollnet as a user gets it: installed (with the manual pages), found by
# pkg-config, linked.
set -euo pipefail
build=$1
cc=${2:-cc}
san=${3:-none}                  # a sanitized library needs a sanitized program
flags=()
[ "$san" = none ] || flags=(-fsanitize="$san")
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
meson install -C "$build" --destdir "$dest" --quiet >/dev/null
for page in man8/pollnet.8 man8/pollnetctl.8 man3/libpollnet.3; do
    [ -n "$(find "$dest" -path "*/share/man/$page")" ] || { echo "FAIL: $page not installed"; exit 1; }
done
echo "manual pages installed: pollnet(8) pollnetctl(8) libpollnet(3)"
pc=$(find "$dest" -name libpollnet.pc | head -1)
[ -n "$pc" ] || { echo "FAIL: no libpollnet.pc installed"; exit 1; }
export PKG_CONFIG_PATH=$(dirname "$pc") PKG_CONFIG_SYSROOT_DIR=$dest
cat > "$dest/app.c" <<'C'
#include <pollnet.h>
#include <stdio.h>
int main(void)
{
	struct pollnet *pn;
	int rc = pollnet_open(&pn, "/nonexistent/pollnet.sock");

	printf("%s\n", pollnet_strerror(rc));
	return rc < 0 ? 0 : 1;
}
C
"$cc" -Wall -Werror "${flags[@]}" "$dest/app.c" -o "$dest/app" \
   $(pkg-config --cflags --libs libpollnet)
libdir=$(pkg-config --variable=libdir libpollnet)   # sysroot applied
out=$(LD_LIBRARY_PATH=$libdir "$dest/app")
echo "pkg-config libpollnet: $(pkg-config --modversion libpollnet); a program built with it says: $out"
[ "$out" = "No such file or directory" ] || { echo FAIL; exit 1; }
# the library's symbols are its API (pollnet.h's functions) and nothing else
lib=$(find "$dest" -name 'libpollnet.so.*.*' | head -1)
extra=$(nm -D --defined-only "$lib" | awk '$2 ~ /[TDBRVW]/ {print $3}' |
        grep -v '^pollnet_' | grep -v '^_' || true)
api=$(nm -D --defined-only "$lib" | awk '{print $3}' | grep -c '^pollnet_' || true)
if [ -n "$extra" ]; then
    echo "FAIL: libpollnet.so exports more than its API: $(echo $extra)"
    exit 1
fi
echo "libpollnet.so exports its API alone: $api functions, nothing else"
echo "2 passed, 0 failed"
