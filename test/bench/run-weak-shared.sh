#!/bin/sh
# run-weak-shared.sh - weak fields on a list where hundreds of customers
# share each name and company (doc/performance.md, "Weak fields (fourth
# round)"): make-fixtures.py's customer() list of 100,000 records, a
# message naming 200 of them (name, company, mobile, e-mail), and a
# hostile 1 MB text made only of shared names and companies.  Times
# `custos scan` over 1 and over 101 copies of the message (the difference
# / 100 is one message without the load) and the hostile text once.
#
#   [BUILD=dir] test/bench/run-weak-shared.sh
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
b="${BUILD:-$top/build/plain}"
w=$(mktemp -d /tmp/custos-weak-shared.XXXXXX)
trap 'rm -rf "$w"' EXIT
make -C "$b" -j2 custos >/dev/null
python3 - "$top/test/fixtures/make-fixtures.py" "$w" <<'PY'
import importlib.util, random, sys
spec = importlib.util.spec_from_file_location("mf", sys.argv[1])
mf = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mf)
w = sys.argv[2]
open(w + "/list.csv", "w").write(mf.customers_csv(100000))
random.seed(1)
filler = "这是一段普通的业务说明文字，用来填充邮件正文。" * 10
lines = []
for n in random.sample(range(1, 100001), 200):
    c = mf.customer(n)
    lines.append("%s，%s，手机 %s，邮箱 %s。 %s" % (c["name"], c["company"],
                 c["mobile"], c["email"], filler))
head = ("From: a@example.com\nTo: b@example.org\nSubject: list\n"
        "Content-Type: text/plain; charset=utf-8\n\n")
open(w + "/msg.eml", "w").write(head + "\n".join(lines) + "\n")
random.seed(2)
cs = [mf.customer(n) for n in range(1, 2000)]
parts, size = [], 0
while size < 1000000:
    c = random.choice(cs)
    p = random.choice([c["name"], c["company"], c["name"] + " "])
    parts.append(p)
    size += len(p.encode())
open(w + "/hostile.eml", "w").write(head + "".join(parts) + "\n")
PY
cat >"$w/c.conf" <<CONF
spool_dir = "$w"
key_file = "$w/list.key"
database = "$w/lists.db"
list "customers" {
	file = "$w/list.csv"
	field "name" { kind = "name" }
	field "mobile" { kind = "mobile" }
	field "email" { kind = "email" }
	field "id_no" { kind = "cn_id" }
	field "company" { kind = "company" }
}
CONF
"$b/custos" compile -c "$w/c.conf" >/dev/null 2>&1
for i in $(seq 1 100); do cp "$w/msg.eml" "$w/m$i.eml"; done
cpu() { /usr/bin/time -f "%U %S" "$@" 2>&1 >/dev/null | awk '{print $1 + $2}'; }
echo "# findings: $("$b/custos" scan -c "$w/c.conf" "$w/msg.eml" |
	jq -c '.findings | {records, weak_ambiguous, kinds}')"
for r in 1 2 3; do
	one=$(cpu "$b/custos" scan -c "$w/c.conf" "$w/msg.eml")
	many=$(cpu "$b/custos" scan -c "$w/c.conf" "$w/msg.eml" "$w"/m*.eml)
	echo "message: $(echo "$one $many" | awk '{printf "%.2f", ($2 - $1) * 1000 / 100}') ms CPU (1 copy ${one} s, 101 copies ${many} s)"
done
echo "hostile: $(/usr/bin/time -f '%U+%S s CPU, %M KB peak RSS' \
	"$b/custos" scan -c "$w/c.conf" "$w/hostile.eml" 2>&1 >"$w/h.json")" \
	"$(jq -c '.findings | {records, weak_ambiguous, weak_truncated}' "$w/h.json")"
