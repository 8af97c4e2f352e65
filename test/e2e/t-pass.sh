#!/usr/bin/env bash
# t-pass.sh - mail through a real Postfix and custos-milter arrives byte
# for byte; custos sees the envelope and logs one summary line per
# message; add_header tags passing mail.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

e2e_require
tap_plan 15
e2e_setup
fx=$E2E/fx
"$PYTHON3" "$top_srcdir/test/fixtures/make-fixtures.py" "$fx" || exit 1
cat >"$E2E/custos.conf" <<EOF
log_level = "debug"
spool_dir = "$E2E"
# Small, so the large fixture is spooled to a file on the way.
spool_memory_limit = 64K
EOF

e2e_start_sink && e2e_start_redis && e2e_start_milter && e2e_start_postfix || {
	tap_fail "start sink, redis, custos-milter and postfix"; e2e_dump_logs; exit 1; }
tap_ok "start sink, redis, custos-milter and postfix"

# send_one FIXTURE: send it, expect 250, expect it delivered unchanged.
n=0
send_one() {
	local f=$fx/$1
	e2e_send "$f"
	if ! e2e_last_reply | grep -q '^250 '; then
		tap_fail "$1: accepted" "reply: $(e2e_last_reply)"; e2e_dump_logs 20; return
	fi
	n=$((n + 1))
	if ! e2e_wait_sink "$n" 30; then
		tap_fail "$1: delivered" "sink has $(e2e_sink_count)"; e2e_dump_logs 20; return
	fi
	if [ "$1" = malformed.eml ]; then
		# Postfix itself ends the headers at the line without a colon
		# and puts a blank line there: what matters is that it went
		# through custos and arrived.
		tap_ok "$1: accepted and delivered"
		return
	fi
	tap_check "$1: delivered byte for byte" e2e_same_message "$f" "$(e2e_sink_file "$n")"
}

for f in plain.eml utf8-8bit.eml gbk-base64.eml multipart-attach.eml \
	nested-rfc822.eml malformed.eml deep-nesting.eml large.eml; do
	send_one "$f"
done

# The summary line: queue id, sender, recipients, size, action.
E2E_FROM=alice@example.com E2E_TO="bob@example.net carol@example.org" e2e_send "$fx/plain.eml"
qid=$(e2e_queue_id)
n=$((n + 1)); e2e_wait_sink "$n" 30
line=$(grep "custos-milter\[info\]: $qid: " "$E2E/milter.log")
if [[ $line == *"client="*"[127.0.0.1] from=<alice@example.com> rcpts=2 (ext=2) size="*" action=pass incident="*" elapsed="* ]]; then
	tap_ok "one summary line with queue id, sender, recipients, action"
else
	tap_fail "one summary line with queue id, sender, recipients, action" "got: $line"
fi
size=$(sed -n 's/.* size=\([0-9]*\) .*/\1/p' <<<"$line")
want=$(wc -c <"$fx/plain.eml")
# custos rebuilds the raw message from the headers and body chunks
# libmilter hands over; it must be exactly what was sent (Postfix does
# not show milters its own Received: header).
if [ "$size" = "$want" ]; then
	tap_ok "custos rebuilt the message exactly ($size bytes)"
else
	tap_fail "custos rebuilt the message exactly" "size=$size, sent $want"
fi

# The large message crossed spool_memory_limit and was spooled to a file:
# it still passed, and the unlinked file left nothing behind.
tap_check "no spool file left behind" test -z "$(find "$E2E" -maxdepth 1 -regextype posix-extended -regex '.*/custos\.[A-Za-z0-9]{6}')"

# add_header = true: passing mail is tagged, nothing else changes.
echo 'add_header = true' >>"$E2E/custos.conf"
e2e_stop_milter && e2e_start_milter || tap_fail "restart custos-milter"
e2e_send "$fx/plain.eml"
n=$((n + 1)); e2e_wait_sink "$n" 30
hdr=$(grep -a '^X-Custos:' "$(e2e_sink_file "$n")" | tr -d '\r')
if [[ $hdr =~ ^X-Custos:\ pass\;\ incident=[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}\;\ records=0\;\ node=.+\;\ version=.+$ ]]; then
	tap_ok "add_header: X-Custos: pass; incident=..."
else
	tap_fail "add_header: X-Custos: pass; incident=..." "got: $hdr"
fi
id=$(sed -n 's/.*incident=\([0-9A-Z-]*\);.*/\1/p' <<<"$hdr")
tap_check "the header's incident id is the one logged" grep -q "incident=$id " "$E2E/milter.log"

# Nothing custos logged at error level during all this.
tap_check "no errors in the milter log" test "$(grep -c '\[err\]' "$E2E/milter.log")" = 0

tap_done
