#!/usr/bin/env bash
# t-scan.sh - `custos scan` on the generated fixtures: the segments each
# message yields, the limits that make a message unscannable, and that
# hostile input gives a defined result.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../e2e/lib.sh"

command -v jq >/dev/null || tap_skip_all "jq is not installed"
custos=$top_builddir/custos
work=$(mktemp -d /tmp/custos-cli.XXXXXX)
trap 'rm -rf "$work"' EXIT
python3 "$top_srcdir/test/fixtures/make-fixtures.py" "$work/fx" || exit 1
printf 'spool_dir = "%s"\n' "$work" >"$work/c.conf"

# scan FILE [custos args]: JSON of one message into $work/out.json.
scan() {
	local f=$1; shift
	"$custos" scan -c "$work/c.conf" "$@" "$work/fx/$f" >"$work/out.json" 2>"$work/err"
}
# q JQ-EXPR: evaluate on the last scan's output.
q() { jq -r "$1" "$work/out.json"; }
# expect DESCRIPTION GOT WANT
expect() {
	if [ "$2" = "$3" ]; then tap_ok "$1"; else tap_fail "$1" "got:  $2" "want: $3"; fi
}

tap_plan 32

scan plain.eml
expect "plain: exit 0 and one JSON line" "$?:$(wc -l <"$work/out.json")" "0:1"
expect "plain: verdict pass" "$(q .verdict.action)" "pass"
expect "plain: incident id looks like XXXX-XXXX-XXXX" \
	"$(q .verdict.incident | grep -cE '^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){2}$')" "1"
expect "plain: sources" "$(q '[.segments[].source] | join(",")')" "header Subject,body text/plain"

scan utf8-8bit.eml --text
expect "utf8: RFC 2047 subject decoded" "$(q '.segments[] | select(.source=="header Subject") | .text')" "客户名单"
expect "utf8: 8bit body read" "$(q '.segments[] | select(.source=="body text/plain") | .text' | tr -d '\r' | head -1)" "客户名单：张伟，电话号码请见附件。"

scan gbk-base64.eml --text
expect "gbk: GB2312 subject decoded" "$(q '.segments[] | select(.source=="header Subject") | .text')" "季度报表"
expect "gbk: base64 GBK body to UTF-8" "$(q '.segments[] | select(.source=="body text/plain") | .text' | tr -d '\r' | head -1)" "客户名单：张伟，电话号码请见附件。"
expect "gbk: charset and encoding reported" "$(q '.segments[] | select(.source=="body text/plain") | "\(.charset) \(.encoding)"')" "GB2312 base64"

scan html-qp.eml --text
body=$(q '.segments[] | select(.source=="body text/html") | .text')
expect "html: entities decoded" "$(grep -c 'Dear & valued partner' <<<"$body")" "1"
expect "html: inline tags join digits" "$(grep -c '13800138000' <<<"$body")" "1"
expect "html: script, style and comments dropped" "$(grep -cE 'var x|color:red|hidden note' <<<"$body")" "0"

scan multipart-attach.eml --text
expect "attach: every part in order" "$(q '[.segments[].source] | join(",")')" \
	'header Subject,body preamble,body text/plain,body text/html,attachment name,attachment "客户.csv",attachment name,attachment "logo.dat"'
expect "attach: RFC 2231 name decoded" "$(q '.segments[] | select(.source=="attachment \"客户.csv\"") | .filename')" "客户.csv"
expect "attach: csv text extracted" "$(q '.segments[] | select(.source=="attachment \"客户.csv\"") | .text' | grep -c 13800138000)" "1"
expect "attach: opaque part sniffed by content" "$(q '.segments[] | select(.source=="attachment \"logo.dat\"") | "\(.opaque) \(.sniffed_type) \(.bytes)"')" "true image/png 66"

scan nested-rfc822.eml
expect "nested: message/rfc822 walked with its path" \
	"$(q '[.segments[].source] | map(select(startswith("attachment \"orig.eml\" > "))) | join(",")')" \
	'attachment "orig.eml" > header Subject,attachment "orig.eml" > body text/plain'

scan malformed.eml --text
expect "malformed: scanned, exit 0" "$?" "0"
expect "malformed: text after the NUL is still read" "$(q '[.segments[].text] | join(" ")' | grep -c 'after')" "1"

scan deep-nesting.eml
expect "deep: pass with unscannable depth" "$(q '"\(.verdict.action) \([.unscannable[].reason] | join(","))"')" "pass depth"
expect "deep: the reason is in the verdict" "$(q '.verdict.reasons | join(",")')" "unscannable: depth"

