#!/bin/bash
# run-e2e.sh - custos behind a real Postfix: throughput, CPU, latency and
# memory, against no milter and a pass-through milter in the same run.
# Not a test: prints markdown tables (for doc/performance.md) on stdout,
# progress ("# ") on stderr.
#
#   sudo test/bench/run-e2e.sh          the standard set, 7-10 minutes
#   sudo ROUNDS=1 MSGS=100 LAT=30 MEM_CONNS=50 test/bench/run-e2e.sh  quick
#
# Everything runs on 127.0.0.1, private, set up and torn down with
# test/e2e/lib.sh (sourced, as contrib/quickstart.sh does):
#   Postfix    lib.sh's private instance.  Its main.cf has in_flow_delay =
#              0s, so smtpd never paces a client to the queue manager's
#              speed; queue files are fsync()ed as always.  It relays
#              everything to
#   smtp-sink  Postfix's own test sink, which throws the mail away;
#   Redis      private, custos' history store (store = "redis"), over
#              TCP loopback (REDIS_VIA=unix: its unix socket, redis {
#              socket });
#   the milter none; test/bench/passthrough-milter -D (accepts everything,
#              keeps the DATA step as custos does, so neither waits for a
#              delayed ACK over TCP; see doc/performance.md); "ptnr", the
#              same with -N: it also asks, as custos does, for no replies
#              to the steps before DATA and before end of message
#              (SMFIP_NR_*), the baseline with custos' protocol; or a copy of
#              build/plain/custos-milter on conf/demo.conf (add_header =
#              true, log_level info to a file) plus a generated customer
#              list of RECORDS records (compiled with `custos compile`),
#              the rules "records >= 20 to external: reject" and "records
#              >= 1: tag", and an audit log;
#   on unix: or inet: (Postfix's smtpd connects once per SMTP session);
#   or rspamd (when installed; Debian's rspamd package), for comparison:
#              its proxy worker in milter mode scanning itself
#              (self_scan), inet: only, a minimal configuration written
#              here (no rules, no DNS), the multimap module with one
#              content regexp map of identifier shapes (mainland mobile
#              numbers, resident ID numbers) scoring 20 against reject at
#              15: any hit rejects.  A shape map is what rspamd offers
#              for DLP; it does not know the customer list.  "rspamd" is
#              the issue's setup: also the ratelimit module, one bucket
#              per envelope sender in the private Redis (as custos
#              counts senders there), too large ever to fill;
#              "rspamd-bare" is the shape map alone.
#
# Messages (LF line ends on disk; smtp-source sends them with CRLF):
#   clean  5 KB of prose, no identifiers: passes;
#   records  100 KB, 200 records of the generated list among prose:
#            rejected at end of DATA;
#   mix    multipart: text, HTML, and a 300 KB xlsx (5 records of the
#          list among inventory rows): tagged, passes.  The same xlsx
#          every time, so custos reads it once (limits { extract_cache });
#          "custos-nocache" is custos with the cache off, reading it
#          every time, as a file never seen before: its ratios are the
#          row "mix-nocache".
#
# Every row (milter x socket x message) is measured ROUNDS times, the
# rounds one after the other over all rows (the box is shared: load
# from others comes and goes), and each figure is the best of its
# rounds.  Per milter, socket and round, the milter is started fresh
# and takes the three messages in turn; per row and round:
#   msg/s     Postfix's smtp-source, CONC sessions, MSGS messages, a new
#             SMTP session per message, from start to exit (the moment
#             Postfix answered the last end of DATA; delivery to the sink
#             goes on behind, and the queue is drained before anything
#             else is measured);
#   CPU ms/msg  utime+stime (/proc/PID/stat) of the milter's processes
#             (custos: supervisor and worker) over the smtp-source run,
#             divided by MSGS; Postfix's the same for the master and its
#             children (reaped ones through the master's cutime+cstime),
#             including delivery to the sink; Redis' likewise;
#   latency   smtp-source prints none, so a small Python client sends LAT
#             messages one after the other, each in its own SMTP session,
#             and times connect to the reply to end of DATA (the milter's
#             connect, HELO, envelope, body and end of message all fall
#             inside); "added" is the milter row's percentile minus the
#             same percentile of the no-milter row for that message;
#   RSS MB    the largest VmHWM among the milter's processes, reset to
#             the current RSS before the row (so it is the row's peak, or
#             what earlier rows left resident); the highest of the
#             rounds.
#
# Memory bound (MEM_CONNS > 0): test/bench/milter-load against a fresh
# custos-milter on a unix socket, no Postfix: one connection, then
# MEM_CONNS connections at once, each sending one MEM_MB MB plain-text
# message (prose, passes).  Reports the worker's VmHWM and the peaks of
# RssAnon and RssFile sampled every 0.2 s (the spool keeps
# spool_memory_limit of a message in memory, the rest in an unlinked
# file in spool_dir, mapped when parsed, so it shows up as RssFile).
# Stopped if RSS passes MEM_CAP_MB.
#
# Environment: ROUNDS (2), MSGS (messages per throughput row and round,
# 200), CONC (smtp-source sessions, 8), LAT (sequential sends per latency
# row and round, 80), RECORDS (customer list size, 100000), MILTERS
# ("none pt ptnr custos custos-nocache rspamd rspamd-bare"; the rspamd
# ones are skipped when rspamd is not installed; custos-nocache runs the
# mix only),
# SOCKETS ("unix inet"), KINDS ("clean records mix"), RSPAMD_KINDS
# (records), MEM_CONNS (500; 0 skips the memory test), MEM_MB (10),
# MIX_VARIANTS (100 mix messages, each with a sheet of its own, for the
# cost of the attachment cache on files never seen before; 0 skips it),
# MEM_CAP_MB (12000), REDIS_VIA (tcp, or unix), KEEP=1 keeps the work
# directory (E2E_KEEP), E2E_DIR as in lib.sh.  Needs root (a private
# Postfix), postfix (smtp-source, smtp-sink), redis-server, python3, cc
# and libmilter-dev.  Exits 1 when something cannot be set up.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
b="$top/build/plain"
MSGS=${MSGS:-200}
CONC=${CONC:-8}
LAT=${LAT:-80}
ROUNDS=${ROUNDS:-2}
RECORDS=${RECORDS:-100000}
MILTERS=${MILTERS:-"none pt ptnr custos custos-nocache rspamd rspamd-bare"}
SOCKETS=${SOCKETS:-"unix inet"}
KINDS=${KINDS:-"clean records mix"}
RSPAMD_KINDS=${RSPAMD_KINDS:-records}
MEM_CONNS=${MEM_CONNS:-500}
MIX_VARIANTS=${MIX_VARIANTS:-100}
MEM_MB=${MEM_MB:-10}
MEM_CAP_MB=${MEM_CAP_MB:-12000}
REDIS_VIA=${REDIS_VIA:-tcp}
case $REDIS_VIA in tcp|unix) ;; *) echo "REDIS_VIA: tcp or unix" >&2; exit 1 ;; esac
[ "${KEEP:-0}" = 1 ] && export E2E_KEEP=1
HZ=$(getconf CLK_TCK)

