#!/usr/bin/env bash
# t-soak.sh - a soak test through the private Postfix: for SOAK_SECONDS a
# steady stream of clean, matching (tagged, held, rejected) and malformed
# messages, while Redis is restarted twice (on_store_error = tempfail, so
# mail is deferred meanwhile and must come back), custos-milter gets a HUP
# every SOAK_HUP seconds and the customer list grows a record between
# HUPs.  Then: no message lost (each accepted one is in the sink or the
# hold queue, each rejected one is not and was bounced to its sender),
# each ended as its kind should, everything deferred came through, the
# worker's RSS did not grow after the first third (skipped under ASan,
# whose leak report at exit is caught instead), no error in the milter
# log beyond the Redis outages, every HUP reloaded, the new records were
# found, replaced snapshots were freed.
# Totals and the RSS slope are printed as "# " lines.
#
# Most sessions go to the "client MTA" ($CLIENT_PORT): it queues what it
# accepts and forwards to the gateway, retrying on 4xx like a real
# upstream and bouncing 5xx to the sender, so its fate is in the maillog.
# Every fourth session goes straight to the gateway ($SMTP_PORT); the
# sender retries its 4xx itself.  One to three messages per session.
#
# Run it (as root, like the e2e tests; skipped without Postfix, Redis,
# swaks) from a build directory; it takes SOAK_SECONDS plus about 30 s:
#   top_srcdir=SRC top_builddir=BUILD bash SRC/test/soak/t-soak.sh
# For an hour:  SOAK_SECONDS=3600 (a HUP every 60 s; Redis restarted at
# 1/6 and 1/2 of the run; about 2 GB of delivered mail in $E2E).
# Settings (environment):
#   SOAK_SECONDS   length of the sending phase (120)
#   SOAK_RATE      messages a second (20)
#   SOAK_HUP       seconds between HUPs (SOAK_SECONDS/3, at most 60); the
#                  K-th at (K - 1/4) * SOAK_HUP, record 200+K appended to
#                  the list half a period before
#   SOAK_REDIS_RESTARTS  Redis outages (2), SOAK_REDIS_DOWN seconds each (3)
#   SOAK_DRAIN     seconds allowed for the queues to empty at the end (60)
#   SOAK_RSS_MAX   bound on the RSS slope after the first third, KB/min
#                  (2048); samples every SOAK_RSS_EVERY seconds (2)
#   SOAK_ARENA_MAX MALLOC_ARENA_MAX for custos-milter (2; empty: glibc's
#                  default of 8 per CPU, whose arenas fill over minutes
#                  of traffic, tens of MB, and look like a leak in a
#                  short run)
# plus those of test/e2e/lib.sh (E2E_KEEP=1 keeps the files).
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../e2e/lib.sh"

SOAK_SECONDS=${SOAK_SECONDS:-120}
SOAK_RATE=${SOAK_RATE:-20}
if [ -z "${SOAK_HUP:-}" ]; then
	SOAK_HUP=$((SOAK_SECONDS / 3))
	[ "$SOAK_HUP" -gt 60 ] && SOAK_HUP=60
	[ "$SOAK_HUP" -lt 5 ] && SOAK_HUP=5
fi
SOAK_REDIS_DOWN=${SOAK_REDIS_DOWN:-3}
SOAK_REDIS_RESTARTS=${SOAK_REDIS_RESTARTS:-2}
SOAK_DRAIN=${SOAK_DRAIN:-60}
SOAK_RSS_MAX=${SOAK_RSS_MAX:-2048}
SOAK_RSS_EVERY=${SOAK_RSS_EVERY:-2}
SOAK_ARENA_MAX=${SOAK_ARENA_MAX-2}

e2e_require
tap_plan 16
e2e_setup
# The Redis outage and the sender run in the background: stop them
# before lib.sh's cleanup, or a late "start Redis" would outlive it.
outage='' sender=''
# shellcheck disable=SC2317  # a trap handler
soak_cleanup() {
	local rc=$? pid
	for pid in $outage $sender; do
		kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	done
	(exit "$rc")
	_e2e_cleanup
}
if [ "${E2E_PERSIST:-0}" != 1 ]; then
	trap 'soak_cleanup' EXIT
	trap 'soak_cleanup; exit 130' INT
	trap 'soak_cleanup; exit 143' TERM
