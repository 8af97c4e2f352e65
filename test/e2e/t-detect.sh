#!/usr/bin/env bash
# t-detect.sh - customer records found through a real Postfix: the GBK,
# base64, full-width 50-record message is logged with exactly 50 records;
# a changed list is compiled and swapped in on HUP, and the next verdict
# names the new list version; no list value appears in anything custos
# wrote.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

e2e_require
tap_plan 8
e2e_setup
fx=$E2E/fx
"$PYTHON3" "$top_srcdir/test/fixtures/make-fixtures.py" "$fx" || exit 1
cp "$fx/customers.csv" "$E2E/list.csv"
{
	echo "spool_dir = \"$E2E\""
	e2e_list_conf "$E2E" "$E2E/list.csv"
} >"$E2E/custos.conf"

e2e_start_sink && e2e_start_redis && e2e_start_milter && e2e_start_postfix || {
	tap_fail "start sink, redis, custos-milter (compiling the list) and postfix"
	e2e_dump_logs; exit 1; }
tap_ok "start sink, redis, custos-milter (compiling the list) and postfix"

summary() {	# summary QUEUE-ID: the milter's line for that message
	grep "custos-milter\[info\]: $1: " "$E2E/milter.log"
}

e2e_send "$fx/gbk-50-records.eml"
qid=$(e2e_queue_id)
e2e_wait_sink 1 30
line=$(summary "$qid")
tap_check "50-record GBK message: logged with records=50" grep -q ' records=50 ' <<<"$line"
v1=$(sed -n 's/.* list=\([^ ]*\) .*/\1/p' <<<"$line")
tap_check "... and the list version" test -n "$v1"
tap_check "... delivered (every verdict is pass until policy lands)" test "$(e2e_sink_count)" = 1

# The canary record (the list's last) is reported as such.
printf 'Subject: t\r\n\r\nmobile %s\r\n' "$(tail -1 "$E2E/list.csv" | cut -d, -f3)" >"$E2E/canary.eml"
e2e_send "$E2E/canary.eml"
tap_check "a canary record is counted as a canary" grep -q ' records=1 canaries=1 ' <<<"$(summary "$(e2e_queue_id)")"

# A new list version: compiled on HUP, swapped in.
sleep 1
echo 'C09999,新客户,13999999999,new@example.com,,,' >>"$E2E/list.csv"
kill -HUP "$(cat "$E2E/milter.pid")"
for _ in $(seq 100); do grep -q "configuration reloaded" "$E2E/milter.log" && break; sleep 0.1; done
printf 'Subject: t\r\n\r\nnew customer 139-9999-9999\r\n' >"$E2E/new.eml"
e2e_send "$E2E/new.eml"
line=$(summary "$(e2e_queue_id)")
v2=$(sed -n 's/.* list=\([^ ]*\) .*/\1/p' <<<"$line")
tap_check "after HUP: the new record is found" grep -q ' records=1 ' <<<"$line"
tap_check "after HUP: the verdict names the new list version ($v1 -> $v2)" test -n "$v2" -a "$v1" != "$v2"

# Nothing custos wrote holds a value of the list in clear.
cut -d, -f2-6 "$E2E/list.csv" | tail -n +2 | tr ',' '\n' | grep -v '^$' | sort -u >"$E2E/values"
tap_check "no list value in the milter log" test "$(grep -c -F -f "$E2E/values" "$E2E/milter.log")" = 0

tap_done
