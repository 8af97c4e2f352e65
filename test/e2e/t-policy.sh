#!/usr/bin/env bash
# t-policy.sh - policy actions through a real Postfix and Redis: reject
# with an explanation and incident id (nothing delivered), hold in
# Postfix's hold queue and delivered once after release, monitor mode
# passes what enforce would reject and the stats show both, tag adds
# headers; the audit log and every Redis key written hold no list value.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

e2e_require
tap_plan 19
e2e_setup
fx=$E2E/fx
"$PYTHON3" "$top_srcdir/test/fixtures/make-fixtures.py" "$fx" || exit 1
cp "$fx/customers.csv" "$E2E/list.csv"

# write_conf MODE: the config, enforcing or monitoring.
write_conf() {
	{ echo "spool_dir = \"$E2E\""; e2e_list_conf "$E2E" "$E2E/list.csv"
	  e2e_stop_conf; } >"$E2E/custos.conf"
	cat >>"$E2E/custos.conf" <<EOF
mode = "$1"
internal_domains = {"example.com"}
partner "auditor" { domains = {"audit.example.net"} }
rule "bulk-external" {
	records = 20  recipients = "external"
	action = "reject"  template = "records"
}
rule "some-to-partner" {
	records = 3  recipients = "partner"
	action = "hold"  template = "hold"
}
rule "any-records" { records = 1  action = "tag" }
store = "redis"
redis { port = $REDIS_PORT  prefix = "e2e:" }
audit_log = "$E2E/audit.log"
templates = "$top_srcdir/conf/templates"
contact = "security@example.com"
EOF
}
write_conf enforce

e2e_start_sink && e2e_start_redis && e2e_start_milter && e2e_start_postfix || {
	tap_fail "start sink, redis, custos-milter and postfix"; e2e_dump_logs; exit 1; }
tap_ok "start sink, redis, custos-milter and postfix"
rcli() { redis-cli -p "$REDIS_PORT" "$@"; }

# The 50-record message to an external recipient: rejected, explained.
E2E_TO=someone@gmail.test e2e_send "$fx/gbk-50-records.eml"
reply=$(grep -a '^<\*\* *550' "$E2E/swaks.out" | tr -d '\r')
tap_check "reject: 550 5.7.1" grep -q '550.5\.7\.1' <<<"$reply"
id=$(grep -ao '[0-9A-HJKMNP-TV-Z]\{4\}-[0-9A-HJKMNP-TV-Z]\{4\}-[0-9A-HJKMNP-TV-Z]\{4\}' "$E2E/swaks.out" | head -1)
tap_check "reject: the reply names the incident id ($id)" test -n "$id"
tap_check "reject: the reply explains in English (50 records, contact)" \
	bash -c "grep -a '550' '$E2E/swaks.out' | grep -q '50' && grep -aq 'security@example.com' '$E2E/swaks.out'"
tap_check "reject: ... and in Chinese" grep -aq '客户' "$E2E/swaks.out"
sleep 1
tap_check "reject: nothing reached the sink" test "$(e2e_sink_count)" = 0

# Five records to the partner: held, released with postsuper -H.
head -7 "$E2E/list.csv" | tail -5 | cut -d, -f3 | sed 's/^/tel /' >"$E2E/five.txt"
{ printf 'Subject: five\r\nTo: a@audit.example.net\r\n\r\n'; sed 's/$/\r/' "$E2E/five.txt"; } >"$E2E/five.eml"
E2E_TO=a@audit.example.net e2e_send "$E2E/five.eml"
hqid=$(e2e_queue_id)
tap_check "hold: accepted (250) and queued" test -n "$hqid"
held() {
	[ "$("$POSTQUEUE" -c "$E2E/postfix" -j 2>/dev/null |
	    jq -r "select(.queue_id == \"$hqid\") | .queue_name")" = hold ]
}
for _ in $(seq 50); do held && break; sleep 0.2; done
tap_check "hold: the message sits in the hold queue (postqueue -j)" held
# Postfix logs only "milter triggers HOLD action"; the reason travels in
# the held message's own headers, for the officer who looks at it.
tap_check "hold: the held message carries the verdict, incident and rule" \
	bash -c "'$(dirname "$POSTFIX")/postcat' -c '$E2E/postfix' -hq '$hqid' |
	    grep -q '^X-Custos: hold; incident=.*rules=.*some-to-partner'"