# shellcheck source=test/e2e/lib.sh
. "$top/test/e2e/lib.sh"

note() {
	echo "# [${SECONDS}s] $*" >&2
}

die() {
	echo "run-e2e: $*" >&2
	exit 1
}

# ------------------------------------------------------ prerequisites

_e2e_find_programs
SBIN=$(dirname "$POSTFIX")
SMTP_SOURCE=$(command -v smtp-source || true)
SMTP_SINK=$(command -v smtp-sink || true)
for d in "$SBIN" /usr/lib/postfix/sbin; do
	[ -n "$SMTP_SOURCE" ] || { [ -x "$d/smtp-source" ] && SMTP_SOURCE=$d/smtp-source; }
	[ -n "$SMTP_SINK" ] || { [ -x "$d/smtp-sink" ] && SMTP_SINK=$d/smtp-sink; }
done
[ "$(id -u)" -eq 0 ] || die "run as root (a private Postfix needs root)"
for p in "$POSTFIX" "$REDIS_SERVER" "$PYTHON3" "$SMTP_SOURCE" "$SMTP_SINK" cc; do
	[ -x "$(command -v "$p" 2>/dev/null)" ] || die "missing: ${p:-smtp-source/smtp-sink}"
done

e2e_setup || die "cannot set up a work directory"
MPID=""
SINK_PID=""
bench_cleanup() {
	local rc=$?
	e2e_stop_milter >/dev/null 2>&1
	[ -n "$SINK_PID" ] && _e2e_terminate "$E2E/smtp-sink.pid" smtp-sink 5
	(exit "$rc")
	_e2e_cleanup
}
trap bench_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# -------------------------------------------------------------- build

mkdir -p "$E2E/bin" "$E2E/msg" "$E2E/big"
cc -O2 -Wall -o "$E2E/bin/milter-load" "$top/test/bench/milter-load.c" \
    -lpthread || die "cannot build milter-load"
cc -O2 -Wall -o "$E2E/bin/passthrough-milter" \
    "$top/test/bench/passthrough-milter.c" -lmilter -lpthread ||
    die "cannot build passthrough-milter"
# Others rebuild build/plain now and then: wait for binaries that run,
# and use copies.
for i in $(seq 60); do
	if "$b/custos-milter" --version >/dev/null 2>&1 &&
	    "$b/custos" --version >/dev/null 2>&1; then
		cp "$b/custos-milter" "$b/custos" "$E2E/bin/" && break
	fi
	[ "$i" = 1 ] && note "waiting for $b/custos-milter and custos (being rebuilt?)"
	sleep 5
done
[ -x "$E2E/bin/custos-milter" ] || die "no usable $b/custos-milter"

# ----------------------------------------------------- list, messages

"$PYTHON3" - "$top" "$E2E" "$RECORDS" "$MEM_MB" "$MIX_VARIANTS" <<'EOF' || die "cannot write the messages"
import importlib.util, io, os, random, sys

top, out, nrec, mem_mb = sys.argv[1], sys.argv[2], int(sys.argv[3]), \
    float(sys.argv[4])
variants = int(sys.argv[5])
spec = importlib.util.spec_from_file_location(
    "fixtures", os.path.join(top, "test", "fixtures", "make-fixtures.py"))
fx = importlib.util.module_from_spec(spec)
spec.loader.exec_module(fx)

# The list: make-fixtures.py's customer(n), n = 1..nrec, the last one a
# canary (never sent), with a wider name pool and companies that do not
# depend on the name.  customer()'s names repeat every 120 records and
# its company is made of the name, so at 100k records every name and
# company pair stands for ~830 records: custos finds such a pair
# ambiguous (weak_max_records) and counts the 200 records by their
# strong fields, but the weak fields' work would not be what a real list
# gives.  Here: 11,520 names (~9 records each), 5,760 companies spread
# by a multiplicative hash; no two records share both.
CITIES_CN = ["北京", "上海", "广州", "深圳", "杭州", "南京", "成都", "武汉",
             "西安", "苏州"]


