#!/usr/bin/env bash
# t-failsafe.sh - no mail is lost when custos fails.
#
# custos-milter killed outright: the gateway answers 4xx (Postfix's
# milter_default_action = tempfail), nothing is delivered; an upstream MTA
# keeps the message in its queue and delivers it once custos is back.
# custos failing inside (its spool cannot be written): on_error decides,
# tempfail by default, accept when configured.
# custos stopping while a message is in flight: that message is scanned
# and delivered; a message begun after the stop is deferred (421) at
# DATA, the first step Postfix waits on (custos asks for no replies to
# MAIL and RCPT), and custos exits once the first is done.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

e2e_require
tap_plan 21
e2e_setup
fx=$E2E/fx
"$PYTHON3" "$top_srcdir/test/fixtures/make-fixtures.py" "$fx" || exit 1
printf 'spool_dir = "%s"\n' "$E2E" >"$E2E/custos.conf"

e2e_start_sink && e2e_start_redis && e2e_start_milter && e2e_start_postfix || {
	tap_fail "start sink, redis, custos-milter and postfix"; e2e_dump_logs; exit 1; }
tap_ok "start sink, redis, custos-milter and postfix"

# wait_for SECONDS CMD...: retry CMD until it succeeds.
wait_for() {
	local tries=$(($1 * 10)); shift
	until "$@"; do
		[ "$tries" -le 0 ] && return 1
		tries=$((tries - 1)); sleep 0.1
	done
}
deferred() { grep -q "status=deferred" "$E2E/maillog"; }

E2E_SEND_PORT=$CLIENT_PORT e2e_send "$fx/plain.eml"
e2e_wait_sink 1 30
tap_check "through the upstream MTA and custos: delivered" test "$(e2e_sink_count)" = 1

e2e_kill_milter
tap_check "custos-milter killed (supervisor and worker)" test -z "$(pgrep -f "custos-milter .*$MILTER_PORT")"

e2e_send "$fx/utf8-8bit.eml"
reply=$(e2e_last_reply)
tap_check "custos down: the gateway answers 4xx ($reply)" grep -q '^4[0-9][0-9] ' <<<"$reply"
tap_check "custos down: no queue id was given" test -z "$(e2e_queue_id)"

E2E_SEND_PORT=$CLIENT_PORT e2e_send "$fx/gbk-base64.eml"
tap_check "custos down: the upstream MTA accepted the message" e2e_queue_id
tap_check "custos down: the upstream delivery is deferred" wait_for 30 deferred
sleep 1
tap_check "custos down: nothing more reached the sink" test "$(e2e_sink_count)" = 1

e2e_start_milter || tap_fail "restart custos-milter"
e2e_flush
e2e_wait_sink 2 60
tap_check "custos back, queue flushed: delivered" test "$(e2e_sink_count)" = 2
tap_check "the deferred message arrived byte for byte" \
	e2e_same_message "$fx/gbk-base64.eml" "$(e2e_sink_file 2)"
tap_check "the queue is empty" wait_for 30 test "$(e2e_postqueue_count)" = 0

# A failure inside custos: the spool cannot move to a file.
e2e_stop_milter
cat >"$E2E/custos.conf" <<EOF
spool_dir = "$E2E/no-such-dir"
spool_memory_limit = 4K
EOF
e2e_start_milter
e2e_send "$fx/large.eml"
reply=$(e2e_last_reply)
tap_check "spool failure: tempfail 451 4.3.0 ($reply)" grep -q '^451 4.3.0 ' <<<"$reply"
tap_check "spool failure: logged with the reason" grep -q "no-such-dir.*deferring" "$E2E/milter.log"

e2e_stop_milter
echo 'on_error = accept' >>"$E2E/custos.conf"
e2e_start_milter
e2e_send "$fx/large.eml"
e2e_wait_sink 3 30
tap_check "on_error = accept: the message passes unscanned, logged" \
	grep -q "accepting unscanned (on_error = accept)" "$E2E/milter.log"

# A stop while a message is in flight.  Session A is in DATA (so custos
# has its MAIL and is draining for it), session B has only said EHLO;
# then custos gets SIGTERM.
e2e_stop_milter
printf 'spool_dir = "%s"\n' "$E2E" >"$E2E/custos.conf"
e2e_start_milter || tap_fail "restart custos-milter"
delivered=$(e2e_sink_count) log0=$(wc -l <"$E2E/milter.log")
mkdir -p "$E2E/drain"
cat >"$E2E/drain.py" <<'PY'
import os, smtplib, sys, time
port, ctl = int(sys.argv[1]), sys.argv[2]
def reply(code, msg):
    return "%d %s" % (code, msg.decode(errors="replace").replace("\n", " "))
a = smtplib.SMTP("127.0.0.1", port, timeout=60)
a.ehlo("a.example.net")
a.mail("sender@example.com")
a.rcpt("rcpt@example.net")
print("A_DATA", reply(*a.docmd("DATA")), flush=True)
a.send(b"Subject: in flight\r\n\r\nfirst line\r\n")
b = smtplib.SMTP("127.0.0.1", port, timeout=60)
b.ehlo("b.example.net")
open(os.path.join(ctl, "ready"), "w").close()
for _ in range(600):
    if os.path.exists(os.path.join(ctl, "go")):
        break
    time.sleep(0.1)
try:
    print("B_MAIL", reply(*b.mail("sender@example.com")), flush=True)
    print("B_RCPT", reply(*b.rcpt("rcpt@example.net")), flush=True)
    print("B_DATA", reply(*b.docmd("DATA")), flush=True)
except smtplib.SMTPServerDisconnected:
    print("B_GONE", flush=True)
a.send(b"second line\r\n.\r\n")
print("A_END", reply(*a.getreply()), flush=True)
a.quit()
PY
"$PYTHON3" "$E2E/drain.py" "$SMTP_PORT" "$E2E/drain" >"$E2E/drain.out" 2>&1 &
drain_pid=$!
wait_for 60 test -e "$E2E/drain/ready"
mpid=$(e2e_milter_pid)
kill -TERM "$mpid"
tap_check "stop with a message in flight: custos waits for it" \
	wait_for 30 grep -q "waiting up to .* for 1 messages in flight" "$E2E/milter.log"
touch "$E2E/drain/go"
wait "$drain_pid"
tap_check "message begun after the stop: MAIL and RCPT answered by Postfix" \
	grep -q "^B_RCPT 250 " "$E2E/drain.out"
tap_check "message begun after the stop: deferred at DATA ($(grep B_DATA "$E2E/drain.out"))" \
	grep -q "^B_DATA 421 4.3.2 .*restarting" "$E2E/drain.out"
tap_check "message in flight: accepted ($(grep A_END "$E2E/drain.out"))" \
	grep -q "^A_END 250 " "$E2E/drain.out"
tap_check "message in flight: delivered" e2e_wait_sink $((delivered + 1)) 30
tap_check "custos exits once it is done" wait_for 30 eval '! kill -0 "$mpid" 2>/dev/null'
tap_check "nothing logged as an error" \
	test -z "$(tail -n +$((log0 + 1)) "$E2E/milter.log" | grep -F '[err]')"

tap_done
