#!/usr/bin/env bash
# t-history.sh - sender history in Redis through a real Postfix: a drip of
# 10 records a message, each on its own connection, trips the daily rule
# at the 20th message (200 distinct records); another sender is
# unaffected; mail to internal recipients only does not count.  Redis
# stopped: mail flows under on_store_error = continue and is tempfailed
# under tempfail; Redis back, counting resumes.  custos talks to Redis
# over its unix socket (redis { socket }); the checks read it over TCP.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

e2e_require
tap_plan 10
e2e_setup
fx=$E2E/fx
"$PYTHON3" "$top_srcdir/test/fixtures/make-fixtures.py" "$fx" || exit 1
cp "$fx/customers.csv" "$E2E/list.csv"

write_conf() {	# write_conf ON_STORE_ERROR
	cat >"$E2E/custos.conf" <<EOF
spool_dir = "$E2E"
key_file = "$E2E/list.key"
database = "$E2E/lists.db"
list "customers" {
	file = "$E2E/list.csv"
	field "mobile" { kind = "mobile" }
}
internal_domains = {"example.com"}
rule "drip" {
	window = "1d"  history_records = 200  recipients = "not-internal"
	action = "reject"  template = "records"
}
store = "redis"
redis { socket = "$E2E/redis/redis.sock"  port = 1  prefix = "e2e:" }
on_store_error = "$1"
templates = "$top_srcdir/conf/templates"
EOF
	e2e_stop_conf >>"$E2E/custos.conf"
}
write_conf continue

e2e_start_sink && e2e_start_redis && e2e_start_milter && e2e_start_postfix || {
	tap_fail "start sink, redis, custos-milter and postfix"; e2e_dump_logs; exit 1; }
tap_ok "start sink, redis, custos-milter and postfix"

# chunk K: a message with records 10K-9 .. 10K of the list (mobiles).
chunk() {
	{ printf 'Subject: part %s\r\n\r\n' "$1"
	  sed -n "$((10 * $1 - 8)),$((10 * $1 + 1))p" "$E2E/list.csv" | cut -d, -f3 | sed 's/$/\r/'
	} >"$E2E/chunk.eml"
}
code() { e2e_last_reply | cut -c1-3; }

# Internal recipients only: not counted.  (Had chunk 20's records been
# counted here, the drip below would trip at its 19th message.)
chunk 20
E2E_FROM=drip@example.com E2E_TO=colleague@example.com e2e_send "$E2E/chunk.eml"
first_reject=
for k in $(seq 1 20); do
	chunk "$k"
	E2E_FROM=drip@example.com E2E_TO=friend@gmail.test e2e_send "$E2E/chunk.eml"
	if [ "$(code)" = 550 ] && [ -z "$first_reject" ]; then first_reject=$k; fi
done
tap_check "drip: internal mail did not count; the first 19 pass, the 20th is rejected (got: ${first_reject:-none})" test "${first_reject:-0}" = 20
tap_check "drip: the reply explains with an incident id" \
	grep -aq '550.5\.7\.1.*[0-9A-Z]\{4\}-[0-9A-Z]\{4\}-[0-9A-Z]\{4\}' "$E2E/swaks.out"

chunk 3
E2E_FROM=other@example.com E2E_TO=friend@gmail.test e2e_send "$E2E/chunk.eml"
tap_check "another sender is unaffected" test "$(code)" = 250
E2E_FROM=drip@example.com E2E_TO=colleague@example.com e2e_send "$E2E/chunk.eml"
tap_check "the drip sender's mail to internal recipients still passes" test "$(code)" = 250

# Redis stopped: continue lets mail through (history unknown, logged).
e2e_stop_redis
E2E_FROM=other@example.com E2E_TO=friend@gmail.test e2e_send "$E2E/chunk.eml"
tap_check "redis down, continue: mail flows" test "$(code)" = 250
tap_check "redis down: logged" grep -q "sender history unavailable" "$E2E/milter.log"

write_conf tempfail
kill -HUP "$(cat "$E2E/milter.pid")"
for _ in $(seq 100); do grep -q "configuration reloaded" "$E2E/milter.log" && break; sleep 0.1; done
E2E_FROM=other@example.com E2E_TO=friend@gmail.test e2e_send "$E2E/chunk.eml"
tap_check "redis down, tempfail: 4xx" test "$(code | cut -c1)" = 4

# Redis back (empty: it kept nothing): counting resumes after the backoff.
e2e_start_redis
sleep 6
E2E_FROM=other@example.com E2E_TO=friend@gmail.test e2e_send "$E2E/chunk.eml"
tap_check "redis back: mail flows" test "$(code)" = 250
n=$(redis-cli -p "$REDIS_PORT" --scan --pattern 'e2e:h:{other@example.com}:rec:*' | wc -l)
tap_check "redis back: the sender's history is written again ($n keys)" test "$n" -ge 1

tap_done
