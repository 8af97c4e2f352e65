#!/usr/bin/env bash
# t-quarantine.sh - the quarantine through a real Postfix: a message over
# the threshold is stored encrypted and not delivered; officers list,
# show and release it (delivered exactly once); the release header
# replayed or on a changed body gets no bypass; a tampered stored file is
# refused; delete; a held message released with postsuper -H; a store
# that cannot write defers the message; the sender's notice and the
# officers' alert arrive, and a drip of 50 stopped messages gives one
# digest, not 50 alerts; no list value in anything custos wrote.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

e2e_require
tap_plan 32
e2e_setup
fx=$E2E/fx
"$PYTHON3" "$top_srcdir/test/fixtures/make-fixtures.py" "$fx" || exit 1
cp "$fx/customers.csv" "$E2E/list.csv"
custos=$top_builddir/custos

{
	echo "spool_dir = \"$E2E\""
	e2e_list_conf "$E2E" "$E2E/list.csv"
	E2E_NOTIFY_SENDER=yes E2E_OFFICERS='"soc@example.com"' \
	    E2E_NOTIFY_WINDOW=5s e2e_stop_conf
	cat <<EOF
internal_domains = {"example.com"}
partner "auditor" { domains = {"audit.example.net"} }
rule "bulk-external" {
	records = 20  recipients = "external"
	action = "quarantine"  template = "records"
}
rule "some-to-partner" {
	records = 3  recipients = "partner"
	action = "hold"  template = "hold"
}
audit_log = "$E2E/audit.log"
templates = "$top_srcdir/conf/templates"
contact = "security@example.com"
node = "gw1"
EOF
} >"$E2E/custos.conf"
cq() { "$custos" quarantine -c "$E2E/custos.conf" "$@"; }
summary() { "$PYTHON3" "$here/sink-summary.py" "$E2E/sink"; }
# incident_of QID: the incident the milter logged for queue id QID.
incident_of() {
	sed -n "s/.*$1: .* incident=\([0-9A-Z-]*\) .*/\1/p" "$E2E/milter.log" | tail -1
}
# delivered MSGID: how many messages with that Message-ID reached the sink.
delivered() {
	summary | jq -s --arg m "<$1>" '[.[] | select(.msgid == $m)] | length'
}

e2e_start_sink && e2e_start_milter && e2e_start_postfix || {
	tap_fail "start sink, custos-milter and postfix"; e2e_dump_logs; exit 1; }
tap_ok "start sink, custos-milter and postfix"

# ---- quarantine
E2E_TO=someone@gmail.test e2e_send "$fx/gbk-50-records.eml"
qid=$(e2e_queue_id)
tap_check "quarantine: accepted (250) from the client's side" test -n "$qid"
id=$(incident_of "$qid")
tap_check "quarantine: logged as action=quarantine with incident $id" \
	grep -q "$qid: .*action=quarantine incident=$id" "$E2E/milter.log"
e2e_flush; sleep 2
tap_check "quarantine: not delivered" test "$(delivered fixture-gbk50@example.com)" = 0
cut -d, -f2-6 "$E2E/list.csv" | tail -n +2 | tr ',' '\n' | grep -v '^$' | sort -u >"$E2E/values"
tap_check "quarantine: stored encrypted (no list value, no header text in clear)" \
	bash -c "test -s '$E2E/quarantine/$id.msg' &&
	    ! grep -aq -F -f '$E2E/values' '$E2E/quarantine/'* &&
	    ! grep -aq 'fixture-gbk50' '$E2E/quarantine/'*"
tap_check "list: the entry, quarantined" \
	bash -c "'$custos' quarantine -c '$E2E/custos.conf' list | grep -q '^$id .* quarantined  quarantine'"
tap_check "list --json --status quarantined --sender: one entry of 50 records" \
	test "$(cq list --json --status quarantined --sender sender@example.com |
	    jq -s --arg id "$id" '[.[] | select(.incident == $id and .records == 50)] | length')" = 1
cq show "$id" >"$E2E/show.txt" 2>&1
tap_check "show: envelope, headers and findings (masked)" \
	bash -c "grep -q 'RCPT TO:<someone@gmail.test>' '$E2E/show.txt' &&
	    grep -q 'Message-ID: <fixture-gbk50@example.com>' '$E2E/show.txt' &&
	    grep -q 'Records    50' '$E2E/show.txt' &&
	    grep -q 'sample .*\*\*\*' '$E2E/show.txt' &&
	    ! grep -q -F -f '$E2E/values' '$E2E/show.txt'"
cq show --raw "$E2E/raw.eml" --officer alice "$id" 2>/dev/null
tap_check "show --raw: the decrypted message is the one sent" \
	e2e_same_message "$fx/gbk-50-records.eml" "$E2E/raw.eml"
tap_check "show --raw: audited with the officer" \
	bash -c "jq -e -s --arg id '$id' 'any(.[]; .type == \"officer\" and .event == \"show-raw\" and .incident == \$id and .officer == \"alice\")' '$E2E/audit.log' >/dev/null"