printf 'spool_dir = "%s"\nmax_scan_size = 100K\n' "$work" >"$work/small.conf"
"$custos" scan -c "$work/small.conf" "$work/fx/large.eml" >"$work/out.json"
expect "large: not parsed, unscannable too-large" "$(q '"\(.parsed) \(.unscannable[0].reason) \(.unscannable[0].where)"')" "false too-large message"
expect "large: size is the whole message" "$(q .size)" "$(stat -c %s "$work/fx/large.eml")"

# Spooled to a file (memory limit 4K) gives the same segments as memory.
printf 'spool_dir = "%s"\nspool_memory_limit = 4K\n' "$work" >"$work/file.conf"
"$custos" scan -c "$work/file.conf" "$work/fx/multipart-attach.eml" | jq -c '.segments' >"$work/a"
"$custos" scan -c "$work/c.conf" "$work/fx/multipart-attach.eml" | jq -c '.segments' >"$work/b"
tap_check "file-spooled message reads the same as in memory" cmp -s "$work/a" "$work/b"

# stdin and several files: one line per message.
n=$("$custos" scan -c "$work/c.conf" - "$work/fx/plain.eml" <"$work/fx/gbk-base64.eml" | wc -l)
expect "stdin and a file: two JSON lines" "$n" "2"

# Random bytes are not a message, but still get a verdict.
head -c 20000 /dev/urandom >"$work/fx/random.bin"
scan random.bin
expect "random bytes: exit 0 and a verdict" "$?:$(q .verdict.action)" "0:pass"

# A name and a company that six customers share name none of them; the
# mobile of one of them names that one.
{
	echo "id,name,mobile,company"
	for i in 1 2 3 4 5 6; do echo "A$i,王芳,1370013700$i,长城贸易有限公司"; done
} >"$work/amb.csv"
cat >"$work/amb.conf" <<EOF
spool_dir = "$work"
key_file = "$work/amb.key"
database = "$work/amb.db"
list "customers" {
	file = "$work/amb.csv"
	field "mobile" { kind = "mobile" }
	field "name" { kind = "name" }
	field "company" { kind = "company" }
}
EOF
"$custos" compile -c "$work/amb.conf" >/dev/null 2>&1
printf 'Subject: x\n\n联系人：王芳，长城贸易有限公司\n' |
	"$custos" scan -c "$work/amb.conf" - >"$work/out.json"
expect "shared name and company: no record, one ambiguous match" \
	"$(q '"\(.findings.records) \(.findings.weak_ambiguous)"')" "0 1"
printf 'Subject: x\n\n联系人：王芳，长城贸易，电话 137-0013-7004\n' |
	"$custos" scan -c "$work/amb.conf" - >"$work/out.json"
expect "a mobile near them: that customer, with name and company" \
	"$(q '"\(.findings.records) \(.findings.record_ids[0].id) \(.findings.kinds.name) \(.findings.kinds.company)"')" "1 A4 1 1"
tap_check "no name or company in clear in the findings" \
	bash -c "! jq -c .findings '$work/out.json' | grep -q '王芳\|长城'"

# Values shared more widely (here by 100 customers) are linked to the
# records other evidence points to instead of being expanded: three
# customers hold both 李娜 and 东方物流, 97 more each one of them.
{
	echo "id,name,mobile,company"
	for i in $(seq 1 100); do
		if [ "$i" -le 3 ]; then c=东方物流; else c="公司$i"; fi
		echo "L$i,李娜,1390013$(printf %04d "$i"),$c"
		[ "$i" -le 3 ] || echo "M$i,客户$i,1360013$(printf %04d "$i"),东方物流"
	done
} >"$work/wide.csv"
sed "s/amb\./wide./g" "$work/amb.conf" >"$work/wide.conf"
"$custos" compile -c "$work/wide.conf" >/dev/null 2>&1
printf 'Subject: x\n\n联系人：李娜，东方物流\n' |
	"$custos" scan -c "$work/wide.conf" - >"$work/out.json"
expect "widely shared name and company: the three customers holding both" \
	"$(q '"\(.findings.records) \([.findings.record_ids[].id] | sort | join(","))"')" \
	"3 L1,L2,L3"
printf 'Subject: x\n\n李娜 手机 13900130050\n' |
	"$custos" scan -c "$work/wide.conf" - >"$work/out.json"
expect "a mobile names one of the 100 sharing the name, with its name" \
	"$(q '"\(.findings.records) \(.findings.record_ids[0].id) \(.findings.kinds.name) \(.findings.kinds.company // 0)"')" \
	"1 L50 1 0"

"$custos" scan -c "$work/c.conf" /nonexistent.eml >/dev/null 2>"$work/err"
expect "missing file: exit 1 with its name" "$?:$(grep -c /nonexistent.eml "$work/err")" "1:1"

tap_done