"$(dirname "$POSTFIX")/postsuper" -c "$E2E/postfix" -H "$hqid" >/dev/null 2>&1
e2e_flush
e2e_wait_sink 1 30
tap_check "hold: released with postsuper -H, delivered once" test "$(e2e_sink_count)" = 1
tap_check "hold: delivered with X-Custos-Incident" grep -aq '^X-Custos-Incident:' "$(e2e_sink_file 1)"

# Monitor mode: the same reject-worthy message passes, and is counted.
write_conf monitor
kill -HUP "$(cat "$E2E/milter.pid")"
for _ in $(seq 100); do [ "$(grep -c 'configuration reloaded' "$E2E/milter.log")" -ge 1 ] && break; sleep 0.1; done
E2E_TO=someone@gmail.test e2e_send "$fx/gbk-50-records.eml"
mqid=$(e2e_queue_id)
tap_check "monitor: the message enforce would reject passes" test -n "$mqid"
tap_check "monitor: logged as would=reject" grep -q "$mqid: .* action=pass would=reject" "$E2E/milter.log"
hour=$(date -u +%Y%m%d%H)
stats=$(rcli HGETALL "e2e:stats:{stats}:hour:$hour" | paste -sd' ')
tap_check "stats: the hour counts the reject and the monitored reject ($stats)" \
	bash -c "grep -q 'action:reject 1' <<<'$stats' && grep -q 'monitor:reject 1' <<<'$stats'"

# custos stats reads the same counters and the incident stream.
"$top_builddir/custos" stats -c "$E2E/custos.conf" --json >"$E2E/stats.json"
tap_check "custos stats: the day counts one reject" \
	test "$(jq -r '.day["action:reject"]' "$E2E/stats.json")" = 1
tap_check "custos stats: the incident stream holds the reject's incident" \
	test "$(jq -r --arg id "$id" '[.incidents[] | select(.incident == $id)] | length' "$E2E/stats.json")" = 1

# logrotate: the log is moved away, HUP, the next line goes to a new file.
mv "$E2E/audit.log" "$E2E/audit.log.1"
kill -HUP "$(cat "$E2E/milter.pid")"
for _ in $(seq 100); do [ "$(grep -c 'configuration reloaded' "$E2E/milter.log")" -ge 2 ] && break; sleep 0.1; done
e2e_send "$fx/plain.eml"
tap_check "audit log reopened on HUP: a new file with the next decision" \
	test "$(wc -l <"$E2E/audit.log" 2>/dev/null)" = 1
cat "$E2E/audit.log.1" >>"$E2E/audit.log"

# Nothing custos wrote holds a value of the list in clear.
cut -d, -f2-6 "$E2E/list.csv" | tail -n +2 | tr ',' '\n' | grep -v '^$' | sort -u >"$E2E/values"
tap_check "audit log: one line per decision, no list value" \
	bash -c "test \$(wc -l <'$E2E/audit.log') -ge 3 && ! grep -q -F -f '$E2E/values' '$E2E/audit.log'"
rcli --scan | sort >"$E2E/keys"
: >"$E2E/redis-dump"
while read -r k; do
	echo "$k" >>"$E2E/redis-dump"
	case $(rcli TYPE "$k") in
	hash) rcli HGETALL "$k" ;; zset) rcli ZRANGE "$k" 0 -1 WITHSCORES ;;
	stream) rcli XRANGE "$k" - + ;; string) rcli GET "$k" ;;
	esac >>"$E2E/redis-dump"
done <"$E2E/keys"
tap_check "redis: every key prefixed, none holds a list value" \
	bash -c "! grep -qv '^e2e:' '$E2E/keys' && ! grep -q -F -f '$E2E/values' '$E2E/redis-dump'"

tap_done
