#!/usr/bin/env bash
# t-daemon.sh - custos-milter as a daemon: detaches, writes its pid file,
# opens a unix socket as root and hands it to the user it drops to (both
# processes run as that user), serves, and on TERM exits and cleans up.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../e2e/lib.sh"

if [ "$(id -u)" -ne 0 ] || ! getent passwd nobody >/dev/null; then
	[ "${CI:-}" = true ] && { echo "not ok 1 - t-daemon needs root and the user nobody"; exit 1; }
	tap_skip_all "needs root and the user nobody"
fi
group=$(id -gn nobody)
milter=$top_builddir/custos-milter
work=$(mktemp -d /tmp/custos-daemon.XXXXXX)
chown nobody "$work"
chmod 755 "$work"
pid=
cleanup() {
	[ -n "$pid" ] && kill -KILL "$pid" $(pgrep -P "$pid") 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
printf 'spool_dir = "%s"\n' "$work" >"$work/c.conf"

wait_for() {	# wait_for SECONDS CMD...
	local tries=$(($1 * 10)); shift
	until "$@"; do
		[ "$tries" -le 0 ] && return 1
		tries=$((tries - 1)); sleep 0.1
	done
}
gone() { ! kill -0 "$1" 2>/dev/null; }

tap_plan 10

"$milter" -c "$work/c.conf" -p "unix:$work/custos.sock" -u "nobody:$group" -P "$work/pid"
tap_check "daemon start returns 0 at once" test $? = 0
tap_check "the pid file appears" wait_for 10 test -s "$work/pid"
pid=$(cat "$work/pid" 2>/dev/null)
tap_check "the supervisor runs in its own session" \
	test "$(ps -o sid= -p "$pid" | tr -d ' ')" = "$pid"
wait_for 10 test -n "$(pgrep -P "$pid")"
worker=$(pgrep -P "$pid")
tap_check "the supervisor runs as nobody" test "$(ps -o user= -p "$pid" | tr -d ' ')" = nobody
tap_check "the worker runs as nobody" test "$(ps -o user= -p "$worker" | tr -d ' ')" = nobody
tap_check "the socket belongs to nobody:$group, mode 660" \
	test "$(stat -c '%U:%G %a' "$work/custos.sock")" = "nobody:$group 660"
tap_check "the socket accepts connections" "${PYTHON3:-python3}" -c "
import socket, sys
s = socket.socket(socket.AF_UNIX); s.settimeout(5); s.connect(sys.argv[1])" "$work/custos.sock"

kill -TERM "$pid"
tap_check "TERM: supervisor and worker exit" wait_for 20 eval "gone $pid && gone $worker"
tap_check "TERM: the pid file is removed" test ! -e "$work/pid"
tap_check "TERM: the socket is removed" test ! -e "$work/custos.sock"
pid=

tap_done
