#!/bin/bash
# quickstart.sh - the custos demo, from a fresh Debian 12 source tree.
#
#   sudo ./contrib/quickstart.sh        install, build, start, send a demo mail
#   sudo ./contrib/quickstart.sh stop   stop everything the demo started
#
# What it does:
#   1. contrib/install-deps.sh (Debian packages; Postfix as "No configuration")
#   2. ./autogen.sh, then configure and make in build/demo (a build tree
#      of its own, so the source tree stays clean for test/run-all.sh),
#      unless build/demo/custos-milter is newer than everything in src/
#   3. stops a previous demo, then starts in ./demo-run (kept afterwards):
#        Redis          127.0.0.1:6390   (no persistence)
#        custos-milter  inet 127.0.0.1:8891, config conf/demo.conf
#        SMTP sink      127.0.0.1:2526   (stores mail in demo-run/sink/)
#        Postfix        127.0.0.1:2525   (private instance, milter above,
#                                         relays everything to the sink)
#   4. sends a short Chinese/English demo message with swaks and shows the
#      SMTP reply, the milter's log lines, the delivered headers and the
#      JSON of `custos scan` on the same message.
#
# Only loopback addresses are used; the system's own Postfix and Redis are
# not touched (install-deps.sh merely stops them if the install started
# them).  The functions come from test/e2e/lib.sh in persistent mode.

set -u

SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
DEMO=$SRCDIR/demo-run

BUILD=$SRCDIR/build/demo
export top_srcdir=$SRCDIR top_builddir=$BUILD
export E2E_DIR=$DEMO E2E_PERSIST=1
export SMTP_PORT=2525 SINK_PORT=2526 MILTER_PORT=8891 REDIS_PORT=6390
export CLIENT_PORT=2527
# conf/demo.conf plus the demo customer list, with absolute paths.
export E2E_MILTER_CONF=$DEMO/custos.conf
# shellcheck source=test/e2e/lib.sh
. "$SRCDIR/test/e2e/lib.sh"

# say TEXT: a step header.
say() {
    printf '\n==> %s\n' "$*"
}

# die TEXT: give up.
die() {
    echo "quickstart: $*" >&2
    exit 1
}

# need_root: the private Postfix needs root.
need_root() {
    [ "$(id -u)" -eq 0 ] || die "run as root: sudo $0 ${*:-}"
}

# stop_demo: stop whatever a previous demo in $DEMO left running.
stop_demo() {
    [ -d "$DEMO" ] || return 0
    # shellcheck disable=SC2034  # used by the lib.sh functions
    E2E=$DEMO
    _e2e_find_programs
    e2e_stop_all
}

# build_needed: true unless custos-milter and custos in $BUILD are newer
# than every file in src/.
build_needed() {
    [ -x "$BUILD/custos-milter" ] && [ -x "$BUILD/custos" ] || return 0
    [ -n "$(find "$SRCDIR/src" -newer "$BUILD/custos-milter" -print -quit)" ]
}

# build: autogen/configure (first time only) and make; log in $DEMO.
build() {
    local log=$DEMO/build.log
    if ! build_needed; then
        echo "custos-milter is up to date, not rebuilding"
        return 0
    fi
    echo "building (log: $log) ..."
    (
        cd "$SRCDIR" || exit 1
        [ -x configure ] || ./autogen.sh || exit 1
        mkdir -p "$BUILD" && cd "$BUILD" || exit 1
        [ -f Makefile ] || "$SRCDIR/configure" || exit 1
        make -j"$(nproc)"
    ) >"$log" 2>&1 || {
        tail -n 30 "$log"
        die "build failed, see $log"
    }
    echo "built $BUILD/custos-milter and $BUILD/custos"
}