fi
fx=$E2E/fx
"$PYTHON3" "$top_srcdir/test/fixtures/make-fixtures.py" "$fx" || exit 1
cp "$fx/customers.csv" "$E2E/list.csv"
{
	echo "spool_dir = \"$E2E\""
	e2e_list_conf "$E2E" "$E2E/list.csv"
	e2e_stop_conf
	cat <<EOF
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
redis { port = $REDIS_PORT  prefix = "soak:" }
on_store_error = "tempfail"
audit_log = "$E2E/audit.log"
templates = "$top_srcdir/conf/templates"
contact = "security@example.com"
EOF
} >"$E2E/custos.conf"

# Few malloc arenas: glibc's default (8 per CPU) takes minutes of
# traffic to fill, and that growth would hide a leak in a short run.
start_milter() {
	if [ -n "$SOAK_ARENA_MAX" ]; then
		MALLOC_ARENA_MAX=$SOAK_ARENA_MAX e2e_start_milter
	else
		e2e_start_milter
	fi
}
e2e_start_sink && e2e_start_redis && start_milter && e2e_start_postfix &&
	# The client MTA retries deferred mail within the run, as a real one
	# would (lib.sh's defaults wait 300 s for an explicit flush).
	e2e_postconf queue_run_delay=5s minimal_backoff_time=5s \
	    maximal_backoff_time=10s || {
	tap_fail "start sink, redis, custos-milter and postfix"; e2e_dump_logs; exit 1; }
tap_ok "start sink, redis, custos-milter and postfix"

# ------------------------------------------------------------ the sender
#
# soak-send.py: message n (0-based) is due at n/RATE s; kinds rotate;
# sessions of 1-3 messages; every 4th session straight to the gateway.
# Writes one JSON line per message once its fate at the SMTP level is
# final: {"n", "kind", "path", "msgid", "from", "to", "code", "reply",
# "qid", "tries", "deferrals", "due", "sent"}.  code 0: no SMTP reply.
cat >"$E2E/soak-send.py" <<'EOF'
import argparse, base64, heapq, json, os, re, runpy, smtplib
import threading, time
from concurrent.futures import ThreadPoolExecutor

ap = argparse.ArgumentParser()
ap.add_argument("--client-port", type=int, required=True)
ap.add_argument("--gateway-port", type=int, required=True)
ap.add_argument("--threads", type=int, default=8)
for name in ("rate", "seconds", "drain"):
    ap.add_argument("--" + name, type=float, required=True)
ap.add_argument("--fixtures", required=True)
ap.add_argument("--make-fixtures", required=True)
ap.add_argument("--out", required=True)
args = ap.parse_args()

customer = runpy.run_path(args.make_fixtures)["customer"]
fx = {name: open(os.path.join(args.fixtures, name), "rb").read()
      for name in os.listdir(args.fixtures) if name.endswith(".eml")}
EXT, PARTNER, INT = "friend@gmail.test", "a@audit.example.net", \
    "colleague@example.com"


def mime(subject, body, ctype="text/plain; charset=utf-8", cte="8bit"):
    return ("Subject: %s\r\nMIME-Version: 1.0\r\nContent-Type: %s\r\n"
            "Content-Transfer-Encoding: %s\r\n\r\n%s" %
            (subject, ctype, cte, body)).encode()


def recs(first, count, fields):
    out = []
    for k in range(count):
        c = customer(1 + (first + k) % 199)
        out.append("  ".join(c[f] for f in fields))
    return "\r\n".join(out) + "\r\n"