def customer(n):
    c = fx.customer(n)
    s, g = fx.SURNAMES, fx.GIVEN
    c["name"] = (s[n % len(s)] + g[(n // len(s)) % len(g)] +
                 g[(n // (len(s) * len(g))) % len(g)])
    k = ((n * 2654435761) % 2 ** 32) >> 8
    c["company"] = "%s市%s%s科技有限公司" % (
        CITIES_CN[k % 10], g[(k // 10) % len(g)], g[(k // 240) % len(g)])
    return c


with open(os.path.join(out, "customers.csv"), "w", encoding="utf-8") as fp:
    fp.write("id,name,mobile,email,id_no,company,canary\n")
    for n in range(1, nrec + 1):
        c = customer(n)
        fp.write(",".join([c["id"], c["name"], c["mobile"], c["email"],
                           c["id_no"], c["company"],
                           "1" if n == nrec else ""]) + "\n")

PROSE = [
    "Thank you for the notes from the planning meeting. The team agreed "
    "to move the review to the week after next, so that the regional "
    "offices have time to send their comments.",
    "关于下季度的市场计划，我们建议先完成渠道调研，再确定推广预算。"
    "请各部门在月底前提交意见，以便汇总后报送管理层审议。",
    "The logistics partner confirmed that the new warehouse layout is in "
    "use. Picking times are shorter and the error rate has dropped, "
    "according to the weekly report from the site manager.",
    "财务部提醒各位同事，报销单据请按新的流程提交，附上完整的审批记录。"
    "如有疑问，请联系财务共享中心。",
    "Please treat the attached draft as work in progress; the legal team "
    "has not reviewed the wording of the service terms yet.",
]


def headers(subject, mid, ctype="text/plain; charset=utf-8",
            cte="8bit"):
    h = ("From: Zhang Wei <zhang.wei@example.com>\n"
         "To: Partner <partner@example.net>\n"
         "Subject: " + subject + "\n"
         "Date: Mon, 30 Nov 2026 09:00:00 +0800\n"
         "Message-ID: <" + mid + "@example.com>\n"
         "MIME-Version: 1.0\n"
         "Content-Type: " + ctype + "\n")
    if cte:
        h += "Content-Transfer-Encoding: " + cte + "\n"
    return h + "\n"


def filler(size, start=0):
    text, i = "", start
    while len(text.encode()) < size:
        text += PROSE[i % len(PROSE)] + "\n\n"
        i += 1
    return text


def write(name, text):
    with open(os.path.join(out, name), "wb") as fp:
        fp.write(text.encode("utf-8") if isinstance(text, str) else text)


# clean: 5 KB of prose.
m = headers("planning notes", "bench-clean") + "Hello,\n\n"
m += filler(5 * 1024 - len(m.encode()) - 20) + "Regards,\nZW\n"
write("msg/clean.eml", m)

# records: 100 KB, 200 records spread over the list.
body = "客户名单 Customer list, as requested:\n\n"
for i in range(200):
    c = customer(1 + (i * 499) % (nrec - 1))
    body += "%s  %s  %s  %s  %s\n" % (c["id"], c["name"], c["mobile"],
                                      c["email"], c["company"])
    if i % 10 == 9:
        body += "\n" + PROSE[i % len(PROSE)] + "\n\n"
m = headers("customer list", "bench-records") + body
pad = 100 * 1024 - len(m.encode()) - 20
m += ("\n" + filler(pad) if pad > 0 else "") + "Regards,\nZW\n"
write("msg/records.eml", m)

# mix: text, HTML, a 300 KB xlsx of inventory rows with 5 customers.
rng = random.Random(42)
WORDS = ("steel bracket hinge valve cable gasket panel motor sensor "
         "switch pump filter bearing fan relay housing clamp spring "
         "washer bolt nut frame cover module adapter").split()
CITIES = ("Shenzhen Guangzhou Dongguan Foshan Xiamen Suzhou Ningbo "
          "Hangzhou Tianjin Qingdao").split()


def sheet_rows(n, seed=7):
    rows = [["SKU", "Item", "Warehouse", "Qty", "Unit price", "Updated"]]
    r = random.Random(seed)
    for i in range(n):
        rows.append(["%s-%04d" % ("".join(r.choice("ABCDEFGHJKLMNPRSTUVWXYZ")
                                          for _ in range(3)), r.randrange(10000)),
                     " ".join(r.choice(WORDS) for _ in range(r.randint(2, 4))),
                     r.choice(CITIES), str(r.randint(1, 9999)),
                     "%d.%02d" % (r.randint(1, 999), r.randrange(100)),
                     "2026-%02d-%02d" % (r.randint(1, 12), r.randint(1, 28))])
    for k, n_ in enumerate((4242, 17017, 33333, 50505, 77777)):
        c = customer(1 + n_ % (nrec - 1))
        rows.insert(10 + k * 50, ["contact", c["name"], c["email"],
                                  c["mobile"], "", ""])
    return rows


n, target = 2000, 300 * 1024
while True:
    x = fx.xlsx("inventory", sheet_rows(n))
    if len(x) >= target:
        break
    n = int(n * max(1.05, target / len(x)))
rows = n
html = ("<html><head><style>p{font-family:sans-serif}</style></head><body>"
        + "".join("<p>%s</p>" % p for p in PROSE * 3) +
        "<table><tr><td>Regards,</td></tr><tr><td>ZW</td></tr></table>"
        "</body></html>")


def mix_message(x, mid):
    m = headers("inventory for Q4", mid,
                'multipart/mixed; boundary="mix-outer"', None)
    return m + ("This is a multi-part message in MIME format.\n"
        "--mix-outer\n"
        'Content-Type: multipart/alternative; boundary="mix-alt"\n\n'
        "--mix-alt\nContent-Type: text/plain; charset=utf-8\n"
        "Content-Transfer-Encoding: 8bit\n\n" + filler(2000) +
        "--mix-alt\nContent-Type: text/html; charset=utf-8\n"
        "Content-Transfer-Encoding: 8bit\n\n" + html + "\n"
        "--mix-alt--\n"
        "--mix-outer\n"
        "Content-Type: application/vnd.openxmlformats-officedocument."
        'spreadsheetml.sheet; name="inventory.xlsx"\n'
        "Content-Transfer-Encoding: base64\n"
        'Content-Disposition: attachment; filename="inventory.xlsx"\n\n' +
        fx.b64(x) + "\n--mix-outer--\n")


write("msg/mix.eml", mix_message(x, "bench-mix"))
write("msg/mix.xlsx", x)
# The same message with another sheet each: files never seen before.
os.makedirs(os.path.join(out, "msg", "variants"), exist_ok=True)
for k in range(variants):
    write("msg/variants/%03d.eml" % k,
          mix_message(fx.xlsx("inventory", sheet_rows(rows, 1000 + k)),
                      "bench-mix-%d" % k))

# The memory test's message: MEM_MB MB of prose, plain text.
if mem_mb > 0:
    m = headers("long report", "bench-big")
    chunk = filler(64 * 1024)
    size = int(mem_mb * 10 ** 6)
    parts = [m]
    have = len(m.encode())
    while have < size:
        parts.append(chunk)
        have += len(chunk.encode())
    write("big/big.eml", "".join(parts))
EOF
for k in clean records mix; do
	note "message $k: $(wc -c <"$E2E/msg/$k.eml") bytes"
done
note "mix.xlsx: $(wc -c <"$E2E/msg/mix.xlsx") bytes; list: $RECORDS records; custos reaches Redis over $REDIS_VIA"

# custos: conf/demo.conf plus the list, the stop/quarantine settings of
# the e2e tests, the private Redis, and the rules.
{
	grep -v '^socket\|^spool_dir' "$top/conf/demo.conf"
	echo "spool_dir = \"$E2E\""
	e2e_list_conf "$E2E" "$E2E/customers.csv"
	e2e_stop_conf
	cat <<EOF
store = "redis"
redis {
$([ "$REDIS_VIA" = unix ] && echo "	socket = \"$E2E/redis/redis.sock\"")
	host = "127.0.0.1"
	port = $REDIS_PORT
}
internal_domains = {"example.com"}
rule "customers-outside" {
    records = 20  recipients = "external"
    action = "reject"  template = "records"
}
rule "any-customer" { records = 1  action = "tag" }
templates = "$top/conf/templates"
contact = "security@example.com"
audit_log = "$E2E/audit.log"
EOF
} >"$E2E/custos.conf"
# The same without the extraction cache: the mix message sends one xlsx
# again and again, which the cache reads once; this row reads it every
# time, as for a file never seen before.
grep -q '^limits' "$E2E/custos.conf" && die "custos.conf has a limits block: custos-nocache needs its own"
{ cat "$E2E/custos.conf"; echo "limits { extract_cache = 0 }"; } >"$E2E/custos-nocache.conf"
t0=$(date +%s.%N)
"$E2E/bin/custos" compile -c "$E2E/custos.conf" >"$E2E/compile.out" 2>&1 || {
	cat "$E2E/compile.out" >&2
	die "custos compile failed"
}
t1=$(date +%s.%N)
COMPILE_S=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
"$E2E/bin/custos-milter" -t -c "$E2E/custos.conf" >"$E2E/check.out" 2>&1 || {
	cat "$E2E/check.out" >&2
	die "custos-milter -t failed"
}
note "list compiled in $COMPILE_S s"

# rspamd: a configuration of its own, nothing from /etc/rspamd.  The
# Lua global functions are loaded (multimap needs them), no rules.
RSPAMD=$(command -v rspamd || true)
if [ -z "$RSPAMD" ] || ! getent passwd _rspamd >/dev/null; then
	RSPAMD=""
	MILTERS=$(echo " $MILTERS " | sed 's/ rspamd-bare / /; s/ rspamd / /')
	note "rspamd not installed (apt-get install rspamd): no rspamd rows"
else
	mkdir -p "$E2E/rspamd"
	cat >"$E2E/rspamd/dlp.map" <<'EOF'
/(?:^|[^0-9])1[3-9][0-9]{9}(?:[^0-9]|$)/
/(?:^|[^0-9])[1-9][0-9]{16}[0-9Xx](?:[^0-9]|$)/
EOF
	echo 'require "global_functions" ()' >"$E2E/rspamd/init.lua"
	# rspamd_conf NAME EXTRA: the configuration both setups share, EXTRA
	# (more modules' sections) after it, as $E2E/rspamd/NAME.conf.
	rspamd_conf() {
		cat >"$E2E/rspamd/$1.conf" <<EOF
options {
	pidfile = "$E2E/rspamd/$1.pid";
	filters = "";
	dns { nameserver = ["127.0.0.1:1"]; timeout = 0.1s; retransmits = 0; }
	tempdir = "$E2E/rspamd";
	url_tld = "/usr/share/rspamd/effective_tld_names.dat";
	cache_file = "$E2E/rspamd/symbols.cache";
}
logging { type = "file"; filename = "$E2E/rspamd/$1.log"; level = "notice"; }
worker "rspamd_proxy" {
	bind_socket = "127.0.0.1:$MILTER_PORT";
	milter = yes;
	timeout = 120s;
	count = 1;
	upstream "local" { default = yes; self_scan = yes; }
	reject_message = "DLP: customer data";
}
lua = "$E2E/rspamd/init.lua";
modules { path = "/usr/share/rspamd/plugins"; }
actions { reject = 15; add_header = 6; greylist = null; }
multimap {
	DLP_SHAPES {
		type = "content";
		filter = "text";
		map = "$E2E/rspamd/dlp.map";
		regexp = true;
		score = 20.0;
	}
}
$2
EOF
	}
	# The issue's setup: the shape map and a Redis rate limit per
	# envelope sender (custos counts each sender in Redis too).  Its
	# bucket, a million messages filling at a million a second, never
	# overflows: it costs the Redis round trips and never soft-rejects
	# (the outcome column shows it).
	rspamd_conf rspamd "redis { servers = \"127.0.0.1:$REDIS_PORT\"; }
ratelimit {
	rates {
		sender = {
			selector = \"from('smtp'):addr\";
			bucket = { burst = 1000000; rate = \"1000000 / 1s\"; }
		}
	}
}"
	# The shape map alone.
	rspamd_conf rspamd-bare ""
	chown -R _rspamd: "$E2E/rspamd"
fi

# --------------------------------------------------- the world

e2e_start_redis || die "redis did not start"
# smtp-sink wants an unprivileged user when started as root.
_e2e_spawn "$E2E/smtp-sink.log" "$SMTP_SINK" -u nobody \
    "127.0.0.1:$SINK_PORT" 256
SINK_PID=$!
echo "$SINK_PID" >"$E2E/smtp-sink.pid"
e2e_wait_port "$SINK_PORT" 10 || die "smtp-sink did not start"
e2e_start_postfix || { e2e_dump_logs 20 >&2; die "postfix did not start"; }
# smtpd processes live long: let a reload take effect in one go.
"$POSTCONF" -c "$E2E/postfix" -e "smtpd_milters=" "non_smtpd_milters=" ||
    die "postconf failed"
e2e_postfix_reload || die "postfix reload failed"

# ------------------------------------------------------------ helpers

# The milter's processes: the one started and its children (custos'
# worker).
milter_pids() {
	[ -n "$MPID" ] || return 0
	echo "$MPID" $(pgrep -P "$MPID" 2>/dev/null)
}

# ticks [-c] PID... : utime+stime (with -c also cutime+cstime) of the
# PIDs, in clock ticks; one awk for all (Postfix has many processes).
ticks() {
	local c=0
	if [ "${1:-}" = -c ]; then
		c=1
		shift
	fi
	[ $# -gt 0 ] || { echo 0; return; }
	# One cat: it goes on past processes that have gone.
	# shellcheck disable=SC2046
	cat $(printf '/proc/%s/stat ' "$@") 2>/dev/null | awk -v c="$c" '
		# After "pid (comm) ": field 12 utime, 13 stime, 14 cutime,
		# 15 cstime.
		{ sub(/^.*\) /, ""); t += $12 + $13 + (c ? $14 + $15 : 0) }
		END { print t + 0 }'
}

milter_ticks() {
	# shellcheck disable=SC2046
	ticks $(milter_pids)
}

# Postfix: the master with its reaped children, plus the live ones.
postfix_ticks() {
	local m
	m=$(_e2e_master_pid) || { echo 0; return; }
	echo $(($(ticks -c "$m") + $(ticks $(pgrep -P "$m"))))
}

redis_ticks() {
	ticks "$(_e2e_readpid "$E2E/redis/redis.pid")"
}

# ms_per TICKS MSGS: CPU ms per message.
ms_per() {
	awk -v d="$1" -v hz="$HZ" -v n="$2" \
	    'BEGIN { if (n > 0) printf "%.2f", d * 1000 / hz / n; else print "-" }'
}

# Peak RSS in MB of the milter's largest process.
peak_rss() {
	local p kb max=0
	for p in $(milter_pids); do
		kb=$(awk '/^VmHWM/ { print $2 }' "/proc/$p/status" 2>/dev/null)
		[ -n "$kb" ] && [ "$kb" -gt "$max" ] && max=$kb
	done
	awk -v k="$max" 'BEGIN { printf "%.1f", k / 1024 }'
}

# start_milter NAME SPEC: pt, ptnr or custos on SPEC (unix:/path or
# inet:PORT@127.0.0.1), its pid where lib.sh's e2e_stop_milter finds it.
# Up when milter-load got a message through (this also warms it up).
start_milter() {
	local name=$1 spec=$2 i path tries=300
	local -a cmd
	case $name in
	pt) cmd=("$E2E/bin/passthrough-milter" -D -p "$spec") ;;
	ptnr) cmd=("$E2E/bin/passthrough-milter" -D -N -p "$spec") ;;
	custos) cmd=("$E2E/bin/custos-milter" -f -c "$E2E/custos.conf" -p "$spec") ;;
	custos-nocache) cmd=("$E2E/bin/custos-milter" -f -c \
	    "$E2E/custos-nocache.conf" -p "$spec") ;;
	# Its socket is in its configuration; it compiles the public
	# suffix list at start (~10 s).
	rspamd|rspamd-bare)
		cmd=("$RSPAMD" -f -c "$E2E/rspamd/$name.conf" -u _rspamd -g _rspamd)
		tries=1200 ;;
	esac
	case $spec in unix:*) path=${spec#unix:}; rm -f "$path" ;; esac
	_e2e_spawn "$E2E/$name.log" "${cmd[@]}"
	MPID=$!
	echo "$MPID" >"$E2E/milter.bgpid"
	for i in $(seq "$tries"); do
		_e2e_alive "$MPID" || break
		if "$E2E/bin/milter-load" -q -s "$spec" -n 10 -T 10 \
		    "$E2E/msg/clean.eml" "$E2E/msg/records.eml" >/dev/null 2>&1 &&
		    _e2e_alive "$MPID"; then
			# Postfix' smtpd (user postfix) connects to it.
			[ -n "${path:-}" ] && chgrp postfix "$path" && chmod 660 "$path"
			return 0
		fi
		sleep 0.1
	done
	tail -n 20 "$E2E/$name.log" >&2
	die "$name did not come up on $spec"
}

stop_milter() {
	e2e_stop_milter >/dev/null 2>&1 || note "milter needed SIGKILL"
	MPID=""
}

# wait_drain: until the private queue is empty (2 min at most).
wait_drain() {
	local i
	for i in $(seq 1200); do
		[ "$(e2e_postqueue_count)" -eq 0 ] && return 0
		sleep 0.1
	done
	note "queue not empty after 120 s: $(e2e_postqueue_count) messages"
	return 1
}

# source_run N FILE: smtp-source, CONC sessions, N messages of FILE.
source_run() {
	"$SMTP_SOURCE" -A -s "$CONC" -m "$1" -f sender@example.com \
	    -t partner@example.net -M bench.example.com -F "$2" \
	    "127.0.0.1:$SMTP_PORT" >>"$E2E/smtp-source.out" 2>&1
}

# The latency client: N sequential SMTP sessions, each timed from
# connect to the reply to end of DATA.  Prints "p50 p99 n codes".
cat >"$E2E/bin/smtp-lat.py" <<'EOF'
import smtplib, sys, time
port, n, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
data = open(path, "rb").read().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
times, codes = [], {}
for i in range(n):
    t0 = time.perf_counter()
    s = smtplib.SMTP("127.0.0.1", port, local_hostname="bench.example.com",
                     timeout=120)
    try:
        s.sendmail("sender@example.com", ["partner@example.net"], data)
        code = 250
    except smtplib.SMTPResponseException as e:
        code = e.smtp_code
    times.append((time.perf_counter() - t0) * 1000)
    codes[code] = codes.get(code, 0) + 1
    try:
        s.quit()
    except smtplib.SMTPException:
        pass
times.sort()
pct = lambda p: times[min(len(times) - 1, int(p / 100 * (len(times) - 1) + 0.5))]
print("%.2f %.2f %d %s" % (pct(50), pct(99), len(times),
      ",".join("%d:%d" % kv for kv in sorted(codes.items()))))
EOF

# Per round results, by "milter|socket|kind#round"; the best round of
# each row, by "milter|socket|kind".
declare -A X_RATE X_CPU X_PCPU X_RCPU X_P50 X_P99 X_RSS X_OUT
declare -A R_RATE R_CPU R_P50 R_P99

# measure MILTER SOCKET KIND ROUND: one row, one round; the milter
# (already started, MPID) stays up.
measure() {
	local m=$1 sock=$2 kind=$3 file=$E2E/msg/$3.eml k=$1\|$2\|$3\#$4
	local c0 c1 p0 p1 r0 r1 t0 t1 p50 p99 n codes log0 sent rej
	note "round $4: $m $sock $kind: warm-up, $MSGS messages, $LAT timed"
	# Warm up: smtpd processes and the milter's threads.
	source_run "$CONC" "$file"
	wait_drain
	log0=$(wc -l <"$E2E/maillog")
	c0=$(milter_ticks) p0=$(postfix_ticks) r0=$(redis_ticks)
	t0=$(date +%s.%N)
	source_run "$MSGS" "$file"
	t1=$(date +%s.%N)
	c1=$(milter_ticks)
	wait_drain
	sleep 0.5 	# postlogd writes behind
	p1=$(postfix_ticks) r1=$(redis_ticks)
	X_RATE[$k]=$(awk -v a="$t0" -v b="$t1" -v n="$MSGS" 'BEGIN { printf "%.1f", n / (b - a) }')
	sent=$(tail -n +"$((log0 + 1))" "$E2E/maillog" | grep -c 'status=sent')
	rej=$(tail -n +"$((log0 + 1))" "$E2E/maillog" | grep -c 'milter-reject')
	X_CPU[$k]=-
	[ "$m" != none ] && X_CPU[$k]=$(ms_per $((c1 - c0)) "$MSGS")
	X_PCPU[$k]=$(ms_per $((p1 - p0)) "$MSGS")
	X_RCPU[$k]=$(ms_per $((r1 - r0)) "$MSGS")
	read -r p50 p99 n codes < <("$PYTHON3" "$E2E/bin/smtp-lat.py" \
	    "$SMTP_PORT" "$LAT" "$file")
	X_P50[$k]=$p50 X_P99[$k]=$p99
	wait_drain
	X_RSS[$k]=-
	[ "$m" != none ] && X_RSS[$k]=$(peak_rss)
	X_OUT[$k]="sent $sent, rejected $rej; latency replies $codes"
}

# run_config MILTER SOCKET KINDS ROUND: a fresh milter, Postfix pointed
# at it, and one measure for each message kind, the milter's peak RSS
# reset to its current RSS before each (/proc/PID/clear_refs).
run_config() {
	local m=$1 sock=$2 kinds=$3 round=$4 spec="" kind p
	case $m/$sock in
	none/*) e2e_set_milter "" ;;
	*/unix) spec=unix:$E2E/milter.sock
		e2e_set_milter "unix:$E2E/milter.sock" ;;
	*) spec=inet:$MILTER_PORT@127.0.0.1
		e2e_set_milter "inet:127.0.0.1:$MILTER_PORT" ;;
	esac || die "postfix reload failed"
	[ "$m" != none ] && start_milter "$m" "$spec"
	for kind in $kinds; do
		for p in $(milter_pids); do
			echo 5 >"/proc/$p/clear_refs" 2>/dev/null
		done
		measure "$m" "$sock" "$kind" "$round"
	done
	[ "$m" != none ] && stop_milter
	return 0
}

# The configurations: "milter socket kinds", one a line.
configs() {
	local m sock
	for m in $MILTERS; do
		case $m in
		none) echo "none - $KINDS" ;;
		rspamd|rspamd-bare) echo "$m inet $RSPAMD_KINDS" ;;
		# only the mix has an attachment to cache
		custos-nocache)
			[[ " $KINDS " == *" mix "* ]] || continue
			for sock in $SOCKETS; do echo "$m $sock mix"; done ;;
		*) for sock in $SOCKETS; do echo "$m $sock $KINDS"; done ;;
		esac
	done
}