# ---- release
cq release --reason "approved by legal" --officer bob "$id" >"$E2E/release.out" 2>&1
rc=$?
e2e_flush
for _ in $(seq 100); do [ "$(delivered fixture-gbk50@example.com)" -ge 1 ] && break; sleep 0.1; done
sleep 1
tap_check "release: exit 0, delivered exactly once" \
	test "$rc:$(delivered fixture-gbk50@example.com)" = "0:1"
rel=$(summary | jq -r 'select(.msgid == "<fixture-gbk50@example.com>") | .n' | head -1)
relfile=$(e2e_sink_file "$rel")
grep -av '^X-Custos-Release:' "$relfile" >"$E2E/released.eml"
same=no
grep -aq "^X-Custos-Release: v1 $id " "$relfile" &&
    e2e_same_message "$fx/gbk-50-records.eml" "$E2E/released.eml" && same=yes
tap_check "release: delivered byte for byte, with the release header" test "$same" = yes
tap_check "release: audited (officer, reason) and passed once by the milter" \
	bash -c "jq -e -s --arg id '$id' 'any(.[]; .event == \"release\" and .incident == \$id and .officer == \"bob\" and .reason == \"approved by legal\" and .ok) and any(.[]; .event == \"release-delivered\" and .incident == \$id)' '$E2E/audit.log' >/dev/null"
tap_check "list: now released, by bob" \
	test "$(cq list --json | jq -r --arg id "$id" 'select(.incident == $id) | .status + " " + .officer')" = "released bob"

# The delivered copy, header and all, sent again: the token was used.
E2E_TO=someone@gmail.test e2e_send "$relfile"
rqid=$(e2e_queue_id)
e2e_flush; sleep 2
n=$(delivered fixture-gbk50@example.com)
tap_check "replay: the release header sent again gives no bypass" \
	bash -c "grep -q 'release token of incident $id was used before' '$E2E/milter.log' &&
	    grep -q '$rqid: .*action=quarantine' '$E2E/milter.log' && test $n = 1"
replay_id=$(incident_of "$rqid")
# The token on a changed body does not verify.
sed '0,/^Subject:/s/^Subject:.*/Subject: changed/' "$relfile" >"$E2E/forged.eml"
"$PYTHON3" - "$E2E/forged.eml" <<'EOF'
import sys
p = sys.argv[1]
d = open(p, "rb").read()
head, _, body = d.partition(b"\r\n\r\n")
open(p, "wb").write(head + b"\r\n\r\n" + body.replace(b"v827", b"v828", 1))
EOF
E2E_TO=someone@gmail.test e2e_send "$E2E/forged.eml"
fqid=$(e2e_queue_id)
tap_check "forged: a release header on a changed body does not verify" \
	bash -c "grep -q 'token header that does not verify' '$E2E/milter.log' &&
	    grep -q '$fqid: .*action=quarantine' '$E2E/milter.log'"
cq release --reason again "$id" >"$E2E/again.out" 2>&1
arc=$?
tap_check "release twice: refused (already released)" \
	bash -c "test $arc -ne 0 && grep -q 'already released' '$E2E/again.out'"