def truncated(n):
    text = recs(n * 3, 4, ("name", "mobile")).encode()
    enc = base64.b64encode(text * 3).decode()
    enc = "\r\n".join(enc[i:i + 76] for i in range(0, len(enc), 76))
    enc = enc[:len(enc) * 3 // 5]          # cut mid-line, no end boundary
    return ('Subject: truncated\r\nMIME-Version: 1.0\r\n'
            'Content-Type: multipart/mixed; boundary="t1"\r\n\r\n'
            '--t1\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n'
            '--t1\r\nContent-Type: text/plain; name="list.txt"\r\n'
            'Content-Transfer-Encoding: base64\r\n\r\n' + enc).encode()


# kind: (recipient, builder(n) -> message without Message-ID)
KINDS = [
    ("plain", EXT, lambda n: fx["plain.eml"]),
    ("tag", EXT, lambda n: mime("two customers", "call them:\r\n" +
                                recs(n, 2, ("mobile", "email")))),
    ("utf8", EXT, lambda n: fx["utf8-8bit.eml"]),
    ("hold", PARTNER, lambda n: mime("five for audit", recs(
        n, 5, ("name", "id_no")))),
    ("malformed", EXT, lambda n: fx["malformed.eml"]),
    ("gbk", EXT, lambda n: fx["gbk-base64.eml"]),
    ("reject", EXT, lambda n: mime("export", base64.encodebytes(recs(
        n, 25, ("email", "mobile")).encode()).decode().replace(
            "\n", "\r\n"), cte="base64")),
    ("html", EXT, lambda n: fx["html-qp.eml"]),
    ("deep", EXT, lambda n: fx["deep-nesting.eml"]),
    ("zip-internal", INT, lambda n: fx["zip-xlsx-30-records.eml"]),
    ("multipart", EXT, lambda n: fx["multipart-attach.eml"]),
    ("truncated", EXT, truncated),
    ("gbk50", EXT, lambda n: fx["gbk-50-records.eml"]),
    ("nested", EXT, lambda n: fx["nested-rfc822.eml"]),
    ("newrec", EXT, lambda n: mime("new customers", " ".join(
        customer(200 + k)["mobile"] for k in range(1, 6)) + "\r\n")),
    ("large", EXT, lambda n: fx["large.eml"]),
    ("empty", EXT, lambda n: b"Subject: empty\r\n\r\n"),
]
MSGID_RE = re.compile(rb"(?im)^message-id:[^\r\n]*\r?\n")


class Msg:
    def __init__(self, n, path, due):
        self.n, self.path, self.due = n, path, due
        self.kind, self.rcpt, build = KINDS[n % len(KINDS)]
        self.sender = "soak%d@example.com" % (n % 7)
        self.msgid = "<soak-%06d@custos-soak.test>" % n
        body = build(n)
        head, sep, rest = body.partition(b"\r\n\r\n")
        self.data = (b"Message-ID: %s\r\nX-Soak: n=%d kind=%s path=%s\r\n"
                     % (self.msgid.encode(), n, self.kind.encode(),
                        path.encode()) +
                     MSGID_RE.sub(b"", head + b"\r\n").rstrip(b"\r\n") +
                     sep + rest)
        self.tries = self.deferrals = 0
        self.sent = None


lock = threading.Lock()
retries = []                            # heap of (due, n, Msg)
inflight = 0
out = open(args.out, "w")


def finish(m, code, reply, qid=None):
    rec = {"n": m.n, "kind": m.kind, "path": m.path, "msgid": m.msgid,
           "from": m.sender, "to": m.rcpt, "code": code, "reply": reply,
           "qid": qid, "tries": m.tries, "deferrals": m.deferrals,
           "due": m.due, "sent": m.sent}
    with lock:
        out.write(json.dumps(rec) + "\n")
        out.flush()


def outcome(m, code, reply):
    m.tries += 1
    if code == 250:
        q = re.search(r"queued as ([0-9A-Za-z]+)", reply)
        finish(m, code, reply, q.group(1) if q else None)
    elif code >= 500:
        finish(m, code, reply)
    else:                               # 4xx or no answer: try later
        m.deferrals += 1
        with lock:
            heapq.heappush(retries, (time.time() + 3, m.n, m))


def session(msgs):
    global inflight
    port = args.client_port if msgs[0].path == "client" else \
        args.gateway_port
    for m in msgs:
        if m.sent is None:
            m.sent = time.time()
    try:
        s = smtplib.SMTP("127.0.0.1", port, timeout=120,
                         local_hostname="soak.custos-soak.test")
        s.ehlo()
    except (OSError, smtplib.SMTPException) as e:
        for m in msgs:
            outcome(m, 0, "connect: %s" % e)
    else:
        for i, m in enumerate(msgs):
            try:
                code, rep = s.mail(m.sender)
                if code == 250:
                    code, rep = s.rcpt(m.rcpt)
                    if code in (250, 251):
                        code, rep = s.data(m.data)
                if code != 250:
                    s.rset()
            except smtplib.SMTPDataError as e:
                code, rep = e.smtp_code, e.smtp_error
                try:
                    s.rset()
                except (OSError, smtplib.SMTPException):
                    pass
            except (OSError, smtplib.SMTPException) as e:
                for x in msgs[i:]:
                    outcome(x, 0, "session: %s" % e)
                break
            outcome(m, code, rep.decode("utf-8", "replace"))
        try:
            s.quit()
        except (OSError, smtplib.SMTPException):
            pass
    with lock:
        inflight -= 1


def submit(pool, msgs):
    global inflight
    with lock:
        inflight += 1
    pool.submit(session, msgs)


t0 = time.time()
total = int(args.rate * args.seconds)
deadline = t0 + args.seconds + args.drain
n = batch = 0
with ThreadPoolExecutor(args.threads) as pool:
    while time.time() < deadline:
        now = time.time()
        if n < total and now >= t0 + n / args.rate:
            size = min((1, 2, 3)[batch % 3], total - n)
            path = "gateway" if batch % 4 == 3 else "client"
            submit(pool, [Msg(k, path, t0 + k / args.rate)
                          for k in range(n, n + size)])
            n += size
            batch += 1
            continue
        with lock:
            due = []
            while retries and retries[0][0] <= now:
                due.append(heapq.heappop(retries)[2])
            idle = n >= total and not retries and inflight == 0
        for m in due:
            submit(pool, [m])
        if idle and not due:
            break
        time.sleep(0.01)
with lock:
    for _, _, m in retries:            # still deferred at the deadline
        finish(m, 4, "still deferred when the sender gave up")
out.close()
EOF

# ------------------------------------------------------------- the checker
#
# soak-check.py: what became of every message, the RSS slope and the
# milter log.  Prints "# " diagnostics; writes CHECKS as lines
# "ok|fail|skip<TAB>description<TAB>details" in a fixed order.
cat >"$E2E/soak-check.py" <<'EOF'
import argparse, collections, glob, json, os, re, subprocess, time

ap = argparse.ArgumentParser()
for name in ("results", "sink", "maillog", "milter-log", "events", "rss",
             "postqueue", "postcat", "pfconf", "checks"):
    ap.add_argument("--" + name, required=True)
for name in ("gateway-port", "seconds", "rss-max", "rate"):
    ap.add_argument("--" + name, type=float, required=True)
ap.add_argument("--rss-skip", default="")
args = ap.parse_args()
checks = []
diag = lambda *a: print("#", *a)


def check(desc, bad, detail="", skip=""):
    checks.append(("skip" if skip else "fail" if bad else "ok", desc,
                   skip or detail))


def headers(raw):
    """The header section of a message, unfolded: [(name, value)]."""
    head = re.split(rb"\r?\n\r?\n", raw, maxsplit=1)[0]
    head = re.sub(rb"\r?\n[ \t]+", b" ", head)
    out = []
    for line in re.split(rb"\r?\n", head):
        name, sep, value = line.partition(b":")
        if sep:
            out.append((name.strip().lower().decode("latin-1"),
                        value.strip().decode("utf-8", "replace")))
    return out


def first(hdrs, name):
    return next((v for n, v in hdrs if n == name), None)


sent = [json.loads(l) for l in open(args.results)]
events = [l.split() for l in open(args.events)]
t0 = next(float(e[0]) for e in events if e[1] == "start")

# What reached the sink; bounces (null sender) name the message they
# return somewhere in their body.
sink, tags, bounced, other = collections.Counter(), {}, set(), 0
for path in sorted(glob.glob(os.path.join(args.sink, "*.eml"))):
    raw = open(path, "rb").read()
    env = json.load(open(path[:-4] + ".env"))
    h = headers(raw)
    mid = first(h, "message-id")
    if env.get("mail_from") == "":
        bounced.update(m.decode() for m in re.findall(
            rb"<soak-\d+@custos-soak\.test>", raw))
    elif mid and mid.startswith("<soak-"):
        sink[mid] += 1
        tags[mid] = first(h, "x-custos")
    else:
        other += 1

# What sits in the hold queue, with its headers.
held, held_bad = {}, []
pq = subprocess.run([args.postqueue, "-c", args.pfconf, "-j"],
                    capture_output=True, text=True).stdout
for line in pq.splitlines():
    q = json.loads(line)
    if q.get("queue_name") != "hold":
        continue
    h = headers(subprocess.run([args.postcat, "-c", args.pfconf, "-hq",
                                q["queue_id"]], capture_output=True).stdout)
    mid = first(h, "message-id")
    held[mid] = held.get(mid, 0) + 1
    if not first(h, "x-custos-incident"):
        held_bad.append("%s %s" % (q["queue_id"], mid))

# The client MTA's deliveries to the gateway, per client queue id.
gw = ":%d," % args.gateway_port
hops = collections.defaultdict(list)
for line in open(args.maillog, errors="replace"):
    m = re.search(r"/smtp\[\d+\]: ([0-9A-Za-z]+): to=<[^>]*>, relay=(\S+), "
                  r".*status=(\w+) \((.*)\)$", line)
    if m and gw in m.group(2) + ",":
        hops[m.group(1)].append((m.group(3), m.group(4)))

# The fate of every message.
state, notes = {}, collections.defaultdict(list)
deferred = collections.Counter()
for r in sent:
    mid, d = r["msgid"], r["deferrals"]
    if r["path"] == "client" and r["code"] == 250:
        h = hops.get(r["qid"], [])
        d += sum(1 for s, _ in h if s == "deferred")
        if any(s == "bounced" for s, _ in h):
            st = "rejected"
            if mid not in bounced:
                notes["no bounce"].append(mid)
        elif any(s == "sent" for s, _ in h):
            st = "accepted"
        else:
            st = "stuck"                # never left the client MTA
    elif r["code"] == 250:
        st = "accepted"
    elif r["code"] >= 500:
        st = "rejected" if r["path"] == "gateway" else "client-refused"
    else:
        st = "unresolved"
    if st == "accepted":
        st = "delivered" if sink[mid] else "held" if held.get(mid) else "lost"
        if sink[mid] + held.get(mid, 0) > 1:
            notes["twice"].append(mid)
    elif st == "rejected" and (sink[mid] or held.get(mid)):
        notes["rejected but delivered"].append(mid)
    state[mid] = st
    if d:
        deferred[st] += 1
count = collections.Counter(state.values())

n = len(sent)
span = max((r["sent"] or 0) for r in sent) - t0 if sent else 0
lag = max(((r["sent"] or r["due"]) - r["due"]) for r in sent) if sent else 0
diag("sent %d messages in %.0f s (%.1f/s; largest lag behind schedule "
     "%.1f s): %d through the client MTA, %d straight to the gateway" %
     (n, span, n / span if span else 0, lag,
      sum(r["path"] == "client" for r in sent),
      sum(r["path"] == "gateway" for r in sent)))
diag("delivered %d, held %d, rejected %d (bounced to the sender: %d), "
     "deferred at least once %d (then %s); lost %d, stuck %d, "
     "unresolved %d, refused by the client MTA %d" %
     (count["delivered"], count["held"], count["rejected"], len(bounced),
      sum(deferred.values()),
      ", ".join("%s %d" % kv for kv in sorted(deferred.items())) or "-",
      count["lost"], count["stuck"], count["unresolved"],
      count["client-refused"]))
if other:
    diag("%d other messages in the sink (probes, notices)" % other)
check("the sender kept the pace: %d messages at %.1f/s" %
      (n, n / span if span else 0),
      n < 0.95 * args.rate * args.seconds or lag > 10,
      "expected %d messages, at most 10 s behind" %
      (args.rate * args.seconds))
lost = [m for m, s in state.items() if s in ("lost", "stuck", "unresolved",
                                            "client-refused")]
check("no message lost: every accepted one delivered or held (%d + %d)" %
      (count["delivered"], count["held"]), lost,
      "not accounted for: " + " ".join(
          "%s=%s" % (m, state[m]) for m in lost[:20]))
check("rejected (%d) ones are not delivered; the client MTA bounced its "
      "own to the sender" % count["rejected"],
      notes["rejected but delivered"] or notes["no bounce"],
      "delivered: %s; no bounce: %s" % (
          " ".join(notes["rejected but delivered"][:10]),
          " ".join(notes["no bounce"][:10])))
check("deferred ones (%d) all ended delivered, held or rejected" %
      sum(deferred.values()),
      sum(deferred.values()) == 0 or set(deferred) - {
          "delivered", "held", "rejected"},
      "deferred then: %s" % dict(deferred))
check("no message delivered twice", notes["twice"],
      " ".join(notes["twice"][:20]))

# Each kind ends as the policy says.
EXPECT = {"tag": ("delivered", True), "zip-internal": ("delivered", True),
          "hold": ("held", None), "reject": ("rejected", None),
          "gbk50": ("rejected", None), "truncated": ("delivered", None),
          "newrec": ("delivered", None)}
wrong, per_kind = [], collections.defaultdict(collections.Counter)
for r in sent:
    mid, st = r["msgid"], state[r["msgid"]]
    want, tagged = EXPECT.get(r["kind"], ("delivered", False))
    per_kind[r["kind"]][st] += 1
    tag = (tags.get(mid) or "").startswith("tag;")
    if st != want or (st == "delivered" and tagged is not None and
                      tag != tagged):
        wrong.append("%s %s: %s%s" % (mid, r["kind"], st,
                                      " tag" if tag else ""))
diag("per kind: " + "; ".join("%s %s" % (k, ",".join(
    "%s=%d" % kv for kv in sorted(c.items())))
    for k, c in sorted(per_kind.items())))
check("every kind ended as its policy says (clean untagged, records "
      "tagged, partner held, bulk rejected)", wrong, "\n".join(wrong[:20]))
check("held messages (%d) carry X-Custos-Incident" % len(held), held_bad,
      " ".join(held_bad[:10]))

# RSS of the worker: least-squares slope after the first third.
rss = [tuple(map(float, l.split())) for l in open(args.rss) if l.strip()]
late = [(t - t0, kb) for t, kb in rss if t - t0 >= args.seconds / 3]
slope = 0.0
if len(late) >= 3:
    mt = sum(t for t, _ in late) / len(late)
    mk = sum(k for _, k in late) / len(late)
    slope = sum((t - mt) * (k - mk) for t, k in late) / \
        sum((t - mt) ** 2 for t, _ in late) * 60
diag("worker RSS: %d samples, first %d KB, at 1/3 %d KB, last %d KB, "
     "max %d KB; slope after the first third %+.0f KB/min" %
     (len(rss), rss[0][1] if rss else 0, late[0][1] if late else 0,
      rss[-1][1] if rss else 0, max((k for _, k in rss), default=0), slope))
check("worker RSS flat after warm-up: %+.0f KB/min (bound %d)" %
      (slope, args.rss_max), len(late) < 3 or slope >= args.rss_max,
      "%d samples after the first third" % len(late), args.rss_skip)

# The milter log: err lines only about the store while Redis was down.
outages, down = [], None
for e in events:
    if e[1] == "redis-down":
        down = float(e[0])
    elif e[1] == "redis-up" and down is not None:
        outages.append((down - 2, float(e[0]) + 15))
bad, warns = [], collections.Counter()
for line in open(args.milter_log, errors="replace"):
    m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d) \S+\[(\w+)\]: (.*)", line)
    if re.search(r"Sanitizer|runtime error|unexpectedly|segfault", line):
        bad.append(line.rstrip())
    if not m:
        continue
    if m.group(2) == "warning":
        warns[re.sub(r"^[0-9A-Za-z]+: |\d+", "", m.group(3))[:70]] += 1
    if m.group(2) != "err":
        continue
    t = time.mktime(time.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S"))
    if not (re.search(r"redis|history|store", line, re.I) and
            any(a <= t <= b for a, b in outages)):
        bad.append(line.rstrip())
for w, k in warns.most_common(5):
    diag("milter warnings: %d x %s" % (k, w))
check("no error in the milter log beyond the Redis outages", bad,
      "\n".join(bad[:20]))

with open(args.checks, "w") as f:
    for c in checks:
        f.write("\t".join(x.replace("\t", " ").replace("\n", "\\n")
                          for x in c) + "\n")
EOF

# --------------------------------------------------------------- the run

now() { echo "${EPOCHREALTIME}"; }
event() { echo "$(now) $*" >>"$E2E/events.tsv"; }
: >"$E2E/events.tsv"
: >"$E2E/rss.tsv"
: >"$E2E/probes.tsv"
sup=$(cat "$E2E/milter.pid")
worker=$(pgrep -P "$sup")
reloads() { grep -c "configuration reloaded" "$E2E/milter.log"; }
# new_record K: the CSV row of record 200+K of the synthetic list.
new_record() {
	"$PYTHON3" - "$top_srcdir/test/fixtures/make-fixtures.py" "$1" <<'EOF'
import runpy, sys
c = runpy.run_path(sys.argv[1])["customer"](200 + int(sys.argv[2]))
print(",".join([c["id"], c["name"], c["mobile"], c["email"], c["id_no"],
                c["company"], ""]))
EOF
}
# probe K: send the mobile of record 200+K straight to the gateway (an
# internal recipient; retried while 4xx) and note the records and list
# version the milter logged for it in probes.tsv.
probe() {
	local mobile qid line
	mobile=$(new_record "$1" | cut -d, -f3)
	printf 'Message-ID: <probe-%s@custos-soak.test>\r\nSubject: probe\r\n\r\nnew customer %s\r\n' \
	    "$1" "$mobile" >"$E2E/probe.eml"
	for _ in $(seq 30); do
		E2E_TO=colleague@example.com e2e_send "$E2E/probe.eml"
		qid=$(e2e_queue_id) && break
		sleep 1
	done
	line=$(grep "custos-milter\[info\]: ${qid:-none}: " "$E2E/milter.log")
	printf '%s %s %s\n' "$1" "$(sed -n 's/.* records=\([0-9]*\) .*/\1/p' <<<"$line")" \
	    "$(sed -n 's/.* list=\([^ ]*\) .*/\1/p' <<<"$line")" >>"$E2E/probes.tsv"
}

probe 1		# record 201 is not in the list yet
event start
"$PYTHON3" "$E2E/soak-send.py" --client-port "$CLIENT_PORT" \
    --gateway-port "$SMTP_PORT" --rate "$SOAK_RATE" --seconds "$SOAK_SECONDS" \
    --drain "$SOAK_DRAIN" --fixtures "$fx" \
    --make-fixtures "$top_srcdir/test/fixtures/make-fixtures.py" \
    --out "$E2E/sent.jsonl" 2>"$E2E/sender.err" &
sender=$!

ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }
start_ms=$(ms)
elapsed() { echo $((($(ms) - start_ms) / 1000)); }
# redis_outage: stop Redis for SOAK_REDIS_DOWN seconds (in the background,
# so that sampling, HUPs and probes go on meanwhile).
redis_outage() {
	event redis-down
	e2e_stop_redis || echo "stop failed" >>"$E2E/redis-failed"
	sleep "$SOAK_REDIS_DOWN"
	e2e_start_redis || echo "start failed" >>"$E2E/redis-failed"
	event redis-up
}
redis_n=0 hups=0 appended=0 next_rss=0 next_note=20 workers_seen=$worker
while [ "$(elapsed)" -lt "$SOAK_SECONDS" ]; do
	t=$(elapsed)
	if [ "$t" -ge "$next_rss" ]; then
		w=$(pgrep -P "$sup" | head -1)
		[ "$w" != "$worker" ] && workers_seen="$workers_seen ${w:-none}" && worker=$w
		kb=$(awk '/^VmRSS:/ { print $2 }' "/proc/$w/status" 2>/dev/null)
		[ -n "$kb" ] && echo "$(now) $kb" >>"$E2E/rss.tsv"
		next_rss=$((t + SOAK_RSS_EVERY))
	fi
	# Outages at 1/6 and 1/2 of the run (SOAK_REDIS_RESTARTS=2).
	if [ "$redis_n" -lt "$SOAK_REDIS_RESTARTS" ] &&
	    [ "$t" -ge $(((2 * redis_n + 1) * SOAK_SECONDS / (2 * SOAK_REDIS_RESTARTS + 2))) ] &&
	    ! { [ -n "$outage" ] && kill -0 "$outage" 2>/dev/null; }; then
		redis_outage &
		outage=$! redis_n=$((redis_n + 1))
	fi
	# HUP K at (K - 1/4) * SOAK_HUP; record 200+K appended half a
	# period before.
	if [ "$t" -ge $(((4 * appended + 1) * SOAK_HUP / 4)) ] && [ "$appended" -eq "$hups" ] &&
	    [ $(((4 * appended + 3) * SOAK_HUP / 4)) -lt "$SOAK_SECONDS" ]; then
		appended=$((appended + 1))
		new_record "$appended" >>"$E2E/list.csv"
		event list-append "$appended"
	fi
	if [ "$t" -ge $(((4 * hups + 3) * SOAK_HUP / 4)) ] && [ "$appended" -gt "$hups" ]; then
		hups=$((hups + 1))
		event hup "$hups"
		kill -HUP "$sup"
		for _ in $(seq 300); do [ "$(reloads)" -ge "$hups" ] && break; sleep 0.1; done
		probe "$hups"
	fi
	if [ "$t" -ge "$next_note" ]; then
		echo "# t=${t}s: $(wc -l <"$E2E/sent.jsonl") messages done, worker RSS ${kb:-?} KB"
		next_note=$((next_note + 20))
	fi
	sleep 0.5