# report_row MILTER SOCKET KIND: the table row, each figure the best of
# the rounds (msg/s the highest, CPU the lowest, latency that of the
# round with the lower p50, RSS the highest); fills R_*.
report_row() {
	local m=$1 sock=$2 kind=$3 key=$1\|$2\|$3 r k label
	local rate="" cpu="" pcpu="" rcpu="" p50="" p99="" rss="" rates="" out=""
	local add50=- add99=- n="none|-|$3"
	for r in $(seq "$ROUNDS"); do
		k=$key\#$r
		[ -n "${X_RATE[$k]:-}" ] || continue
		rates="$rates${rates:+ / }${X_RATE[$k]}"
		rate=$(awk -v a="$rate" -v b="${X_RATE[$k]}" 'BEGIN { print (a == "" || b + 0 > a + 0) ? b : a }')
		cpu=$(awk -v a="$cpu" -v b="${X_CPU[$k]}" 'BEGIN { print (a == "" || b + 0 < a + 0) ? b : a }')
		pcpu=$(awk -v a="$pcpu" -v b="${X_PCPU[$k]}" 'BEGIN { print (a == "" || b + 0 < a + 0) ? b : a }')
		rcpu=$(awk -v a="$rcpu" -v b="${X_RCPU[$k]}" 'BEGIN { print (a == "" || b + 0 < a + 0) ? b : a }')
		# Latency: the round with the lower p50, its p99 with it.
		if [ -z "$p50" ] || awk -v a="$p50" -v b="${X_P50[$k]}" 'BEGIN { exit !(b + 0 < a + 0) }'; then
			p50=${X_P50[$k]} p99=${X_P99[$k]}
		fi
		rss=$(awk -v a="$rss" -v b="${X_RSS[$k]}" 'BEGIN { print (a == "" || b + 0 > a + 0) ? b : a }')
		out=${X_OUT[$k]}
	done
	[ -n "$rate" ] || return 0
	R_RATE[$key]=$rate R_CPU[$key]=$cpu R_P50[$key]=$p50 R_P99[$key]=$p99
	if [ "$m" != none ] && [ -n "${R_P50[$n]:-}" ]; then
		add50=$(awk -v a="$p50" -v b="${R_P50[$n]}" 'BEGIN { printf "%+.2f", a - b }')
		add99=$(awk -v a="$p99" -v b="${R_P99[$n]}" 'BEGIN { printf "%+.2f", a - b }')
	fi
	case $m in
	none) label="no milter" ;;
	pt) label=passthrough ;;
	ptnr) label="passthrough -N" ;;
	rspamd) label="rspamd (shape map, Redis rate limit)" ;;
	rspamd-bare) label="rspamd (shape map only)" ;;
	custos-nocache) label="custos, extract_cache = 0" ;;
	*) label=$m ;;
	esac
	printf '| %s | %s | %s | %.0f | %s | %s | %s | %s | %s / %s | %s / %s | %s | %s |\n' \
	    "$label" "$sock" "$kind" "$rate" "$rates" "$cpu" "$pcpu" "$rcpu" \
	    "$p50" "$p99" "$add50" "$add99" "$rss" "$out"
}

