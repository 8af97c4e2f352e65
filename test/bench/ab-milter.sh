#!/bin/bash
# ab-milter.sh - CPU a message of two custos-milter builds, A and B, on
# the same configuration and message, run alternately so that a busy
# spell of a shared box falls on both.  Not a test: prints one line per
# run (doc/performance.md, "Sixth round").
#
#   test/bench/ab-milter.sh CONF MESSAGE MILTER_A MILTER_B [CONF_B]
#
# CONF_B (default CONF) is B's: builds that compile lists differently
# rebuild a shared table at each start (before the measurement, but
# twice the wait), so give each its own database.
#
# Each run starts the milter in the foreground (-f -c CONF) on a unix:
# socket in a temp directory, sends WARM messages with milter-load
# (built from test/bench/milter-load.c), then N more at CONC connections,
# and reports the milter's utime+stime over those N (/proc/PID/stat of
# it and its children: supervisor and worker) divided by N, with
# milter-load's rate and replies.  CONF's stores (Redis, quarantine, audit
# log) are used as configured: start what it needs first.
#
# Environment: ROUNDS (pairs of runs, 3), N (messages measured, 2000),
# WARM (200), CONC (4), FROM (zhang.wei@example.com), RCPT
# (partner@example.net).
set -eu
[ $# -eq 4 ] || [ $# -eq 5 ] || { sed -n '2,23p' "$0" >&2; exit 2; }
conf_a=$1 msg=$2 a=$3 b=$4 conf_b=${5:-$1}
top=$(cd "$(dirname "$0")/../.." && pwd)
T=$(mktemp -d /tmp/custos-ab.XXXXXX)
trap 'rm -rf "$T"' EXIT
HZ=$(getconf CLK_TCK)
cc -O2 -Wall -o "$T/milter-load" "$top/test/bench/milter-load.c" -lpthread

ticks() {	# utime+stime of pid and its children
	local t=0 p s
	for p in "$1" $(pgrep -P "$1" || true); do
		s=($(sed 's/.*) //' "/proc/$p/stat"))
		t=$((t + s[11] + s[12]))
	done
	echo "$t"
}

load() {	# messages
	"$T/milter-load" -s "unix:$T/m.sock" -c "${CONC:-4}" -n "$1" \
	    -f "${FROM:-zhang.wei@example.com}" \
	    -r "${RCPT:-partner@example.net}" "$msg"
}

run() {	# label binary conf
	local pid t0 t1
	rm -f "$T/m.sock"
	"$2" -f -c "$3" -p "unix:$T/m.sock" >"$T/milter.out" 2>&1 &
	pid=$!
	for _ in $(seq 100); do [ -S "$T/m.sock" ] && break; sleep 0.1; done
	load "${WARM:-200}" >/dev/null 2>&1
	t0=$(ticks "$pid")
	load "${N:-2000}" >"$T/load.out" 2>&1
	t1=$(ticks "$pid")
	kill "$pid"
	wait "$pid" 2>/dev/null || true
	echo "$1 $(echo "scale=3; ($t1 - $t0) * 1000 / $HZ / ${N:-2000}" |
	    bc) ms/msg $(grep -o 'msg_s=[0-9.]*' "$T/load.out")" \
	    "$(grep -o 'replycode=[0-9]*\|errors=[0-9]*' "$T/load.out" |
	    tr '\n' ' ')"
}

for _ in $(seq "${ROUNDS:-3}"); do
	run A "$a" "$conf_a"
	run B "$b" "$conf_b"
done