done
[ -n "$outage" ] && wait "$outage"
outage=
event end

# Drain: the sender retries its own 4xx; the client MTA retries on its
# own (5 s backoff) and is flushed too.  Done when the sender exited and
# only held mail is left in the queue.
queued() {
	find "$E2E/queue/maildrop" "$E2E/queue/incoming" "$E2E/queue/active" \
	    "$E2E/queue/deferred" -type f 2>/dev/null | wc -l
}
drain_start=$(elapsed)
e2e_flush
while [ $(($(elapsed) - drain_start)) -lt $((SOAK_DRAIN + 15)) ]; do
	sleep 2
	kill -0 "$sender" 2>/dev/null && continue
	[ "$(queued)" -eq 0 ] && break
	e2e_flush
done
wait "$sender"
sender=
sleep 1		# postlogd
echo "# drained in $(($(elapsed) - drain_start)) s; $(queued) messages left outside the hold queue"
[ -s "$E2E/sender.err" ] && sed 's/^/# sender: /' "$E2E/sender.err"

outages=$(grep -c redis-up "$E2E/events.tsv")
tap_check "redis stopped and started $outages times, ${SOAK_REDIS_DOWN}s each" \
	test ! -e "$E2E/redis-failed" -a "$outages" = "$SOAK_REDIS_RESTARTS" -a "$outages" -ge 1