# --------------------------------------------------------- main table

echo "# $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), $(free -g | awk '/^Mem:/ { print $2 }') GB; $("$E2E/bin/custos-milter" --version); Postfix $("$POSTCONF" -d -h mail_version); libmilter $(dpkg-query -W -f '${Version}' libmilter1.0.1 2>/dev/null || echo '?'); Redis $("$REDIS_SERVER" --version | sed 's/.*v=\([^ ]*\).*/\1/')${RSPAMD:+; rspamd $("$RSPAMD" --version | sed -n 's/.*version //p')}"
echo "# load average before: $(cut -d' ' -f1-3 /proc/loadavg) (the box is shared: numbers are noisy)"
echo "# list: $RECORDS records, compiled in $COMPILE_S s; messages: clean $(wc -c <"$E2E/msg/clean.eml") B, records $(wc -c <"$E2E/msg/records.eml") B, mix $(wc -c <"$E2E/msg/mix.eml") B (xlsx $(wc -c <"$E2E/msg/mix.xlsx") B)"
echo "# $ROUNDS rounds, each over every row in turn; per row the best round of each figure (msg/s highest, CPU lowest, latency the round with the lowest p50)"
echo "# throughput: smtp-source -s $CONC -m $MSGS (new session per message); latency: $LAT sequential sessions, connect to end-of-DATA reply; Postfix in_flow_delay = 0s"
for round in $(seq "$ROUNDS"); do
	while read -r m sock kinds; do
		run_config "$m" "$sock" "$kinds" "$round" </dev/null
	done < <(configs)
