#!/usr/bin/env bash
# t-quarantine-redis.sh - the quarantine shared through Redis: metadata,
# index and (quarantine { store = redis }) the sealed message live in
# Redis, so an officer on another node lists, shows and releases what
# gateway gw1 stopped; the release passes exactly once across nodes; a
# message held in gw1's Postfix queue is released only on gw1; with
# Redis down a message to quarantine is deferred, not lost; nothing in
# Redis holds a list value in clear.
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

# write_conf NODE DIR: the config of a node; only the node name and the
# local directory differ.
write_conf() {
	{
		echo "spool_dir = \"$E2E\""
		e2e_list_conf "$E2E" "$E2E/list.csv"
		e2e_stop_conf | sed "s|$E2E/quarantine\"|$2\"|; s|dir = .*|&\n\tstore = \"redis\"|"
		cat <<EOF
internal_domains = {"example.com"}
partner "auditor" { domains = {"audit.example.net"} }
rule "bulk-external" { records = 20  recipients = "external"  action = "quarantine" }
rule "some-to-partner" { records = 3  recipients = "partner"  action = "hold" }
store = "redis"
redis { port = $REDIS_PORT  prefix = "e2e:" }
audit_log = "$E2E/audit.log"
node = "$1"
EOF
	} >"$E2E/$1.conf"
}
write_conf gw1 "$E2E/q-gw1"
write_conf gw2 "$E2E/q-gw2"
gw2() { "$custos" quarantine -c "$E2E/gw2.conf" "$@"; }
rcli() { redis-cli -p "$REDIS_PORT" "$@"; }
incident_of() {
	sed -n "s/.*$1: .* incident=\([0-9A-Z-]*\) .*/\1/p" "$E2E/milter.log" | tail -1
}
delivered() {
	"$PYTHON3" "$here/sink-summary.py" "$E2E/sink" |
	    jq -s --arg m "<$1>" '[.[] | select(.msgid == $m)] | length'
}

E2E_MILTER_CONF=$E2E/gw1.conf
export E2E_MILTER_CONF
e2e_start_sink && e2e_start_redis && e2e_start_milter && e2e_start_postfix || {
	tap_fail "start sink, redis, custos-milter (gw1) and postfix"; e2e_dump_logs; exit 1; }
tap_ok "start sink, redis, custos-milter (gw1) and postfix"

E2E_TO=someone@gmail.test e2e_send "$fx/gbk-50-records.eml"
id=$(incident_of "$(e2e_queue_id)")
tap_check "quarantined on gw1: the sealed message is in Redis, not on gw1's disk" \
	bash -c "test -n '$id' && test \"\$(redis-cli -p $REDIS_PORT HEXISTS 'e2e:q:{$id}' body)\" = 1 &&
	    test -z \"\$(ls '$E2E/q-gw1' 2>/dev/null)\""
tap_check "gw2 lists it" bash -c "'$custos' quarantine -c '$E2E/gw2.conf' list | grep -q '^$id .*quarantined'"
gw2 show "$id" >"$E2E/show.txt" 2>&1
tap_check "gw2 shows it (envelope from the sealed message)" \
	grep -q 'RCPT TO:<someone@gmail.test>' "$E2E/show.txt"
gw2 release --reason "ok from gw2" "$id" >/dev/null 2>&1
e2e_flush
for _ in $(seq 100); do [ "$(delivered fixture-gbk50@example.com)" -ge 1 ] && break; sleep 0.1; done
tap_check "gw2 releases it; gw1's milter lets it through once" \
	bash -c "test \"\$(ls '$E2E'/sink/*.eml | wc -l)\" = 1 &&
	    grep -q 'release of incident $id: passed unscanned' '$E2E/milter.log'"
relfile=$(e2e_sink_file 1)
E2E_TO=someone@gmail.test e2e_send "$relfile"
rqid=$(e2e_queue_id)
e2e_flush; sleep 1
n=$(delivered fixture-gbk50@example.com)
tap_check "the release header replayed: no bypass (the claim is in Redis)" \
	bash -c "test $n = 1 && grep -q '$rqid: .*action=quarantine' '$E2E/milter.log' &&
	    test -n \"\$(redis-cli -p $REDIS_PORT GET 'e2e:q:used:{$id}')\""

# Held in gw1's Postfix: gw2 must not pretend to release it.
head -7 "$E2E/list.csv" | tail -5 | cut -d, -f3 | sed 's/^/tel /' >"$E2E/five.txt"
{ printf 'Subject: five\r\nMessage-ID: <five@example.com>\r\n\r\n'; sed 's/$/\r/' "$E2E/five.txt"; } >"$E2E/five.eml"
E2E_TO=a@audit.example.net e2e_send "$E2E/five.eml"
hid=$(incident_of "$(e2e_queue_id)")
gw2 release --reason ok "$hid" >"$E2E/gw2-hold.out" 2>&1
hrc=$?
tap_check "a held message: gw2 refuses (held in gw1's queue)" \
	bash -c "test $hrc -ne 0 && grep -q 'held in the Postfix queue of gw1' '$E2E/gw2-hold.out'"
"$custos" quarantine -c "$E2E/gw1.conf" release --reason ok "$hid" >/dev/null 2>&1
e2e_flush
for _ in $(seq 100); do [ "$(delivered five@example.com)" -ge 1 ] && break; sleep 0.1; done
tap_check "... gw1 releases it (postsuper -H), delivered" test "$(delivered five@example.com)" = 1

cut -d, -f2-6 "$E2E/list.csv" | tail -n +2 | tr ',' '\n' | grep -v '^$' | sort -u >"$E2E/values"
: >"$E2E/redis-dump"
for k in $(rcli --scan --pattern 'e2e:q:*'); do
	case $(rcli TYPE "$k") in
	hash) rcli HGETALL "$k" >>"$E2E/redis-dump" ;;
	string) rcli GET "$k" >>"$E2E/redis-dump" ;;
	zset) rcli ZRANGE "$k" 0 -1 >>"$E2E/redis-dump" ;;
	esac
done
tap_check "no list value and no header text in Redis in clear" \
	bash -c "grep -aq '^body$' '$E2E/redis-dump' && ! grep -aq -F -f '$E2E/values' '$E2E/redis-dump' &&
	    ! grep -aq 'fixture-gbk50' '$E2E/redis-dump'"

# Redis down: the message to quarantine is deferred, not lost.
e2e_stop_redis
E2E_TO=someone@gmail.test e2e_send "$fx/gbk-50-records.eml"
reply=$(e2e_last_reply)
tap_check "Redis down: the message is deferred (451) ($reply)" grep -q '^451' <<<"$reply"
tap_check "Redis down: logged as a store failure" \
	grep -q 'quarantine store: .*; deferring' "$E2E/milter.log"

[ "$_tap_failed" -eq 0 ] || e2e_dump_logs 40
tap_done