# A reload frees the snapshot it replaces once no connection uses it: the
# worker maps no list table but the current one (the first snapshot was
# once pinned for good by main()'s reference, about 10 MB of RSS).
tables=$(grep -c "$E2E/lists.db" "/proc/$worker/maps" 2>/dev/null)
tables_left=$(grep "$E2E/lists.db" "/proc/$worker/maps" 2>/dev/null |
	awk '{ print $1, $7 }' | paste -sd';' -)
tap_check "after $hups reloads the worker maps only the current list table (${tables_left:-none})" \
	test "${tables:-0}" = 1
# Stopped now, so that an ASan build's leak report is in the log below.
stopped=0
e2e_stop_milter && grep -q 'stopped$' "$E2E/milter.log" && stopped=1
tap_check "the worker ran throughout (pid $worker; seen: $workers_seen), then stopped on TERM" \
	test "$workers_seen" = "$worker" -a -n "$worker" -a "$stopped" = 1
n=$(reloads)
tap_check "every HUP ($hups, one every ${SOAK_HUP}s) reloaded the configuration ($n reloads)" \
	test "$hups" -ge 2 -a "$n" = "$hups" -a "$(grep -c 'reload failed' "$E2E/milter.log")" = 0
# probes.tsv: "K RECORDS VERSION"; the first before any append (0 records).
list_reloaded() {
	awk -v hups="$hups" '
		{ n++; if ($3 == "" || $3 == prev || $2 != (NR == 1 ? 0 : 1)) bad = 1; prev = $3 }
		END { exit !(n == hups + 1 && !bad) }' "$E2E/probes.tsv"
}
echo "# list probes (record, records found, list version): $(paste -sd';' "$E2E/probes.tsv")"
tap_check "each HUP compiled the grown list: its new record found, a new list version" list_reloaded
tap_check "the queue is empty but for held mail ($(queued) left)" test "$(queued)" = 0