done
e2e_set_milter "" >/dev/null 2>&1
echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| milter | socket | message | msg/s | msg/s each round | milter CPU ms/msg | Postfix CPU ms/msg | Redis CPU ms/msg | p50 / p99 ms | added p50 / p99 ms | RSS MB | outcome (last round) |"
echo "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
while read -r m sock kinds; do
	for kind in $kinds; do
		report_row "$m" "$sock" "$kind"
	done
done < <(configs)

# ratio A B: A / B, or "-".
ratio() {
	awk -v a="${1:-}" -v b="${2:-}" 'BEGIN {
		if (a == "" || b == "" || a == "-" || b == "-" || b + 0 == 0) print "-"
		else printf "%.2f", a / b }'
}

# difference A B: A - B, or "-".
difference() {
	awk -v a="${1:-}" -v b="${2:-}" 'BEGIN {
		if (a == "" || b == "" || a == "-" || b == "-") print "-"
		else printf "%.2f", a - b }'
}

echo
echo "Ratios (same run): throughput and p50 latency of custos against no milter and against the pass-through milter; CPU against the pass-through milter; the last two columns against the pass-through with custos' protocol (-N: no replies before DATA and end of message)."
echo
echo "| socket | message | msg/s custos/none | msg/s custos/passthrough | msg/s passthrough/none | p50 custos/none | p50 custos/passthrough | CPU custos/passthrough | CPU custos - passthrough ms | msg/s custos/passthrough -N | CPU custos - passthrough -N ms |"
echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
for sock in $SOCKETS; do
	for kind in $KINDS mix-nocache; do
		c="custos|$sock|$kind" p="pt|$sock|$kind" n="none|-|$kind"
		q="ptnr|$sock|$kind"
		# custos without its extraction cache, against the same rows
		if [ "$kind" = mix-nocache ]; then
			[ -n "${R_RATE[custos-nocache|$sock|mix]:-}" ] || continue
			c="custos-nocache|$sock|mix" p="pt|$sock|mix"
			n="none|-|mix" q="ptnr|$sock|mix"
		fi
		printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$sock" "$kind" \
		    "$(ratio "${R_RATE[$c]:-}" "${R_RATE[$n]:-}")" \
		    "$(ratio "${R_RATE[$c]:-}" "${R_RATE[$p]:-}")" \
		    "$(ratio "${R_RATE[$p]:-}" "${R_RATE[$n]:-}")" \
		    "$(ratio "${R_P50[$c]:-}" "${R_P50[$n]:-}")" \
		    "$(ratio "${R_P50[$c]:-}" "${R_P50[$p]:-}")" \
		    "$(ratio "${R_CPU[$c]:-}" "${R_CPU[$p]:-}")" \
		    "$(difference "${R_CPU[$c]:-}" "${R_CPU[$p]:-}")" \
		    "$(ratio "${R_RATE[$c]:-}" "${R_RATE[$q]:-}")" \
		    "$(difference "${R_CPU[$c]:-}" "${R_CPU[$q]:-}")"
	done