# check_ports: the fixed demo ports must be free.
check_ports() {
    local port
    for port in "$SMTP_PORT" "$SINK_PORT" "$MILTER_PORT" "$REDIS_PORT" "$CLIENT_PORT"; do
        e2e_port_free "$port" && continue
        ss -ltnp "sport = :$port" 2>/dev/null | sed 's/^/    /'
        die "port 127.0.0.1:$port is in use (see above); stop that first"
    done
}

# write_demo_conf: conf/demo.conf and the demo list (patterns/).
write_demo_conf() {
    {
        cat "$SRCDIR/conf/demo.conf"
        printf '\n# Added by contrib/quickstart.sh: the synthetic demo customer list.\n'
        e2e_list_conf "$DEMO" "$SRCDIR/patterns/demo-customers.csv"
        E2E=$DEMO e2e_stop_conf
    } >"$E2E_MILTER_CONF"
    cat >>"$E2E_MILTER_CONF" <<EOF
internal_domains = {"example.com"}
rule "customers-outside" {
    records = 2  recipients = "not-internal"
    action = "reject"  template = "records"
}
rule "any-customer" { records = 1  action = "tag" }
templates = "$SRCDIR/conf/templates"
contact = "security@example.com"
audit_log = "$DEMO/audit.log"
EOF
}

# start_all: Redis, custos-milter, sink and Postfix in $DEMO.
start_all() {
    write_demo_conf
    e2e_setup || die "cannot set up $DEMO"
    e2e_start_redis || die "redis did not start"
    echo "redis          127.0.0.1:$REDIS_PORT"
    # shellcheck disable=SC2119  # no extra milter arguments
    e2e_start_milter || die "custos-milter did not start (log: $DEMO/milter.log)"
    echo "custos-milter  inet:127.0.0.1:$MILTER_PORT (log: $DEMO/milter.log)"
    e2e_start_sink || die "the SMTP sink did not start"
    echo "SMTP sink      127.0.0.1:$SINK_PORT (messages: $DEMO/sink/)"
    e2e_start_postfix || die "postfix did not start (log: $DEMO/maillog)"
    echo "postfix        127.0.0.1:$SMTP_PORT (log: $DEMO/maillog)"
}

# write_demo_message FILE: a short Chinese/English text mail with made-up
# personal data (a test card number, the standard's sample ID number).
write_demo_message() {
    cat >"$1" <<EOF
From: Zhang San <zhang.san@example.com>
To: Partner <partner@example.net>
Subject: =?UTF-8?B?$(printf '客户资料 customer data' | base64 -w0)?=
Date: $(LC_ALL=C date -R)
Message-ID: <demo.$(date +%s).$$@example.com>
MIME-Version: 1.0
Content-Type: text/plain; charset=UTF-8
Content-Transfer-Encoding: 8bit

你好，

附件是上个季度的客户资料，请查收。
Here is the customer record you asked for:

  姓名 Name:         李四 Li Si
  身份证号 ID No.:   11010519491231002X
  信用卡 Card:       4111 1111 1111 1111
  电话 Phone:        +86 138 0013 8000

两位老客户 Two customers from the list (patterns/demo-customers.csv):
  李磊娟  手机 139-0000-7919  customer00001@example.com
  张涛娜  手机 １３９ ０００１ ５８３８

请勿外传。Please do not forward.

张三
EOF
}

# show_reply: the SMTP transaction's outcome, every line of a
# multi-line reply.
show_reply() {
    say "SMTP reply from Postfix (127.0.0.1:$SMTP_PORT)"
    if grep -aq '^<\*\* ' "$DEMO/swaks.out"; then
        grep -a '^<\*\* ' "$DEMO/swaks.out" | sed 's/^<\*\* */    /'
    else
        e2e_last_reply || sed 's/^/    /' "$DEMO/swaks.out"
    fi
}

# show_milter_log FROM_LINE: milter log lines written since FROM_LINE.
show_milter_log() {
    say "custos-milter log for this message ($DEMO/milter.log)"
    tail -n +"$(($1 + 1))" "$DEMO/milter.log"
}

