#!/bin/bash
# run-milter.sh - milter-protocol throughput of custos-milter against a
# pass-through libmilter filter, over unix: and inet: sockets.  Not a
# test: prints tables (markdown, for doc/performance.md).
#
#   test/bench/run-milter.sh            the standard set, ~5 minutes
#
# Environment: DUR (seconds per row of the main table, 10), NAGLE_DUR
# (seconds per row of the TCP table, 3), CONCS (connections, "1 8"),
# PER_CONN (messages per milter connection, 10), PORT (first inet port
# tried, 18931), LOG_LEVEL (custos' log_level; default that of
# conf/demo.conf, "info": one line a message, to a file), KEEP=1 keeps the
# work directory.
#
# Builds test/bench/milter-load.c and test/bench/passthrough-milter.c with
# cc (-lmilter -lpthread) into a temp directory, writes two messages
# (clean-5k: 5 KB of text with no identifiers; records-100k: 100 KB with
# the 200 records of patterns/demo-customers.csv among text) and starts
# each milter in turn: passthrough-milter, and a copy of
# build/plain/custos-milter in the foreground (-f) with conf/demo.conf
# plus the demo list and rules of contrib/quickstart.sh, no audit log.
#
# Main table: per milter (passthrough; passthrough -D -H -N, unix: only,
# the same protocol as custos: DATA answered, no replies asked before
# DATA and end of message, a header added; custos), socket (unix, inet)
# and connection count, milter-load for DUR seconds on each message,
# writing one write() per reply awaited (the milter's own cost, no TCP
# artefacts).  CPU ms/msg is
# the milter's utime+stime (/proc/PID/stat of it and its children:
# custos' supervisor and worker) over the row divided by the messages;
# RSS is the largest VmHWM among them after the row (a running peak).
#
# TCP table, inet: only: how the client's writes (batch; postfix, which
# sends the DATA macros on their own as Postfix does when the milter
# skips DATA; cmd, a write per command; a 4096-byte buffer), TCP_NODELAY
# and TCP_QUICKACK meet Nagle's algorithm and delayed ACKs, against
# milters that answer end of message with one packet (passthrough), keep
# the DATA step (passthrough -D) or answer with two (passthrough -H, and
# custos when it adds X-Custos).
#
# Tables go to stdout, progress ("#") to stderr.  Exits 1 when something
# cannot be built or a milter does not start.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
b="$top/build/plain"
DUR=${DUR:-10}
NAGLE_DUR=${NAGLE_DUR:-3}
CONCS=${CONCS:-"1 8"}
PER_CONN=${PER_CONN:-10}
PORT=${PORT:-18931}
T=$(mktemp -d /tmp/custos-milter-bench.XXXXXX)
HZ=$(getconf CLK_TCK)
MPID=""