done

if [ -n "$RSPAMD" ] && [[ " $MILTERS " == *" rspamd"* ]]; then
	echo
	echo "rspamd against custos, inet: (rspamd rejects on any identifier shape; custos counts list records).  rspamd: the shape map and a Redis rate limit per sender; rspamd-bare: the shape map alone."
	echo
	echo "| rspamd | message | msg/s rspamd/none | msg/s custos/rspamd | p50 rspamd/none | p50 custos/rspamd | CPU custos/rspamd |"
	echo "| --- | --- | ---: | ---: | ---: | ---: | ---: |"
	for rs in rspamd rspamd-bare; do
	[[ " $MILTERS " == *" $rs "* ]] || continue
	for kind in $RSPAMD_KINDS; do
		c="custos|inet|$kind" r="$rs|inet|$kind" n="none|-|$kind"
		printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$rs" "$kind" \
		    "$(ratio "${R_RATE[$r]:-}" "${R_RATE[$n]:-}")" \
		    "$(ratio "${R_RATE[$c]:-}" "${R_RATE[$r]:-}")" \
		    "$(ratio "${R_P50[$r]:-}" "${R_P50[$n]:-}")" \
		    "$(ratio "${R_P50[$c]:-}" "${R_P50[$r]:-}")" \
		    "$(ratio "${R_CPU[$c]:-}" "${R_CPU[$r]:-}")"
	done
	done
