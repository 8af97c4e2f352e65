#!/usr/bin/env bash
# t-reload.sh - signals to the pid in the pid file: HUP reloads the
# config (a broken one is refused and the running one stays), TERM lets a
# message in flight finish, then custos-milter exits 0.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

e2e_require
tap_plan 11
e2e_setup
fx=$E2E/fx
"$PYTHON3" "$top_srcdir/test/fixtures/make-fixtures.py" "$fx" || exit 1
printf 'spool_dir = "%s"\n' "$E2E" >"$E2E/custos.conf"

e2e_start_sink && e2e_start_redis && e2e_start_milter && e2e_start_postfix || {
	tap_fail "start sink, redis, custos-milter and postfix"; e2e_dump_logs; exit 1; }
tap_ok "start sink, redis, custos-milter and postfix"

wait_log() {	# wait_log COUNT PATTERN: until PATTERN is logged COUNT times
	local tries=100
	until [ "$(grep -c -- "$2" "$E2E/milter.log")" -ge "$1" ]; do
		[ "$tries" -le 0 ] && return 1
		tries=$((tries - 1)); sleep 0.1
	done
}
has_tag() { grep -aq '^X-Custos: pass; incident=' "$(e2e_sink_file "$1")"; }

pid=$(cat "$E2E/milter.pid")
e2e_send "$fx/plain.eml"; e2e_wait_sink 1 30
no_tag() { ! has_tag "$1"; }
tap_check "before reload: no X-Custos header (add_header off)" no_tag 1

echo 'add_header = true' >>"$E2E/custos.conf"
kill -HUP "$pid"
tap_check "HUP: the worker reloads the configuration" wait_log 1 "configuration reloaded"
e2e_send "$fx/plain.eml"; e2e_wait_sink 2 30
tap_check "after reload: the new config is in force (X-Custos added)" has_tag 2
tap_check "HUP did not restart the supervisor" test "$(cat "$E2E/milter.pid")" = "$pid"

cp "$E2E/custos.conf" "$E2E/good.conf"
printf 'add_header = true\nlimits {\n  mime_depth = 0\n}\n' >"$E2E/custos.conf"
kill -HUP "$pid"
tap_check "HUP with a broken config: refused with file:line" \
	wait_log 1 "reload failed, keeping the running configuration: $E2E/custos.conf:3: mime_depth"
e2e_send "$fx/plain.eml"; e2e_wait_sink 3 30
tap_check "the running config stays in service" has_tag 3
cp "$E2E/good.conf" "$E2E/custos.conf"

# TERM with a message in flight: an SMTP session is open (so Postfix holds
# a milter connection) and its DATA is not finished when TERM arrives.
"$PYTHON3" - "$SMTP_PORT" "$fx/plain.eml" "$E2E/inflight.out" "$E2E/milter.pid" <<'EOF' &
import os, signal, smtplib, sys, time
port, path, out, pidfile = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
data = open(path, "rb").read()
s = smtplib.SMTP("127.0.0.1", port, timeout=60)
s.ehlo("inflight.example")
s.mail("sender@example.com")
s.rcpt("rcpt@example.net")
s.putcmd("data")
s.getreply()
s.send(data[:len(data) // 2])
os.kill(int(open(pidfile).read()), signal.SIGTERM)   # stop custos now
time.sleep(1.5)
s.send(data[len(data) // 2:] + b"\r\n.\r\n")
code, msg = s.getreply()
open(out, "w").write("%d %s\n" % (code, msg.decode()))
s.quit()
EOF
client=$!
wait "$client"
tap_check "TERM: the message in flight was accepted ($(cat "$E2E/inflight.out" 2>/dev/null))" \
	grep -q '^250 ' "$E2E/inflight.out"
e2e_wait_sink 4 30
tap_check "TERM: ... and delivered" test "$(e2e_sink_count)" = 4
tap_check "TERM: custos-milter exited" wait_log 1 "stopped"
# Gone, or a zombie waiting for this shell to reap it (exit under ASan
# takes a moment: the leak check runs at exit).
gone() {
	local tries=100
	while kill -0 "$1" 2>/dev/null; do
		case $(ps -o stat= -p "$1" 2>/dev/null) in Z*) return 0 ;; esac
		[ "$tries" -le 0 ] && return 1
		tries=$((tries - 1)); sleep 0.1
	done
}
tap_check "TERM: supervisor and worker are gone" gone "$pid"

tap_done