cleanup() {
	stop_milter
	if [ "${KEEP:-0}" = 1 ]; then
		echo "# kept $T" >&2
	else
		rm -rf "$T"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

note() {
	echo "# $*" >&2
}

# ---------------------------------------------------------------- build

cc -O2 -Wall -o "$T/milter-load" "$top/test/bench/milter-load.c" -lpthread
cc -O2 -Wall -o "$T/passthrough-milter" \
    "$top/test/bench/passthrough-milter.c" -lmilter -lpthread
# Others rebuild build/plain now and then: wait for a custos-milter that
# runs, and use a copy of it.
for i in $(seq 60); do
	if [ -x "$b/custos-milter" ] &&
	    "$b/custos-milter" --version >/dev/null 2>&1; then
		cp "$b/custos-milter" "$T/custos-milter" && break
	fi
	[ "$i" = 1 ] && note "waiting for $b/custos-milter (being rebuilt?)"
	sleep 5
done
[ -x "$T/custos-milter" ] || { echo "no usable $b/custos-milter" >&2; exit 1; }

# ------------------------------------------------------------- messages

mkdir -p "$T/clean" "$T/records"
python3 - "$top/patterns/demo-customers.csv" "$T" <<'EOF'
import csv, sys

csv_path, out = sys.argv[1], sys.argv[2]

# Prose without digits: nothing in it looks like an identifier.
PROSE = [
    "Thank you for the notes from the planning meeting. The team agreed "
    "to move the review to the week after next, so that the regional "
    "offices have time to send their comments.",
    "关于下季度的市场计划，我们建议先完成渠道调研，再确定推广预算。"
    "请各部门在月底前提交意见，以便汇总后报送管理层审议。",
    "The logistics partner confirmed that the new warehouse layout is in "
    "use. Picking times are shorter and the error rate has dropped, "
    "according to the weekly report from the site manager.",
    "财务部提醒各位同事，报销单据请按新的流程提交，附上完整的审批记录。"
    "如有疑问，请联系财务共享中心。",
    "Please treat the attached draft as work in progress; the legal team "
    "has not reviewed the wording of the service terms yet.",
]

def headers(subject, mid):
    return ("From: Zhang Wei <zhang.wei@example.com>\r\n"
            "To: Partner <partner@example.net>\r\n"
            "Subject: " + subject + "\r\n"
            "Date: Mon, 30 Nov 2026 09:00:00 +0800\r\n"
            "Message-ID: <" + mid + "@example.com>\r\n"
            "MIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "Content-Transfer-Encoding: 8bit\r\n\r\n")

def filler(size, start=0):
    text, i = "", start
    while len(text.encode()) < size:
        text += PROSE[i % len(PROSE)] + "\r\n\r\n"
        i += 1
    return text

clean = headers("planning notes", "bench-clean") + "Hello,\r\n\r\n"
clean += filler(5 * 1024 - len(clean.encode()) - 20) + "Regards,\r\nZW\r\n"
with open(out + "/clean/clean-5k.eml", "wb") as fp:
    fp.write(clean.encode())

with open(csv_path, encoding="utf-8") as fp:
    rows = list(csv.DictReader(fp))
body = "客户名单 Customer list, as requested:\r\n\r\n"
for n, r in enumerate(rows):
    body += "%s  %s  %s  %s  %s\r\n" % (r["id"], r["name"], r["mobile"],
                                        r["email"], r["company"])
    if n % 10 == 9:
        body += "\r\n" + PROSE[n % len(PROSE)] + "\r\n\r\n"
msg = headers("customer list", "bench-records") + body
pad = 100 * 1024 - len(msg.encode()) - 20
msg += "\r\n" + filler(pad) if pad > 0 else ""
msg += "Regards,\r\nZW\r\n"
with open(out + "/records/records-100k.eml", "wb") as fp:
    fp.write(msg.encode())
EOF
note "messages: $(wc -c <"$T/clean/clean-5k.eml") and" \
    "$(wc -c <"$T/records/records-100k.eml") bytes"

# custos: conf/demo.conf, the demo list and rules as contrib/quickstart.sh
# writes them, no audit log.
{
	grep -v '^socket\|^spool_dir\|^log_level' "$top/conf/demo.conf"
	cat <<EOF
log_level = "${LOG_LEVEL:-$(sed -n 's/^log_level = "\(.*\)"/\1/p' \
    "$top/conf/demo.conf")}"
spool_dir = "$T"
key_file = "$T/list.key"
database = "$T/lists.db"
list "customers" {
	file = "$top/patterns/demo-customers.csv"
	canary_column = "canary"
	field "mobile" { kind = "mobile" }
	field "email" { kind = "email" }
	field "id_no" { kind = "cn_id" }
	field "name" { kind = "name" }
	field "company" { kind = "company" }
}
internal_domains = {"example.com"}
rule "customers-outside" {
    records = 2  recipients = "not-internal"
    action = "reject"  template = "records"
}
rule "any-customer" { records = 1  action = "tag" }
templates = "$top/conf/templates"
contact = "security@example.com"
audit_log = ""
EOF
} >"$T/custos.conf"
# Builds with a quarantine store want its key and directory somewhere we
# may write (the milter opens them at start, -t does not); older builds
# do not know the section.
if grep -aq 'quarantine\.key' "$T/custos-milter"; then
	mkdir -p "$T/quarantine"
	printf 'quarantine {\n\tdir = "%s"\n\tkey_file = "%s"\n}\n' \
	    "$T/quarantine" "$T/quarantine.key" >>"$T/custos.conf"
fi
"$T/custos-milter" -t -c "$T/custos.conf" >"$T/check.out" 2>&1 || {
	cat "$T/check.out" >&2
	exit 1
}

# ------------------------------------------------------------- milters

port_free() {
	! ss -Hltn "sport = :$1" 2>/dev/null | grep -q .
}

# start_milter NAME SPEC: NAME is pt, pt-D (keeps DATA), pt-H (adds a
# header) or custos.
# MPID is the milter itself (not a subshell), so that stop_milter and
# the CPU and RSS figures get the right process.
start_milter() {
	local name=$1 spec=$2 i
	local -a cmd
	case $name in
	pt) cmd=("$T/passthrough-milter" -p "$spec") ;;
	pt-D) cmd=("$T/passthrough-milter" -D -p "$spec") ;;
	pt-H) cmd=("$T/passthrough-milter" -H -p "$spec") ;;
	# custos' protocol: DATA answered, no replies before DATA and end
	# of message, a header added at end of message.
	pt-DHN) cmd=("$T/passthrough-milter" -D -H -N -p "$spec") ;;
	custos) cmd=("$T/custos-milter" -f -c "$T/custos.conf" -p "$spec") ;;
	esac
	"${cmd[@]}" >"$T/$name.log" 2>&1 &
	MPID=$!
	# Up when a message goes through; this also warms it up.  Another
	# listener on the port would answer too: ours must be alive.
	for i in $(seq 300); do
		kill -0 "$MPID" 2>/dev/null || break
		if "$T/milter-load" -q -s "$spec" -n 20 -T 10 "$T/clean" \
		    "$T/records" >/dev/null 2>&1 &&
		    kill -0 "$MPID" 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	echo "$name did not come up on $spec:" >&2
	tail -n 20 "$T/$name.log" >&2
	exit 1
}