fi

# ------------------------------------------ files never seen before

# variants_row MILTER: milter-load over the MIX_VARIANTS messages, each
# once, 2 connections, against a fresh milter on unix:; the worker's CPU
# per message.
variants_row() {
	local m=$1 spec=unix:$E2E/var.sock t0 t1 out
	start_milter "$m" "$spec"
	t0=$(milter_ticks)
	"$E2E/bin/milter-load" -q -s "$spec" -c 2 -n "$MIX_VARIANTS" -m 10 \
	    "$E2E/msg/variants" >"$E2E/var.out" 2>&1
	t1=$(milter_ticks)
	out=$(tail -n 1 "$E2E/var.out")
	printf '| %s | %s | %s | %s | %s | %s |\n' "$m" "$(field msgs "$out")" \
	    "$(field msg_s "$out")" "$(ms_per $((t1 - t0)) "$(field msgs "$out")")" \
	    "$(field p50_ms "$out")" "$(field accept "$out")"
	stop_milter
}

field() {
	echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"
}

if [ "$MIX_VARIANTS" -gt 0 ] 2>/dev/null && [[ " $MILTERS " == *" custos "* ]]; then
	echo
	echo "Files never seen before: the mix message with another sheet each time ($MIX_VARIANTS messages, each sent once; milter-load -c 2 against a fresh milter on unix:, no Postfix).  custos with its attachment cache (every file a miss: read, hashed, kept) against custos without it."
	echo
	echo "| milter | msgs | msg/s | worker CPU ms/msg | p50 ms | accepted |"
	echo "| --- | ---: | ---: | ---: | ---: | ---: |"
	variants_row custos
	variants_row custos-nocache
fi

# -------------------------------------------------------- memory bound

[ "$MEM_CONNS" -gt 0 ] 2>/dev/null || exit 0

# mem_row CONNS: a fresh custos-milter, CONNS connections at once, one
# big message each; the worker's memory sampled every 0.2 s.
mem_row() {
	local conns=$1 spec=unix:$E2E/mem.sock before wpid t0 t1 lpid
	local anon=0 file=0 rss=0 a f r capped="" out
	start_milter custos "$spec"
	note "memory: $conns connections x $(wc -c <"$E2E/big/big.eml") bytes"
	before=$(peak_rss)
	# The worker (custos-milter's child) does the work.
	wpid=$(pgrep -P "$MPID" | head -n 1)
	[ -n "$wpid" ] || wpid=$MPID
	t0=$(date +%s.%N)
	"$E2E/bin/milter-load" -q -s "$spec" -c "$conns" -n "$conns" -m 1 \
	    -T 600 "$E2E/big/big.eml" >"$E2E/mem.out" 2>"$E2E/mem.err" &
	lpid=$!
	while _e2e_alive "$lpid"; do
		read -r a f r < <(awk '/^RssAnon/ { a = $2 } /^RssFile/ { f = $2 }
		    /^VmRSS/ { r = $2 } END { print a + 0, f + 0, r + 0 }' \
		    "/proc/$wpid/status" 2>/dev/null || echo "0 0 0")
		[ "$a" -gt "$anon" ] && anon=$a
		[ "$f" -gt "$file" ] && file=$f
		[ "$r" -gt "$rss" ] && rss=$r
		if [ "$r" -gt $((MEM_CAP_MB * 1024)) ]; then
			capped=" (stopped: RSS passed MEM_CAP_MB)"
			kill "$lpid" 2>/dev/null
			break
		fi
		sleep 0.2
	done
	wait "$lpid"
	t1=$(date +%s.%N)
	out=$(tail -n 1 "$E2E/mem.out")
	printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' \
	    "$conns" "$MEM_MB" \
	    "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')" \
	    "$(field msgs "$out")" "$(field accept "$out")" \
	    "$(field tempfail "$out")" "$(field errors "$out")$capped" \
	    "$before" "$(peak_rss)" \
	    "$(awk -v k="$anon" 'BEGIN { printf "%.1f", k / 1024 }')" \
	    "$(awk -v k="$file" 'BEGIN { printf "%.1f", k / 1024 }')"
	[ -s "$E2E/mem.err" ] && sed 's/^/# milter-load: /' "$E2E/mem.err" | tail -n 5 >&2
	stop_milter
}

echo
echo "Memory bound: milter-load -c N -n N -m 1 against a fresh custos-milter on unix: (no Postfix), each message $(wc -c <"$E2E/big/big.eml") bytes of plain text (passes); spool_memory_limit 1M (the default), spool_dir on $(df --output=fstype "$E2E" | tail -n 1).  RSS of the worker: VmHWM at the end, RssAnon and RssFile peaks sampled every 0.2 s."
echo
echo "| connections | message MB | wall s | msgs | accept | tempfail | errors | RSS before MB | VmHWM MB | peak RssAnon MB | peak RssFile MB |"
echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
mem_row 1
mem_row "$MEM_CONNS"
exit 0
