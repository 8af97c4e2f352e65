#!/usr/bin/env bash
# t-attachments.sh - attachments through a real Postfix: a CRM export as
# people send it (export.zip holding 2024/客户.xlsx with 30 customers) is
# found with the right count and the path of every record; an encrypted
# zip is "unscannable: encrypted" with the member's name, and policy holds
# it; `custos scan --text` shows the extracted segments with their paths;
# the same attachment three times (limits { extract_cache }: read once,
# its scan kept from the third time) gets the same verdict each time,
# and the milter says at reload what its cache saved.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

e2e_require
command -v zip >/dev/null || { [ "${CI:-}" = true ] && { echo "1..1"; echo "not ok 1 - zip is not installed"; exit 1; }
	echo "1..0 # SKIP zip is not installed"; exit 77; }
tap_plan 12
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
rule "bulk-external" {
	records = 20  recipients = "external"
	action = "reject"  template = "records"
}
rule "unreadable-external" {
	unscannable = true  recipients = "external"
	action = "hold"  template = "unscannable"
}
audit_log = "$E2E/audit.log"
templates = "$top_srcdir/conf/templates"
contact = "security@example.com"
EOF
} >"$E2E/custos.conf"

e2e_start_sink && e2e_start_milter && e2e_start_postfix || {
	tap_fail "start sink, custos-milter and postfix"; e2e_dump_logs; exit 1; }
tap_ok "start sink, custos-milter and postfix"

# The zipped spreadsheet: refused, 30 records, each placed in the sheet.
E2E_TO=someone@gmail.test e2e_send "$fx/zip-xlsx-30-records.eml"
reply=$(grep -a '^<\*\*' "$E2E/swaks.out" | tr -d '\r')
tap_check "zipped xlsx: refused with 550" grep -q '550' <<<"$reply"
tap_check "zipped xlsx: the reply says where (客户.xlsx in export.zip)" \
	grep -q 'export.zip.*客户.xlsx' <<<"$reply"
line=$(jq -c 'select(.type == "decision")' "$E2E/audit.log" | tail -1)
tap_check "zipped xlsx: the audit line counts 30 records" \
	test "$(jq -r .records <<<"$line")" = 30
tap_check "zipped xlsx: every record's place is the sheet inside the zip" \
	test "$(jq -r '[.record_ids[].where | select(test("^attachment \"export.zip\" > 2024/客户.xlsx > sheet"))] | length' <<<"$line")" = 30

# An encrypted member: not readable, reported with its name, held.
mkdir -p "$E2E/enc"
head -31 "$E2E/list.csv" >"$E2E/enc/客户名单.csv"
( cd "$E2E/enc" && zip -q -P secret ../secret.zip 客户名单.csv )
{
	printf 'Subject: files\r\nMIME-Version: 1.0\r\n'
	printf 'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
	printf -- '--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n'
	printf -- '--b\r\nContent-Type: application/octet-stream; name="q.zip"\r\n'
	printf 'Content-Disposition: attachment; filename="q.zip"\r\n'
	printf 'Content-Transfer-Encoding: base64\r\n\r\n'
	base64 "$E2E/secret.zip" | sed 's/$/\r/'
	printf -- '--b--\r\n'
} >"$E2E/encrypted.eml"
E2E_TO=someone@gmail.test e2e_send "$E2E/encrypted.eml"
qid=$(e2e_queue_id)
tap_check "encrypted zip: held (accepted into the hold queue)" \
	grep -q "$qid: .*action=hold" "$E2E/milter.log"
line=$(jq -c 'select(.type == "decision")' "$E2E/audit.log" | tail -1)
tap_check "encrypted zip: unscannable: encrypted, naming the member" \
	test "$(jq -r '[.unscannable[] | select(.reason == "encrypted" and (.where | contains("q.zip") and contains("客户名单.csv")))] | length' <<<"$line")" = 1

"$custos" scan --text -c "$E2E/custos.conf" "$fx/zip-xlsx-30-records.eml" >"$E2E/scan.json"
tap_check "custos scan --text: the sheet's text with its path" \
	test "$(jq -r '[.segments[] | select((.source | test("export.zip\" > 2024/客户.xlsx > sheet")) and (.text | contains("C00030")))] | length' "$E2E/scan.json")" -ge 1

# The same file again and again, as a list sent to every customer: 180
# customers in a CSV in a zip (stored, so that it is large enough to be
# kept), three messages.
mkdir -p "$E2E/again"
{ head -181 "$E2E/list.csv"; sed -n 2,181p "$E2E/list.csv"; } >"$E2E/again/名单.csv"
( cd "$E2E/again" && zip -q -0 ../list.zip 名单.csv )
{
	printf 'Subject: list\r\nMIME-Version: 1.0\r\n'
	printf 'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
	printf -- '--b\r\nContent-Type: text/plain\r\n\r\nthe list\r\n'
	printf -- '--b\r\nContent-Type: application/zip; name="list.zip"\r\n'
	printf 'Content-Disposition: attachment; filename="list.zip"\r\n'
	printf 'Content-Transfer-Encoding: base64\r\n\r\n'
	base64 "$E2E/list.zip" | sed 's/$/\r/'
	printf -- '--b--\r\n'
} >"$E2E/again.eml"
refused=0 counts=
for i in 1 2 3; do
	E2E_TO=someone@gmail.test e2e_send "$E2E/again.eml"
	grep -a '^<\*\*' "$E2E/swaks.out" | grep -q 550 && refused=$((refused + 1))
	line=$(jq -c 'select(.type == "decision")' "$E2E/audit.log" | tail -1)
	counts="$counts $(jq -r '"\(.records)/\([.record_ids[].where | select(. == "attachment \"list.zip\" > 名单.csv")] | length)"' <<<"$line")"
done
same_counts() {	# one count, all in the CSV, at least its 180 customers
	set -- $counts
	[ "$1" = "$2" ] && [ "$2" = "$3" ] && [ "${1%/*}" = "${1#*/}" ] &&
	    [ "${1%/*}" -ge 180 ]
}
tap_check "the same zip three times: refused with 550 each time" test "$refused" = 3
tap_check "the same zip three times: the same records, all in the CSV ($counts)" same_counts
# At reload the replaced configuration's caches say what they saved.
kill -HUP "$(e2e_milter_pid)"
for i in $(seq 100); do
	grep -q "attachment cache:" "$E2E/milter.log" && break
	sleep 0.1
done
cache=$(grep "attachment cache:" "$E2E/milter.log" | tail -1)
tap_check "cache: the zip read once, then twice from memory" \
	grep -q "[0-9] files read, 2 read again from memory" <<<"$cache"
tap_check "cache: the CSV's scan played back the third time" \
	grep -q "played back 1 times" <<<"$cache"

[ "$_tap_failed" -eq 0 ] || e2e_dump_logs 40
tap_done