stop_milter() {
	local i
	[ -n "$MPID" ] || return 0
	kill -TERM "$MPID" 2>/dev/null || true
	for i in $(seq 200); do
		kill -0 "$MPID" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$MPID" 2>/dev/null || true
	wait "$MPID" 2>/dev/null || true
	MPID=""
}

# The milter's processes: the one we started and its children (custos'
# worker).
milter_pids() {
	echo "$MPID" $(pgrep -P "$MPID" 2>/dev/null || true)
}

# utime+stime, in clock ticks, of the milter's processes.
cpu_ticks() {
	local p t=0 s
	for p in $(milter_pids); do
		s=$(sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null) || continue
		# After "pid (comm) ": field 12 utime, 13 stime.
		t=$((t + $(echo "$s" | awk '{ print $12 + $13 }')))
	done
	echo "$t"
}

# Peak RSS in MB of the milter's largest process.
peak_rss() {
	local p kb max=0
	for p in $(milter_pids); do
		kb=$(awk '/^VmHWM/ { print $2 }' "/proc/$p/status" 2>/dev/null) ||
		    continue
		[ -n "$kb" ] && [ "$kb" -gt "$max" ] && max=$kb
	done
	awk -v k="$max" 'BEGIN { printf "%.1f", k / 1024 }'
}

# field NAME LINE: NAME=value out of milter-load's result line.
field() {
	echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"
}

# run LABEL SOCKNAME SPEC CONC MSGDIR DURATION [milter-load options]:
# one table row.
run() {
	local label=$1 sock=$2 spec=$3 conc=$4 dir=$5 dur=$6 c0 c1 out msgs
	local cpu replies k v
	shift 6
	note "$label $sock c=$conc $(basename "$dir") $*"
	c0=$(cpu_ticks)
	out=$("$T/milter-load" -q -s "$spec" -c "$conc" -d "$dur" \
	    -m "$PER_CONN" "$@" "$dir" | tail -n 1) || true
	c1=$(cpu_ticks)
	msgs=$(field msgs "$out")
	cpu=$(awk -v d=$((c1 - c0)) -v hz="$HZ" -v n="${msgs:-0}" \
	    'BEGIN { if (n > 0) printf "%.3f", d * 1000 / hz / n; else print "-" }')
	replies=""
	for k in accept continue reject tempfail discard replycode other; do
		v=$(field "$k" "$out")
		[ "${v:-0}" != 0 ] && replies="$replies $k $v"
	done
	v=$(field mods "$out")
	[ "${v:-0}" != 0 ] && replies="$replies, mods $v"
	printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |%s | %s |\n' \
	    "$label" "$sock" "$conc" "$(basename "$dir")" \
	    "$(field msg_s "$out")" "$(field mb_s "$out")" \
	    "$(field p50_ms "$out")" "$(field p90_ms "$out")" \
	    "$(field p99_ms "$out")" "$(field max_ms "$out")" \
	    "$cpu" "$(peak_rss)" "$replies" "$(field errors "$out")"
}

