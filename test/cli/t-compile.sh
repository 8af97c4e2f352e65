#!/usr/bin/env bash
# t-compile.sh - `custos compile` and `custos scan` with a customer list:
# the build, its summary and bad rows, a failed build that keeps the old
# table, a corrupt table refused, and the 50-record GBK message found
# with exactly 50 records; nothing custos prints shows a list value.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../e2e/lib.sh"

command -v jq >/dev/null || tap_skip_all "jq is not installed"
custos=$top_builddir/custos
work=$(mktemp -d /tmp/custos-compile.XXXXXX)
trap 'rm -rf "$work"' EXIT
python3 "$top_srcdir/test/fixtures/make-fixtures.py" "$work/fx" || exit 1
fx=$work/fx
cp "$fx/customers.csv" "$work/list.csv"
{
	echo "spool_dir = \"$work\""
	e2e_list_conf "$work" "$work/list.csv"
} >"$work/c.conf"
expect() {
	if [ "$2" = "$3" ]; then tap_ok "$1"; else tap_fail "$1" "got:  $2" "want: $3"; fi
}

tap_plan 18

"$custos" compile -c "$work/c.conf" >"$work/out" 2>"$work/err"
expect "compile: exit 0" "$?" "0"
expect "compile: 200 records" "$(grep -c '200 rows, 0 bad, 200 records' "$work/out")" "1"
expect "compile: the key file is made, mode 600" "$(stat -c %a "$work/list.key")" "600"
version=$(sed -n 's/.*version \([^ ]*\)$/\1/p' "$work/out")

"$custos" scan -c "$work/c.conf" "$fx/gbk-50-records.eml" >"$work/scan.json"
q() { jq -r "$1" "$work/scan.json"; }
expect "GBK base64 full-width message: exactly 50 records" "$(q .findings.records)" "50"
expect "... all from the list customers" "$(q .findings.per_list.customers)" "50"
expect "... record ids C00001..C00050" "$(q '[.findings.record_ids[].id] | join(",")')" \
	"$(seq -f 'C%05g' 1 50 | paste -sd,)"
expect "... found in the body" "$(q '[.findings.record_ids[].where] | unique | join(",")')" "body text/plain"
expect "... the verdict names the list version" "$(q .findings.list_version)" "$version"
expect "... samples are masked" "$(q '.findings.samples[0].sample')" "139****7919"
expect "... the keyword 内部资料 is seen" "$(q '.findings.keywords["内部资料"]')" "1"

# Nothing custos printed holds a value of the list in clear.
cut -d, -f2-6 "$work/list.csv" | tail -n +2 | tr ',' '\n' | sort -u >"$work/values"
expect "no list value in the scan output or the compile output" \
	"$(cat "$work/scan.json" "$work/out" "$work/err" | grep -c -F -f "$work/values")" "0"

# Bad rows are reported with their lines, the build goes on.
printf 'C09999,x,13900000001,,,,\n,no id,13900000002,,,,\n"C0998,broken\n' >>"$work/list.csv"
"$custos" compile -c "$work/c.conf" >"$work/out" 2>"$work/err"
expect "bad rows: reported with file and line" "$(grep -c "list.csv:203: no record id" "$work/err")" "1"
expect "bad rows: counted, the others built" "$(grep -c '203 rows, 2 bad, 201 records' "$work/out")" "1"

# A build that fails leaves the working table alone.
cp "$work/lists.db" "$work/good.db"
sed -i 's/field "name"/field "nom"/' "$work/c.conf"
"$custos" compile -c "$work/c.conf" >/dev/null 2>"$work/err"
expect "a failed build says why and exits 1" "$?:$(grep -c 'no column "nom"' "$work/err")" "1:1"
tap_check "... and the table is untouched" cmp -s "$work/lists.db" "$work/good.db"
sed -i 's/field "nom"/field "name"/' "$work/c.conf"

# A corrupt table is refused with a clear reason by the checks that read
# it whole (sources gone: no rebuild).
printf 'X' | dd of="$work/lists.db" bs=1 seek=5000 conv=notrunc 2>/dev/null
mv "$work/list.csv" "$work/list.away"
"$custos" check-config -c "$work/c.conf" >/dev/null 2>"$work/err"
expect "check-config refuses a corrupt table" "$?:$(grep -c 'corrupt' "$work/err")" "1:1"
"$top_builddir/custos-milter" -t -c "$work/c.conf" >/dev/null 2>"$work/err"
expect "custos-milter -t refuses it too" "$?:$(grep -c 'corrupt' "$work/err")" "1:1"
# A truncated one is refused even by the milter's quick load.
truncate -s 3000 "$work/lists.db"
"$custos" scan -c "$work/c.conf" "$fx/plain.eml" >/dev/null 2>"$work/err"
expect "a truncated table is refused at load" "$?:$(grep -c 'truncated' "$work/err")" "78:1"

tap_done