# show_delivery: wait for the sink and print the delivered headers.
show_delivery() {
    say "delivered message headers ($(e2e_sink_file 1))"
    if ! e2e_wait_sink 1 30; then
        echo "nothing reached the sink within 30 s; the Postfix queue:"
        "$POSTQUEUE" -c "$DEMO/postfix" -p
        return 1
    fi
    sed '/^\r\{0,1\}$/q' "$(e2e_sink_file 1)" | tr -d '\r'
}

# show_scan FILE: what the command-line scanner says about FILE.
show_scan() {
    say "build/demo/custos scan -c demo-run/custos.conf --from ... --to ... $1"
    if command -v jq >/dev/null; then
        "$BUILD/custos" scan -c "$E2E_MILTER_CONF" --from zhang.san@example.com \
            --to partner@example.net "$1" |
            jq '{verdict, policy: (.policy | {sender, recipients, rules}), findings: (.findings | {records, record_ids, kinds, detectors, keywords, samples, list_version})}'
    else
        "$BUILD/custos" scan -c "$E2E_MILTER_CONF" --from zhang.san@example.com \
            --to partner@example.net "$1"
    fi
}

# send_demo: a plain message (delivered) and one with two customers of
# the demo list to an outside address (refused, explained); show what
# happened to each.
send_demo() {
    local msg=$DEMO/demo.eml plain=$DEMO/hello.eml milter_lines
    write_demo_message "$msg"
    printf 'From: zhang.san@example.com\r\nTo: partner@example.net\r\nSubject: lunch\r\n\r\nLunch at 12?\r\n' >"$plain"
    milter_lines=$(wc -l <"$DEMO/milter.log")
    say "sending $plain (no customer data) with swaks"
    E2E_FROM=zhang.san@example.com E2E_TO=partner@example.net e2e_send "$plain"
    show_reply
    case $(e2e_last_reply) in
    2*) show_delivery ;;
    esac
    say "sending $msg (two customers from the list) with swaks"
    E2E_FROM=zhang.san@example.com E2E_TO=partner@example.net e2e_send "$msg"
    show_reply
    case $(e2e_last_reply) in
    2*) show_delivery ;;
    *) echo "(refused: nothing was delivered; the sender keeps the message)" ;;
    esac
    sleep 1
    show_milter_log "$milter_lines"
    show_scan "$msg"
    say "audit log ($DEMO/audit.log), last line"
    tail -n 1 "$DEMO/audit.log" 2>/dev/null
}

# usage_hints: how to go on.
usage_hints() {
    cat <<EOF

==> the demo keeps running.  Send more mail:
    swaks --server 127.0.0.1 --port $SMTP_PORT --from you@example.com \\
          --to someone@example.net --body 'my card is 4111 1111 1111 1111'
    or a whole message:  swaks --server 127.0.0.1 --port $SMTP_PORT \\
          --from you@example.com --to someone@example.net --data @message.eml

    delivered mail:  $DEMO/sink/NNNNNN.eml (envelope in NNNNNN.env)
    logs:            $DEMO/milter.log  $DEMO/maillog
    scan a file:     build/demo/custos scan -c demo-run/custos.conf FILE

    stop everything: sudo $0 stop
EOF
}

main() {
    case ${1:-start} in
    stop)
        need_root stop
        stop_demo
        echo "demo stopped"
        ;;
    start)
        need_root
        _e2e_find_programs
        say "installing Debian packages"
        "$SRCDIR/contrib/install-deps.sh" || die "installing packages failed"
        stop_demo
        check_ports
        rm -rf "$DEMO"
        mkdir -p "$DEMO"
        say "building custos"
        build
        say "starting the demo in $DEMO"
        start_all
        send_demo
        usage_hints
        ;;
    *)
        echo "usage: $0 [start|stop]" >&2
        exit 2
        ;;
    esac
}

main "$@"
