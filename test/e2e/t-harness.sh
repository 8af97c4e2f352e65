#!/bin/bash
# t-harness.sh - TAP test of the e2e harness itself, without custos.
#
# Starts the sink, a private Redis and a private Postfix without milter,
# sends a generated 8-bit UTF-8 message and checks it reaches the sink
# unchanged; then points Postfix at a milter port where nothing listens and
# checks that mail is tempfailed (4xx, no queue ID, nothing delivered).
# Finally checks that e2e_stop_all leaves no process behind.
#
# Run by hand:
#   top_srcdir=/work/main top_builddir=/work/main bash test/e2e/t-harness.sh
# Set E2E_KEEP=1 to keep the temporary directory for inspection.

# The helpers are called through check, which shellcheck cannot see:
# shellcheck disable=SC2317
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/test/e2e/lib.sh"

e2e_require
tap_plan 19
e2e_setup

# check DESCRIPTION CMD...: tap_check that dumps the logs on failure.
check() {
    tap_check "$@" || e2e_dump_logs 20
}

# write_message FILE: a text/plain message with 8-bit UTF-8 Chinese text,
# a line of 3000 bytes, a leading dot, a tab and trailing spaces.
write_message() {
    local long
    long=$(printf '%.0s0123456789' $(seq 1 270))$(printf '%.0s中文' $(seq 1 50))
    {
        printf 'From: Sender <sender@example.com>\n'
        printf 'To: Recipient <rcpt@example.net>\n'
        printf 'Subject: =?UTF-8?B?%s?=\n' "$(printf '测试邮件 harness' | base64 -w0)"
        printf 'Date: Mon, 01 Jan 2024 12:00:00 +0800\n'
        printf 'Message-ID: <harness.%s@example.com>\n' "$$"
        printf 'MIME-Version: 1.0\n'
        printf 'Content-Type: text/plain; charset=UTF-8\n'
        printf 'Content-Transfer-Encoding: 8bit\n'
        printf '\n'
        printf '你好，这是一封测试邮件。Hello, this is a test message.\n'
        printf '客户名单：张三，李四。\n'
        printf '.a line that starts with a dot\n'
        printf 'tab\there, trailing spaces   \n'
        printf '%s\n' "$long"
        printf '\n'
        printf '谢谢！\n'
    } >"$1"
}

# env_is FILE.env FROM RCPT...: the sink's envelope is exactly this.
env_is() {
    "$PYTHON3" - "$@" <<'EOF'
import json, sys
env = json.load(open(sys.argv[1], encoding="utf-8"))
want = {"mail_from": sys.argv[2], "rcpt_to": sys.argv[3:]}
got = {k: env.get(k) for k in want}
if got != want:
    print("envelope %r, expected %r" % (got, want))
    sys.exit(1)
EOF
}

# headers_have FILE REGEX: the header section of FILE matches REGEX.
headers_have() {
    sed '/^\r\{0,1\}$/q' "$1" | grep -Eq "$2"
}

# reply_matches REGEX: the last SMTP reply matches REGEX.
reply_matches() {
    local reply
    reply=$(e2e_last_reply)
    echo "last reply: $reply"
    printf '%s\n' "$reply" | grep -Eq "$1"
}

# accepted_count: messages Postfix has accepted so far (per the log).
accepted_count() {
    grep -c ': client=' "$E2E/maillog"
}

# two_recipients_delivered: the 2nd message came with both recipients.
two_recipients_delivered() {
    e2e_wait_sink 2 30 &&
        env_is "$E2E/sink/000002.env" sender@example.com one@example.net two@example.org
}

# nothing_accepted BEFORE: no queue ID in the last reply and the log shows
# no more accepted messages than BEFORE.
nothing_accepted() {
    ! grep -q "queued as" "$E2E/swaks.out" && test "$(accepted_count)" -eq "$1"
}

# all_gone PID...: none of the processes is alive any more.
all_gone() {
    local pid rc=0
    for pid in "$@"; do
        if _e2e_alive "$pid"; then
            echo "still running: $(ps -o pid=,args= -p "$pid")"
            rc=1
        fi
    done
    return "$rc"
}

msg=$E2E/harness.eml
write_message "$msg"

# --- the world, without milter
check "sink started" e2e_start_sink
check "redis started" e2e_start_redis
check "postfix started" e2e_start_postfix
check "smtpd_milters emptied and postfix reloaded" e2e_set_milter ""

# --- a message goes through unchanged
check "swaks sends the message" e2e_send "$msg"
check "reply is 250 with a queue ID" reply_matches '^250 .*queued as [0-9A-Za-z]+'
check "the sink got the message" e2e_wait_sink 1 30
check "envelope kept" env_is "$E2E/sink/000001.env" sender@example.com rcpt@example.net
check "Postfix added its Received: header" \
    headers_have "$(e2e_sink_file 1)" 'by custos-gw\.localdomain \(Postfix\)'
check "delivered message equals the sent one" e2e_same_message "$msg" "$(e2e_sink_file 1)"
check "queue is empty" test "$(e2e_postqueue_count)" -eq 0

# --- several recipients in one transaction
E2E_TO="one@example.net two@example.org" check "swaks sends to two recipients" e2e_send "$msg"
check "one copy with both recipients reaches the sink" two_recipients_delivered

# --- milter down + milter_default_action=tempfail: nothing accepted
before=$(accepted_count)
check "no milter listens on port $MILTER_PORT" e2e_port_free "$MILTER_PORT"
check "smtpd_milters points at the closed port" e2e_set_milter "inet:127.0.0.1:$MILTER_PORT"
e2e_send "$msg"
check "send is refused with a 4xx reply" reply_matches '^4[0-9][0-9] '
check "no queue ID issued, Postfix accepted nothing" nothing_accepted "$before"
e2e_flush
sleep 1
check "nothing more reached the sink" test "$(e2e_sink_count)" -eq 2

# --- cleanup stops everything
pids="$(_e2e_master_pid) $(_e2e_readpid "$E2E/redis/redis.pid") $(_e2e_readpid "$E2E/sink.pid")"
e2e_stop_all
# shellcheck disable=SC2086
check "e2e_stop_all stopped postfix, redis and the sink" all_gone $pids

tap_done
