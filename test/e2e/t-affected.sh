#!/usr/bin/env bash
# t-affected.sh - incident response through a real Postfix and Redis:
# `custos incidents affected` lists exactly the customer records one
# sender's messages carried (passed, tagged or refused), with first/last
# time and message counts, from the audit log and from the Redis incident
# stream alike, and none of another sender's.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

e2e_require
tap_plan 11
e2e_setup
fx=$E2E/fx
"$PYTHON3" "$top_srcdir/test/fixtures/make-fixtures.py" "$fx" || exit 1
cp "$fx/customers.csv" "$E2E/list.csv"
custos=$top_builddir/custos

{
	echo "spool_dir = \"$E2E\""
	e2e_list_conf "$E2E" "$E2E/list.csv"
	e2e_stop_conf
	cat <<EOF
internal_domains = {"example.com"}
rule "bulk-external" { records = 20  recipients = "external"  action = "reject" }
rule "any-records" { records = 1  action = "tag" }
store = "redis"
redis { port = $REDIS_PORT  prefix = "e2e:" }
audit_log = "$E2E/audit.log"
EOF
} >"$E2E/custos.conf"

e2e_start_sink && e2e_start_redis && e2e_start_milter && e2e_start_postfix || {
	tap_fail "start sink, redis, custos-milter and postfix"; e2e_dump_logs; exit 1; }
tap_ok "start sink, redis, custos-milter and postfix"

# message FIRST LAST: a message with the mobiles of records FIRST..LAST
# (numbers, C00001 is 1).
message() {
	printf 'Subject: numbers %s-%s\r\n\r\n' "$1" "$2"
	awk -F, -v a="$1" -v b="$2" 'NR > 1 { n = substr($1, 2) + 0
	    if (n >= a && n <= b) printf "tel %s\r\n", $3 }' "$E2E/list.csv"
}
# ids FIRST LAST: the record ids, one a line.
ids() { seq -f 'C%05g' "$1" "$2"; }

message 1 5 >"$E2E/m1.eml"
message 4 8 >"$E2E/m2.eml"
message 10 34 >"$E2E/m3.eml"
message 100 105 >"$E2E/m4.eml"
sent=0
E2E_FROM=alice@example.com E2E_TO=x@gmail.test e2e_send "$E2E/m1.eml" && sent=$((sent + 1))
E2E_FROM=alice@example.com E2E_TO=x@gmail.test e2e_send "$E2E/m2.eml" && sent=$((sent + 1))
E2E_FROM=Alice@Example.com E2E_TO=x@gmail.test e2e_send "$E2E/m3.eml"
grep -aq '^<\*\* *550' "$E2E/swaks.out" && sent=$((sent + 1))
E2E_FROM=bob@example.com E2E_TO=y@gmail.test e2e_send "$E2E/m4.eml" && sent=$((sent + 1))
tap_check "four messages: two tagged, one refused (alice), one tagged (bob)" test "$sent" = 4

cat <(ids 1 8) <(ids 10 34) | sort >"$E2E/want-alice"
affected() {
	"$custos" incidents affected -c "$E2E/custos.conf" "$@" 2>"$E2E/affected.err"
}
affected --sender alice@example.com >"$E2E/alice.csv"
tail -n +2 "$E2E/alice.csv" | cut -d, -f2 | sort >"$E2E/got-alice"
tap_check "audit log: exactly alice's 33 records, none of bob's" \
	cmp -s "$E2E/want-alice" "$E2E/got-alice"
tap_check "audit log: CSV header, and records 4 and 5 left in 2 messages" \
	bash -c "head -1 '$E2E/alice.csv' | grep -q '^list,record_id,canary,first_seen,last_seen,messages' &&
	    test \"\$(grep -c '^customers,C0000[45],false,.*,2,' '$E2E/alice.csv')\" = 2 &&
	    test \"\$(grep -c ',1,' '$E2E/alice.csv')\" = 31"
affected --sender alice@example.com --action reject >"$E2E/reject.csv"
tap_check "--action reject: only the refused message's 25 records" \
	test "$(tail -n +2 "$E2E/reject.csv" | cut -d, -f2 | sort | paste -sd' ')" = "$(ids 10 34 | paste -sd' ')"
affected --sender bob@example.com --format json >"$E2E/bob.json"
tap_check "--format json: bob's 6 records and nothing else" \
	test "$(jq -r '[.records[].id] | sort | join(" ")' "$E2E/bob.json")" = "$(ids 100 105 | paste -sd' ')"
affected --sender alice@example.com --since "$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ)" >"$E2E/future.csv"
tap_check "--since after the messages: no records" test "$(wc -l <"$E2E/future.csv")" = 1

# The same from the Redis incident stream.
affected --sender alice@example.com --source redis >"$E2E/alice-redis.csv"
tail -n +2 "$E2E/alice-redis.csv" | cut -d, -f2 | sort >"$E2E/got-alice-redis"
tap_check "redis stream: the same 33 records" cmp -s "$E2E/want-alice" "$E2E/got-alice-redis"
tap_check "redis stream: the same first/last/count per record as the audit log" \
	bash -c "diff <(cut -d, -f1-6 '$E2E/alice.csv' | sort) <(cut -d, -f1-6 '$E2E/alice-redis.csv' | sort)"

# Rotated logs are read too: move the log away as logrotate would.
mv "$E2E/audit.log" "$E2E/audit.log.1"
kill -HUP "$(cat "$E2E/milter.pid")"
for _ in $(seq 100); do grep -q 'configuration reloaded' "$E2E/milter.log" && break; sleep 0.1; done
message 40 41 >"$E2E/m5.eml"
E2E_FROM=alice@example.com E2E_TO=x@gmail.test e2e_send "$E2E/m5.eml"
gzip "$E2E/audit.log.1"
affected --sender alice@example.com >"$E2E/rotated.csv"
tap_check "rotated audit.log.1.gz and the new audit.log: 35 records" \
	test "$(tail -n +2 "$E2E/rotated.csv" | wc -l)" = 35

cut -d, -f2-6 "$E2E/list.csv" | tail -n +2 | tr ',' '\n' | grep -v '^$' | sort -u >"$E2E/values"
tap_check "the reports and the stream hold ids, no list value" \
	bash -c "! grep -q -F -f '$E2E/values' '$E2E/alice.csv' '$E2E/bob.json' &&
	    ! redis-cli -p $REDIS_PORT XRANGE 'e2e:stats:{stats}:incidents' - + | grep -q -F -f '$E2E/values'"

[ "$_tap_failed" -eq 0 ] || e2e_dump_logs 40
tap_done