# ---- a tampered stored file is refused
"$PYTHON3" - "$E2E/quarantine/$replay_id.msg" <<'EOF'
import sys
p = sys.argv[1]
d = bytearray(open(p, "rb").read())
d[len(d) // 2] ^= 0x01
open(p, "wb").write(bytes(d))
EOF
cq show --raw "$E2E/tampered.eml" "$replay_id" >"$E2E/tamper.out" 2>&1
trc=$?
cq release --reason test "$replay_id" >>"$E2E/tamper.out" 2>&1
trc2=$?
tap_check "tampered: show --raw and release refuse it with a clear error" \
	bash -c "test $trc -ne 0 && test $trc2 -ne 0 && grep -q 'tampered' '$E2E/tamper.out' &&
	    test ! -e '$E2E/tampered.eml'"

# ---- delete
forged_id=$(incident_of "$fqid")
cq delete --reason "personal data, not to be sent" "$forged_id" >/dev/null 2>&1
tap_check "delete: status deleted, the stored message erased, audited" \
	bash -c "test \"\$('$custos' quarantine -c '$E2E/custos.conf' list --json | jq -r --arg id '$forged_id' 'select(.incident == \$id) | .status')\" = deleted &&
	    test ! -e '$E2E/quarantine/$forged_id.msg' &&
	    jq -e -s --arg id '$forged_id' 'any(.[]; .event == \"delete\" and .incident == \$id)' '$E2E/audit.log' >/dev/null"

# ---- hold: listed, released with postsuper -H by `custos quarantine release`
head -7 "$E2E/list.csv" | tail -5 | cut -d, -f3 | sed 's/^/tel /' >"$E2E/five.txt"
{ printf 'Subject: five\r\nMessage-ID: <five@example.com>\r\nTo: a@audit.example.net\r\n\r\n'
  sed 's/$/\r/' "$E2E/five.txt"; } >"$E2E/five.eml"
E2E_TO=a@audit.example.net e2e_send "$E2E/five.eml"
hqid=$(e2e_queue_id)
hid=$(incident_of "$hqid")
tap_check "hold: listed as held with its queue id" \
	test "$(cq list --json --status held | jq -r --arg id "$hid" 'select(.incident == $id) | .queue_id')" = "$hqid"
cq release --reason ok "$hid" >/dev/null 2>&1
e2e_flush
for _ in $(seq 100); do [ "$(delivered five@example.com)" -ge 1 ] && break; sleep 0.1; done
n=$(delivered five@example.com)
tap_check "hold: release runs postsuper -H; delivered once" \
	bash -c "test $n = 1 &&
	    jq -e -s --arg id '$hid' 'any(.[]; .event == \"release\" and .incident == \$id and (.detail | startswith(\"postsuper -H\")))' '$E2E/audit.log' >/dev/null"

# ---- notices: the sender's and the officers', passed unscanned
sleep 1
summary >"$E2E/summary.json"
tap_check "notice: the sender is told (incident, masked sample, contact)" \
	test "$(jq -s --arg id "$id" '[.[] | select(.notice and (.to | index("sender@example.com")) and (.subject | contains($id)) and (.text | contains($id)) and (.text | test("\\*\\*\\*")) and (.text | contains("security@example.com")))] | length' "$E2E/summary.json")" = 1
tap_check "notice: in Chinese and English" \
	test "$(jq -s --arg id "$id" '[.[] | select(.notice and (.to | index("sender@example.com")) and (.text | contains($id)) and (.text | contains("事件编号")) and (.text | contains("Incident id")))] | length' "$E2E/summary.json")" = 1
tap_check "alert: the officers get the summary and the show command" \
	test "$(jq -s --arg id "$id" '[.[] | select(.notice and (.to | index("soc@example.com")) and (.text | contains("custos quarantine show " + $id)))] | length' "$E2E/summary.json")" = 1
tap_check "notices pass the milter unscanned (no loop)" \
	bash -c "grep -q 'custos notice: passed unscanned' '$E2E/milter.log' &&
	    ! grep -q 'custos@example.com.*action=quarantine' '$E2E/milter.log'"

# ---- a drip of 50 stopped messages: one alert and one digest
"$PYTHON3" - "$SMTP_PORT" "$fx/gbk-50-records.eml" <<'EOF'
import smtplib, sys
raw = open(sys.argv[2], "rb").read().replace(b"\r\n", b"\n")
with smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=60) as s:
    for i in range(50):
        m = raw.replace(b"<fixture-gbk50@example.com>", b"<drip%02d@example.com>" % i)
        s.sendmail("drip@example.com", ["someone@gmail.test"], m)
EOF
tap_check "drip: all 50 quarantined" \
	test "$(grep -c 'from=<drip@example.com>.*action=quarantine' "$E2E/milter.log")" = 50
# The window is 5 s: the digest leaves when it ends.
sleep 8
e2e_flush; sleep 2
summary >"$E2E/summary.json"
jq -s '[.[] | select(.notice and (.to | index("soc@example.com")) and (.text | contains("drip@example.com")))]' \
	"$E2E/summary.json" >"$E2E/drip-alerts.json"
tap_check "drip: the officers get 2 mails, not 50 (an alert, then a digest)" \
	test "$(jq length "$E2E/drip-alerts.json")" = 2
tap_check "drip: the digest lists the other 49 incidents" \
	test "$(jq -r '.[1].text' "$E2E/drip-alerts.json" | grep -cE '[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}  quarantine  50')" = 49
tap_check "drip: the sender gets 2 notices, not 50" \
	test "$(jq -s '[.[] | select(.notice and (.to | index("drip@example.com")))] | length' "$E2E/summary.json")" = 2

# ---- a store that cannot write: deferred, not lost
mv "$E2E/quarantine" "$E2E/quarantine.away"
: >"$E2E/quarantine"
E2E_TO=someone@gmail.test e2e_send "$fx/gbk-50-records.eml"
reply=$(e2e_last_reply)
tap_check "store failure: the message is deferred (451), not accepted ($reply)" \
	grep -q '^451' <<<"$reply"
rm -f "$E2E/quarantine"
mv "$E2E/quarantine.away" "$E2E/quarantine"

# ---- nothing custos wrote holds a value in clear
tap_check "no list value in the store's metadata, the audit log or any notice" \
	bash -c "! grep -aq -F -f '$E2E/values' '$E2E/quarantine/'*.json '$E2E/audit.log' &&
	    ! jq -r 'select(.notice) | .subject + .text' '$E2E/summary.json' | grep -q -F -f '$E2E/values'"

# ---- retention
cq purge --older-than 0s >"$E2E/purge.out" 2>&1
tap_check "purge: every entry removed, files and all; audited" \
	bash -c "grep -q '^purged ' '$E2E/purge.out' &&
	    test -z \"\$(ls '$E2E/quarantine')\" &&
	    '$custos' quarantine -c '$E2E/custos.conf' list | grep -q 'no entries' &&
	    jq -e -s 'any(.[]; .event == \"purge\")' '$E2E/audit.log' >/dev/null"

[ "$_tap_failed" -eq 0 ] || e2e_dump_logs 60
tap_done