# next_port: PORT becomes the next free port after it.
next_port() {
	PORT=$((PORT + 1))
	while ! port_free "$PORT"; do PORT=$((PORT + 1)); done
}
PORT=$((PORT - 1))

echo "# $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), $("$T/custos-milter" --version), libmilter $(dpkg-query -W -f '${Version}' libmilter1.0.1 2>/dev/null || echo '?')"
echo "# load average before: $(cut -d' ' -f1-3 /proc/loadavg) (the numbers share the box with whatever else runs)"
echo "# milter-load: ${DUR} s a row, $PER_CONN messages per connection, batch writes (one write() per reply awaited), Nagle on, SMFIC_ABORT after each message"
echo
echo "| milter | socket | conc | message | msg/s | MB/s | p50 ms | p90 ms | p99 ms | max ms | CPU ms/msg | RSS MB | final replies | errors |"
echo "| --- | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |"
for m in pt pt-DHN custos; do
	for sock in unix inet; do
		# Over inet: the pass-through's two replies at end of message
		# wait for a delayed ACK (it sets no TCP_NODELAY; the TCP table
		# below): 44 ms a message, nothing to compare custos with.
		[ "$m/$sock" = pt-DHN/inet ] && continue
		if [ "$sock" = unix ]; then
			spec="unix:$T/$m.sock"
		else
			next_port
			spec="inet:$PORT@127.0.0.1"
		fi
		start_milter "$m" "$spec"
		case $m in
		pt) label=passthrough ;;
		pt-*) label="passthrough -${m#pt-}" ;;
		*) label=$m ;;
		esac
		for conc in $CONCS; do
			for dir in "$T/clean" "$T/records"; do
				run "$label" "$sock" "$spec" "$conc" "$dir" "$DUR"
			done
		done
		stop_milter
	done
done

# The TCP section, inet: only.  Rows: milter, connections, message,
# milter-load options.  "postfix" writes as Postfix does (the DATA
# macros go out alone when the milter skips DATA); passthrough -D keeps
# DATA, -H answers end of message with two packets, as custos does when
# it adds its header.
echo
echo "TCP (inet:127.0.0.1, ${NAGLE_DUR} s a row): client write pattern x TCP_NODELAY x TCP_QUICKACK; milter one reply packet at end of message (passthrough) or two (-H, custos pass)"
echo
echo "| milter, milter-load options | socket | conc | message | msg/s | MB/s | p50 ms | p90 ms | p99 ms | max ms | CPU ms/msg | RSS MB | final replies | errors |"
echo "| --- | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |"
tcp_rows() {
	case $1 in
	pt) cat <<EOF
1 clean --writes batch
1 clean --writes batch --bufsize 4096
1 clean --writes cmd
1 clean --writes cmd --nodelay
1 clean --writes postfix
1 clean --writes postfix --nodelay
1 clean --writes postfix --quickack
8 clean --writes postfix
EOF
	;;
	pt-D) cat <<EOF
1 clean --writes postfix
8 clean --writes postfix
EOF
	;;
	pt-H) cat <<EOF
1 clean --writes batch
1 clean --writes batch --nodelay
1 clean --writes batch --quickack
1 clean --writes postfix
1 clean --writes postfix --nodelay --quickack
EOF
	;;
	custos) cat <<EOF
1 clean --writes batch
1 clean --writes batch --nodelay
1 clean --writes batch --quickack
1 clean --writes postfix
1 clean --writes postfix --nodelay
1 clean --writes postfix --quickack
1 clean --writes postfix --nodelay --quickack
8 clean --writes postfix
8 clean --writes postfix --nodelay --quickack
1 records --writes postfix
1 records --writes postfix --nodelay
EOF
	;;
	esac
}
for m in pt pt-D pt-H custos; do
	next_port
	spec="inet:$PORT@127.0.0.1"
	start_milter "$m" "$spec"
	case $m in
	pt) label="passthrough" ;;
	pt-*) label="passthrough -${m#pt-}" ;;
	*) label=$m ;;
	esac
	while read -r conc msg mode; do
		# shellcheck disable=SC2086
		run "$label, $mode" inet "$spec" "$conc" "$T/$msg" \
		    "$NAGLE_DUR" $mode </dev/null
	done < <(tcp_rows "$m")
	stop_milter
done