# Under AddressSanitizer RSS is its quarantine and shadow memory;
# LeakSanitizer's report at exit (checked in the log) stands in.
rss_skip=
grep -q __asan_init "$top_builddir/custos-milter" 2>/dev/null &&
	rss_skip="AddressSanitizer build (LeakSanitizer checks at exit instead)"
"$PYTHON3" "$E2E/soak-check.py" --results "$E2E/sent.jsonl" --sink "$E2E/sink" \
    --maillog "$E2E/maillog" --milter-log "$E2E/milter.log" \
    --events "$E2E/events.tsv" --rss "$E2E/rss.tsv" --postqueue "$POSTQUEUE" \
    --postcat "$(dirname "$POSTFIX")/postcat" --pfconf "$E2E/postfix" \
    --checks "$E2E/checks.tsv" --gateway-port "$SMTP_PORT" \
    --seconds "$SOAK_SECONDS" --rss-max "$SOAK_RSS_MAX" --rate "$SOAK_RATE" \
    --rss-skip "$rss_skip" || {
	tap_fail "soak-check.py ran"; e2e_dump_logs; tap_done; }
while IFS=$'\t' read -r res desc detail; do
	if [ "$res" = ok ]; then
		tap_ok "$desc"
	elif [ "$res" = skip ]; then
		tap_ok "$desc # SKIP $detail"
	else
		tap_fail "$desc" "$(printf '%b' "$detail")"
	fi
done <"$E2E/checks.tsv"

tap_done
