#!/usr/bin/env bash
# t-options.sh - command lines of custos-milter and custos: -t and
# check-config with file:line errors, --version, --help, bad options and
# startup failures with their sysexits codes.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../e2e/lib.sh"

milter=$top_builddir/custos-milter
custos=$top_builddir/custos
work=$(mktemp -d /tmp/custos-opt.XXXXXX)
trap 'rm -rf "$work"' EXIT

expect() {
	if [ "$2" = "$3" ]; then tap_ok "$1"; else tap_fail "$1" "got:  $2" "want: $3"; fi
}

tap_plan 13

"$milter" -t -c "$top_srcdir/conf/custos.conf" >"$work/out" 2>&1
expect "-t on the shipped config: exit 0" "$?" "0"

printf 'log_level = "info"\n\nmilter {\n  timeout = 5\n}\n' >"$work/bad.conf"
"$milter" -t -c "$work/bad.conf" >"$work/out" 2>"$work/err.bad"
expect "-t on a bad config: exit 1" "$?" "1"
expect "-t prints file:line: message" "$(cat "$work/err.bad")" \
	"$work/bad.conf:4: timeout: 5 is out of range [10, 3600]"

printf 'sokcet = "unix:/x"\n' >"$work/typo.conf"
"$milter" -t -c "$work/typo.conf" 2>"$work/err"
expect "-t names an unknown option and its line" "$(grep -c "typo.conf:1:.*sokcet" "$work/err")" "1"

"$custos" check-config -c "$work/bad.conf" >/dev/null 2>"$work/err2"
expect "custos check-config gives the same error" "$?:$(cat "$work/err2")" "1:$(cat "$work/err.bad")"

"$custos" check-config -c "$top_srcdir/conf/demo.conf" >/dev/null
expect "custos check-config on the demo config: exit 0" "$?" "0"

expect "--version" "$("$milter" --version)" "custos-milter $(sed -n 's/^#define PACKAGE_VERSION "\(.*\)"/\1/p' "$top_builddir/config.h")"
"$milter" --help | grep -q -- '-p socket'
expect "--help lists the options" "$?" "0"

"$milter" -Z >/dev/null 2>&1
expect "an unknown option: EX_USAGE (64)" "$?" "64"

"$milter" -f -c "$work/bad.conf" >/dev/null 2>&1
expect "start with a bad config: EX_CONFIG (78)" "$?" "78"

printf 'socket = "inet:1@127.0.0.1"\n' >"$work/ok.conf"
"$milter" -t -c "$work/ok.conf" -p "tcp:25" >/dev/null 2>&1
expect "-p with a bad socket spec is refused" "$?" "1"

# A port that is already taken: a clear failure, not a hang.  The holder
# binds port 0 itself, so no other test can take the port in between.
python3 -c "import socket,time,sys
s=socket.socket(); s.bind(('127.0.0.1',0)); s.listen()
open(sys.argv[1],'w').write(str(s.getsockname()[1])); time.sleep(30)" "$work/port" &
holder=$!
for _ in $(seq 50); do [ -s "$work/port" ] && break; sleep 0.1; done
port=$(cat "$work/port")
timeout 15 "$milter" -f -c "$work/ok.conf" -p "inet:$port@127.0.0.1" >/dev/null 2>"$work/err"
rc=$?
kill "$holder" 2>/dev/null; wait "$holder" 2>/dev/null
expect "socket in use: EX_UNAVAILABLE (69)" "$rc" "69"
expect "socket in use: says which socket" "$(grep -c "inet:$port@127.0.0.1" "$work/err")" "1"

tap_done
