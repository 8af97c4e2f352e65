# lib.sh - shared shell functions for the custos end-to-end tests (bash).
#
# Sourced, never executed:  . "$top_srcdir/test/e2e/lib.sh"
#
# It gives test scripts:
#   * TAP output helpers (tap_*), numbering automatically;
#   * a throw-away world in a private directory $E2E: an SMTP sink
#     (sink.py), a private Redis, custos-milter and a private Postfix
#     instance that listens on 127.0.0.1 and relays everything to the sink;
#   * helpers to send mail with swaks and to look at what arrived.
#
# Only 127.0.0.1 is ever used.  e2e_setup installs an EXIT/INT/TERM trap that
# stops everything started (from the pid files, so it also works when a check
# failed half-way) and removes $E2E, unless E2E_KEEP=1.
#
# Environment (all optional):
#   top_builddir, top_srcdir  build/source tree (default: two levels above
#                             this file); programs under test are
#                             $top_builddir/custos-milter and $top_builddir/custos
#   POSTFIX REDIS_SERVER SWAKS PYTHON3   programs to use (configure sets them)
#   CI=true                   missing prerequisites fail instead of skipping
#   E2E_KEEP=1                keep $E2E after the test (for debugging)
#   E2E_DIR=/path             use this directory instead of a mktemp one
#                             (it is then never deleted)
#   E2E_PERSIST=1             no cleanup trap at all: the processes keep
#                             running after the script (contrib/quickstart.sh)
#   SMTP_PORT SINK_PORT MILTER_PORT REDIS_PORT   fixed ports instead of free
#                             random ones
#   E2E_MILTER_CONF           config for custos-milter (default $E2E/custos.conf)
#   E2E_FROM, E2E_TO          envelope for e2e_send (E2E_TO: space-separated)
#
# Test scripts should not use `set -e`; `set -u` is fine.  Functions return
# non-zero on failure and print diagnostics as "# " lines on stdout.

if [ -n "${_E2E_LIB_LOADED:-}" ]; then
    return 0
fi
_E2E_LIB_LOADED=1

_e2e_libdir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${top_builddir:=$(cd "$_e2e_libdir/../.." && pwd)}"
: "${top_srcdir:=$(cd "$_e2e_libdir/../.." && pwd)}"
export top_builddir top_srcdir

E2E=${E2E:-}

# ------------------------------------------------------------------ TAP

_tap_n=0
_tap_failed=0
_tap_planned=

# tap_plan N: print the plan line "1..N".
tap_plan() {
    _tap_planned=$1
    echo "1..$1"
}

# _tap_diag TEXT...: print each line of each argument as a "# " comment.
_tap_diag() {
    local arg
    for arg in "$@"; do
        [ -n "$arg" ] && printf '%s\n' "$arg" | sed 's/^/# /'
    done
    return 0
}

# tap_ok DESCRIPTION: report a passed test.
tap_ok() {
    _tap_n=$((_tap_n + 1))
    echo "ok $_tap_n - $*"
}

# tap_fail DESCRIPTION [DETAILS...]: report a failed test, details as "# ".
tap_fail() {
    local desc=$1
    shift
    _tap_n=$((_tap_n + 1))
    _tap_failed=$((_tap_failed + 1))
    echo "not ok $_tap_n - $desc"
    _tap_diag "$@"
}

# tap_check DESCRIPTION CMD...: run CMD in this shell; ok if it succeeds,
# else not ok with its exit status and output.
tap_check() {
    local desc=$1 out rc
    shift
    out=$(mktemp "${TMPDIR:-/tmp}/custos-tap.XXXXXX")
    "$@" >"$out" 2>&1
    rc=$?
    if [ "$rc" -eq 0 ]; then
        tap_ok "$desc"
    else
        tap_fail "$desc" "command failed (exit $rc): $*" \
            "$(tail -n 40 "$out" | sed 's/^# //')"
    fi
    rm -f "$out"
    return "$rc"
}

# tap_skip_all REASON: skip the whole test file, exit 0.
tap_skip_all() {
    echo "1..0 # SKIP $*"
    exit 0
}

# tap_done: print the plan if none was given; exit 1 on any failure.
tap_done() {
    if [ -z "$_tap_planned" ]; then
        echo "1..$_tap_n"
    elif [ "$_tap_planned" -ne "$_tap_n" ]; then
        _tap_diag "planned $_tap_planned tests but ran $_tap_n"
        exit 1
    fi
    [ "$_tap_failed" -eq 0 ] || exit 1
    exit 0
}

# ------------------------------------------------------------ prerequisites

# _e2e_find_programs: fill in POSTFIX, POSTCONF, POSTQUEUE, REDIS_SERVER,
# REDIS_CLI, SWAKS and PYTHON3 (empty values count as unset).
_e2e_find_programs() {
    local sbin
    [ -n "${POSTFIX:-}" ] || POSTFIX=$(command -v postfix || echo /usr/sbin/postfix)
    sbin=$(dirname "$POSTFIX")
    POSTCONF=${POSTCONF:-$sbin/postconf}
    POSTQUEUE=${POSTQUEUE:-$sbin/postqueue}
    [ -n "${REDIS_SERVER:-}" ] || REDIS_SERVER=$(command -v redis-server || echo redis-server)
    REDIS_CLI=${REDIS_CLI:-$(command -v redis-cli || true)}
    [ -n "${SWAKS:-}" ] || SWAKS=$(command -v swaks || echo swaks)
    [ -n "${PYTHON3:-}" ] || PYTHON3=$(command -v python3 || echo python3)
    export POSTFIX POSTCONF POSTQUEUE REDIS_SERVER REDIS_CLI SWAKS PYTHON3
}

# _e2e_missing: print one line per missing prerequisite.
_e2e_missing() {
    local name prog
    [ "$(id -u)" -eq 0 ] || echo "root privileges (a private Postfix needs root)"
    for name in POSTFIX POSTCONF POSTQUEUE REDIS_SERVER SWAKS PYTHON3; do
        prog=${!name}
        [ -x "$(command -v "$prog" 2>/dev/null)" ] || echo "$name=$prog"
    done
    getent passwd postfix >/dev/null || echo "user postfix"
    getent group postdrop >/dev/null || echo "group postdrop"
}

# e2e_require: check root, postfix, redis-server, swaks and python3.  When
# something is missing: with CI=true print "not ok" and exit 1, otherwise
# skip the whole test (exit 0).  Install them with contrib/install-deps.sh.
e2e_require() {
    local missing
    _e2e_find_programs
    missing=$(_e2e_missing | paste -sd, - | sed 's/,/, /g')
    [ -z "$missing" ] && return 0
    if [ "${CI:-}" = true ]; then
        [ -n "$_tap_planned" ] || echo "1..1"
        tap_fail "e2e prerequisites: missing $missing"
        exit 1
    fi
    tap_skip_all "e2e prerequisites missing: $missing (see contrib/install-deps.sh)"
}

# ------------------------------------------------------------ processes

# _e2e_alive PID: true if PID runs (a zombie counts as dead).
_e2e_alive() {
    local state
    [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null || return 1
    state=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
    [ "$state" != Z ]
}

# _e2e_pid_is PID WORD: true if PID is alive and its command line has WORD
# (guards against stale pid files pointing at a recycled pid).
_e2e_pid_is() {
    _e2e_alive "$1" || return 1
    tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -q -- "$2"
}

# _e2e_readpid FILE: print the pid in FILE (first word), fail if none.
_e2e_readpid() {
    local pid
    [ -r "$1" ] || return 1
    pid=$(awk 'NR == 1 { print $1 }' "$1")
    case $pid in '' | *[!0-9]*) return 1 ;; esac
    echo "$pid"
}

# _e2e_wait_gone TIMEOUT_S PID...: wait until all PIDs are gone (and reap
# our own children); fail if some are still alive after TIMEOUT_S.
_e2e_wait_gone() {
    local tries=$(($1 * 10)) pid alive
    shift
    while :; do
        alive=
        for pid in "$@"; do
            _e2e_alive "$pid" && alive=1
        done
        [ -z "$alive" ] && break
        [ "$tries" -le 0 ] && return 1
        tries=$((tries - 1))
        sleep 0.1
    done
    for pid in "$@"; do
        wait "$pid" 2>/dev/null
    done
    return 0
}

# _e2e_terminate PIDFILE WORD [TIMEOUT_S=10]: SIGTERM the process in
# PIDFILE (if it is a WORD process) and its children, SIGKILL them after
# TIMEOUT_S.  Removes PIDFILE.  Fails only if SIGKILL was needed.
_e2e_terminate() {
    local pid kids rc=0
    pid=$(_e2e_readpid "$1") || return 0
    if _e2e_pid_is "$pid" "$2"; then
        kids=$(pgrep -P "$pid")
        kill -TERM "$pid" 2>/dev/null
        # shellcheck disable=SC2086
        if ! _e2e_wait_gone "${3:-10}" "$pid" $kids; then
            # shellcheck disable=SC2086
            kill -KILL "$pid" $kids 2>/dev/null
            # shellcheck disable=SC2086
            _e2e_wait_gone 5 "$pid" $kids
            rc=1
        fi
    fi
    rm -f "$1"
    return "$rc"
}

# _e2e_spawn LOG CMD...: start CMD in the background, output appended to
# LOG (a restarted program keeps its earlier log).  With E2E_PERSIST=1 it
# gets its own session so it outlives the terminal.
_e2e_spawn() {
    local log=$1
    shift
    if [ "${E2E_PERSIST:-0}" = 1 ]; then
        setsid "$@" >>"$log" 2>&1 </dev/null &
    else
        "$@" >>"$log" 2>&1 </dev/null &
    fi
}

# --------------------------------------------------------------- ports

# e2e_port_free PORT: true if nothing listens on 127.0.0.1:PORT (a server
# could bind it: SO_REUSEADDR, so TIME_WAIT leftovers do not count).
e2e_port_free() {
    "$PYTHON3" - "$1" <<'EOF'
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
finally:
    s.close()
EOF
}

# _e2e_pick_ports N: print N distinct free loopback ports (20000-32000,
# below the kernel's ephemeral range), avoiding the ports other running
# e2e tests noted in their /tmp/custos-e2e.*/ports (make check -j).
_e2e_pick_ports() {
    "$PYTHON3" - "$1" <<'EOF'
import glob, random, socket, sys
want, ports, taken = int(sys.argv[1]), [], set()
for name in glob.glob("/tmp/custos-e2e.*/ports"):
    try:
        taken.update(int(p) for p in open(name).read().split())
    except (OSError, ValueError):
        pass
while len(ports) < want:
    port = random.randint(20000, 32000)
    if port in ports or port in taken:
        continue
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("127.0.0.1", port))
        ports.append(port)
    except OSError:
        pass
    finally:
        s.close()
print(*ports)
EOF
}

# _e2e_ports: keep preset *_PORT variables, pick free ports for the rest;
# note them in $E2E/ports.
_e2e_ports() {
    local picked p1 p2 p3 p4 p5
    picked=$(_e2e_pick_ports 5) || return 1
    read -r p1 p2 p3 p4 p5 <<<"$picked"
    SMTP_PORT=${SMTP_PORT:-$p1}
    SINK_PORT=${SINK_PORT:-$p2}
    MILTER_PORT=${MILTER_PORT:-$p3}
    REDIS_PORT=${REDIS_PORT:-$p4}
    CLIENT_PORT=${CLIENT_PORT:-$p5}
    export SMTP_PORT SINK_PORT MILTER_PORT REDIS_PORT CLIENT_PORT
    echo "$SMTP_PORT $SINK_PORT $MILTER_PORT $REDIS_PORT $CLIENT_PORT" >"$E2E/ports"
}

# e2e_wait_port PORT [TIMEOUT_S=20]: wait until 127.0.0.1:PORT accepts a
# TCP connection.
e2e_wait_port() {
    local tries=$((${2:-20} * 10))
    while ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; do
        [ "$tries" -le 0 ] && return 1
        tries=$((tries - 1))
        sleep 0.1
    done
    return 0
}

# _e2e_wait_file FILE [TIMEOUT_S=10]: wait until FILE exists, non-empty.
_e2e_wait_file() {
    local tries=$((${2:-10} * 10))
    until [ -s "$1" ]; do
        [ "$tries" -le 0 ] && return 1
        tries=$((tries - 1))
        sleep 0.1
    done
}

# -------------------------------------------------------------- setup

# e2e_setup: create $E2E, choose ports, install the cleanup trap.
e2e_setup() {
    _e2e_find_programs
    if [ -n "${E2E_DIR:-}" ]; then
        E2E=$E2E_DIR
        mkdir -p "$E2E" || return 1
    else
        E2E=$(mktemp -d /tmp/custos-e2e.XXXXXX) || return 1
        _e2e_own_dir=1
    fi
    # The Postfix queue lives inside: the postfix user must traverse it.
    chmod 755 "$E2E"
    export E2E
    _e2e_ports || return 1
    if [ "${E2E_PERSIST:-0}" != 1 ]; then
        trap '_e2e_cleanup' EXIT
        trap '_e2e_cleanup; exit 130' INT
        trap '_e2e_cleanup; exit 143' TERM
    fi
}

# e2e_stop_all: stop Postfix, custos-milter, Redis and the sink of $E2E,
# using only the files in $E2E (so it works from any shell).
e2e_stop_all() {
    [ -n "$E2E" ] || return 0
    e2e_stop_postfix
    e2e_stop_milter >/dev/null 2>&1 || true
    e2e_stop_redis
    e2e_stop_sink
}

# _e2e_cleanup: the trap; keeps the exit status.
_e2e_cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    e2e_stop_all >/dev/null 2>&1
    if [ "${E2E_KEEP:-0}" = 1 ]; then
        _tap_diag "E2E_KEEP=1: kept $E2E"
    elif [ -n "${_e2e_own_dir:-}" ]; then
        rm -rf "$E2E"
    fi
    return "$rc"
}

# --------------------------------------------------------------- sink

# e2e_start_sink: start sink.py on $SINK_PORT storing into $E2E/sink.
e2e_start_sink() {
    mkdir -p "$E2E/sink"
    rm -f "$E2E/sink.pid"
    _e2e_spawn "$E2E/sink.log" "$PYTHON3" "$_e2e_libdir/sink.py" \
        --port "$SINK_PORT" --dir "$E2E/sink" --pidfile "$E2E/sink.pid"
    # sink.py writes its pid file once it listens.
    if ! e2e_wait_port "$SINK_PORT" 10 || ! _e2e_wait_file "$E2E/sink.pid" 10; then
        _tap_diag "sink did not start on port $SINK_PORT:" "$(cat "$E2E/sink.log")"
        return 1
    fi
}

# e2e_stop_sink: stop the sink (SIGTERM).
e2e_stop_sink() {
    _e2e_terminate "$E2E/sink.pid" sink.py 10
}

# e2e_sink_count: print how many messages the sink has stored.
e2e_sink_count() {
    find "$E2E/sink" -maxdepth 1 -name '*.eml' 2>/dev/null | wc -l
}

# e2e_wait_sink N [TIMEOUT_S=30]: wait until at least N messages arrived.
e2e_wait_sink() {
    local tries=$((${2:-30} * 10))
    while [ "$(e2e_sink_count)" -lt "$1" ]; do
        [ "$tries" -le 0 ] && return 1
        tries=$((tries - 1))
        sleep 0.1
    done
    return 0
}

# e2e_sink_file K: print the path of the K-th delivered message (.eml; its
# envelope is the same name with .env).
e2e_sink_file() {
    printf '%s/sink/%06d.eml\n' "$E2E" "$1"
}

# -------------------------------------------------------------- redis

# _e2e_redis_ping: true if Redis on $REDIS_PORT answers PING.
_e2e_redis_ping() {
    if [ -n "${REDIS_CLI:-}" ]; then
        [ "$("$REDIS_CLI" -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]
        return
    fi
    (
        exec 3<>"/dev/tcp/127.0.0.1/$REDIS_PORT" || exit 1
        printf 'PING\r\n' >&3
        IFS= read -r -t 2 line <&3 || exit 1
        case $line in +PONG*) exit 0 ;; *) exit 1 ;; esac
    ) 2>/dev/null
}

# e2e_start_redis: a daemonized Redis on 127.0.0.1:$REDIS_PORT and on the
# unix socket $E2E/redis/redis.sock (redis { socket }), without
# persistence, files in $E2E/redis; waits until it answers PING.
e2e_start_redis() {
    local tries=200
    mkdir -p "$E2E/redis"
    "$REDIS_SERVER" --port "$REDIS_PORT" --bind 127.0.0.1 --daemonize yes \
        --unixsocket "$E2E/redis/redis.sock" --unixsocketperm 700 \
        --pidfile "$E2E/redis/redis.pid" --logfile "$E2E/redis/redis.log" \
        --dir "$E2E/redis" --save '' --appendonly no >/dev/null 2>&1
    until _e2e_redis_ping && _e2e_pid_is "$(_e2e_readpid "$E2E/redis/redis.pid")" redis-server; do
        if [ "$tries" -le 0 ]; then
            _tap_diag "redis did not answer on port $REDIS_PORT:" \
                "$(tail -n 20 "$E2E/redis/redis.log" 2>/dev/null)"
            return 1
        fi
        tries=$((tries - 1))
        sleep 0.1
    done
}

# e2e_stop_redis: stop the private Redis.
e2e_stop_redis() {
    _e2e_terminate "$E2E/redis/redis.pid" redis-server 10
}

# ------------------------------------------------------------- milter

# e2e_milter_pid: print the pid of the custos-milter supervisor.
e2e_milter_pid() {
    _e2e_readpid "$E2E/milter.pid" || _e2e_readpid "$E2E/milter.bgpid"
}

# e2e_start_milter [ARGS...]: start custos-milter in the foreground mode in
# the background on inet:$MILTER_PORT@127.0.0.1, log in $E2E/milter.log;
# wait (20 s) until the port accepts connections, else print the log.
e2e_start_milter() {
    local conf=${E2E_MILTER_CONF:-$E2E/custos.conf} pid tries=200
    if [ ! -e "$conf" ] && [ "$conf" = "$E2E/custos.conf" ]; then
        printf 'log_level = "debug"\n' >"$conf"
    fi
    rm -f "$E2E/milter.pid"
    _e2e_spawn "$E2E/milter.log" "$top_builddir/custos-milter" -f -c "$conf" \
        -p "inet:$MILTER_PORT@127.0.0.1" -P "$E2E/milter.pid" "$@"
    pid=$!
    echo "$pid" >"$E2E/milter.bgpid"
    until (exec 3<>"/dev/tcp/127.0.0.1/$MILTER_PORT") 2>/dev/null; do
        if [ "$tries" -le 0 ] || ! _e2e_alive "$pid"; then
            _tap_diag "custos-milter did not start listening on port $MILTER_PORT:" \
                "$(tail -n 40 "$E2E/milter.log")"
            return 1
        fi
        tries=$((tries - 1))
        sleep 0.1
    done
    # Someone else on the port?  Then ours has died by now.
    sleep 0.2
    _e2e_alive "$pid" || {
        _tap_diag "custos-milter exited:" "$(tail -n 40 "$E2E/milter.log")"
        return 1
    }
}

# e2e_stop_milter: SIGTERM custos-milter, wait (20 s) until it and its
# worker exited.  Fails (after SIGKILLing them) if they did not.
e2e_stop_milter() {
    local pid kids
    pid=$(e2e_milter_pid) || return 0
    if _e2e_alive "$pid"; then
        kids=$(pgrep -P "$pid")
        kill -TERM "$pid"
        # shellcheck disable=SC2086
        if ! _e2e_wait_gone 20 "$pid" $kids; then
            _tap_diag "custos-milter (pid $pid) did not exit within 20 s of SIGTERM"
            e2e_kill_milter
            return 1
        fi
    fi
    wait "$pid" 2>/dev/null
    rm -f "$E2E/milter.pid" "$E2E/milter.bgpid"
}

# e2e_kill_milter: SIGKILL the worker(s) then the supervisor.
e2e_kill_milter() {
    local pid kids
    pid=$(e2e_milter_pid) || return 0
    kids=$(pgrep -P "$pid")
    pkill -KILL -P "$pid" 2>/dev/null
    kill -KILL "$pid" 2>/dev/null
    # shellcheck disable=SC2086
    _e2e_wait_gone 10 "$pid" $kids
    rm -f "$E2E/milter.pid" "$E2E/milter.bgpid"
}

# ------------------------------------------------------------ postfix
#
# A private instance: its own config_directory $E2E/postfix (main.cf and
# master.cf written from scratch, nothing copied from /etc/postfix), queue
# $E2E/queue, data $E2E/data, log file $E2E/maillog via postlogd.  Notes:
#  * As root, "postfix -c DIR", "postconf -c DIR", "postqueue -c DIR" and
#    "postsuper -c DIR" work without /etc/postfix/main.cf (Debian's "No
#    configuration" install has none) and without alternate_config_directories.
#    Only non-root postqueue/postdrop/sendmail need the default main.cf.
#    Plain "postconf" (no -c) fails without it; "postconf -d" works.
#  * data_directory must exist owned by postfix before "postfix start"
#    (master.lock); post-install creates the queue directories itself.
#  * maillog_file must lie under maillog_file_prefixes, so that is $E2E.
#  * chroot is off in master.cf: no copies of /etc files in the queue.
#  * Reload takes effect for new SMTP sessions once the master has logged
#    "reload"; e2e_postfix_reload waits for that line.

# _e2e_pf ARGS...: postfix for the private instance.
_e2e_pf() { "$POSTFIX" -c "$E2E/postfix" "$@"; }

# _e2e_postconf_default NAME: the built-in default of a parameter.  Works
# without /etc/postfix/main.cf (postconf -d reads no main.cf).
_e2e_postconf_default() {
    "$POSTCONF" -d -h "$1"
}

# _e2e_write_main_cf: write $E2E/postfix/main.cf from scratch.
_e2e_write_main_cf() {
    local milter="inet:127.0.0.1:$MILTER_PORT"
    cat >"$E2E/postfix/main.cf" <<EOF
# Private Postfix instance of the custos e2e tests; generated by lib.sh.
compatibility_level = 3.6
config_directory = $E2E/postfix
queue_directory = $E2E/queue
data_directory = $E2E/data
command_directory = $(_e2e_postconf_default command_directory)
daemon_directory = $(_e2e_postconf_default daemon_directory)
shlib_directory = $(_e2e_postconf_default shlib_directory)
meta_directory = $(_e2e_postconf_default meta_directory)
mail_owner = postfix
setgid_group = postdrop
syslog_name = custos-e2e
maillog_file = $E2E/maillog
maillog_file_prefixes = $E2E
myhostname = custos-e2e.localdomain
mydomain = localdomain
myorigin = \$myhostname
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relayhost = [127.0.0.1]:$SINK_PORT
smtp_dns_support_level = disabled
smtp_host_lookup = native
smtpd_peername_lookup = no
smtpd_relay_restrictions = permit_mynetworks, reject
smtpd_recipient_restrictions = permit_mynetworks, reject
smtpd_error_sleep_time = 0s
smtpd_banner = \$myhostname ESMTP custos-e2e
# Deliver what arrived, byte for byte: no header rewriting or added
# headers (besides Received:), no folding of long lines by smtp(8).
local_header_rewrite_clients =
smtp_line_length_limit = 0
smtp_tls_security_level = none
smtpd_tls_security_level = none
smtpd_milters = $milter
non_smtpd_milters = $milter
milter_default_action = tempfail
milter_protocol = 6
milter_connect_timeout = 5s
in_flow_delay = 0s
# Tests flush the queue explicitly (e2e_flush).
queue_run_delay = 300s
minimal_backoff_time = 300s
maximal_backoff_time = 600s
smtp_connect_timeout = 5s
delay_warning_time = 0h
biff = no
EOF
}

# _e2e_write_master_cf: write $E2E/postfix/master.cf, no chroot anywhere.
_e2e_write_master_cf() {
    cat >"$E2E/postfix/master.cf" <<EOF
# Private Postfix instance of the custos e2e tests; generated by lib.sh.
# service   type  private unpriv chroot wakeup maxproc command
127.0.0.1:$SMTP_PORT inet n - n - - smtpd
  -o myhostname=custos-gw.localdomain
# The "client MTA": no milter; it queues what it accepts and forwards it
# to the gateway port above, retrying when the gateway says 4xx, as a real
# upstream MTA would.  (A different myhostname on the gateway keeps
# smtp(8) from seeing a loop back to itself.)
127.0.0.1:$CLIENT_PORT inet n - n - - smtpd
  -o smtpd_milters=
  -o content_filter=smtp:[127.0.0.1]:$SMTP_PORT
pickup      unix  n       -      n      60     1       pickup
cleanup     unix  n       -      n      -      0       cleanup
qmgr        unix  n       -      n      300    1       qmgr
rewrite     unix  -       -      n      -      -       trivial-rewrite
bounce      unix  -       -      n      -      0       bounce
defer       unix  -       -      n      -      0       bounce
trace       unix  -       -      n      -      0       bounce
verify      unix  -       -      n      -      1       verify
flush       unix  n       -      n      1000?  0       flush
proxymap    unix  -       -      n      -      -       proxymap
proxywrite  unix  -       -      n      -      1       proxymap
smtp        unix  -       -      n      -      -       smtp
relay       unix  -       -      n      -      -       smtp
showq       unix  n       -      n      -      -       showq
error       unix  -       -      n      -      -       error
retry       unix  -       -      n      -      -       error
discard     unix  -       -      n      -      -       discard
anvil       unix  -       -      n      -      1       anvil
scache      unix  -       -      n      -      1       scache
postlog     unix-dgram n  -      n      -      1       postlogd
EOF
}

# _e2e_smtp_banner: print the first line 127.0.0.1:$SMTP_PORT sends.
_e2e_smtp_banner() {
    (
        exec 3<>"/dev/tcp/127.0.0.1/$SMTP_PORT" || exit 1
        IFS= read -r -t 10 line <&3 || exit 1
        printf 'QUIT\r\n' >&3
        printf '%s\n' "$line"
    ) 2>/dev/null
}

# e2e_start_postfix: configure, check and start the private Postfix on
# 127.0.0.1:$SMTP_PORT; wait (30 s) until it greets with 220.
e2e_start_postfix() {
    local tries=300 out
    mkdir -p "$E2E/postfix" "$E2E/queue" "$E2E/data"
    chown postfix: "$E2E/data"
    _e2e_write_main_cf
    _e2e_write_master_cf
    : >>"$E2E/maillog"
    out=$(_e2e_pf check 2>&1) || {
        _tap_diag "postfix check failed:" "$out"
        return 1
    }
    out=$(_e2e_pf start 2>&1) || {
        _tap_diag "postfix start failed:" "$out" "$(tail -n 20 "$E2E/maillog")"
        return 1
    }
    until _e2e_smtp_banner | grep -q '^220'; do
        if [ "$tries" -le 0 ]; then
            _tap_diag "postfix does not greet on port $SMTP_PORT:" \
                "$(tail -n 20 "$E2E/maillog")"
            return 1
        fi
        tries=$((tries - 1))
        sleep 0.1
    done
}

# _e2e_master_pid: print the pid of the private Postfix master.
_e2e_master_pid() {
    local pid
    pid=$(_e2e_readpid "$E2E/queue/pid/master.pid") || return 1
    _e2e_alive "$pid" || return 1
    echo "$pid"
}

# e2e_stop_postfix: stop the private Postfix; SIGKILL master and its
# children if "postfix stop" did not end it.
e2e_stop_postfix() {
    local pid kids
    [ -f "$E2E/postfix/main.cf" ] || return 0
    pid=$(_e2e_master_pid) || return 0
    _e2e_pf stop >/dev/null 2>&1
    _e2e_wait_gone 10 "$pid" && return 0
    kids=$(pgrep -P "$pid")
    # shellcheck disable=SC2086
    kill -KILL "$pid" $kids 2>/dev/null
    # shellcheck disable=SC2086
    _e2e_wait_gone 5 "$pid" $kids
}

# _e2e_reload_count: how many reloads the master has logged so far.
_e2e_reload_count() {
    grep -c '/master\[[0-9]*\]: reload' "$E2E/maillog" 2>/dev/null
}

# e2e_postfix_reload: "postfix reload", then wait until the master logged
# that it re-read the configuration.
e2e_postfix_reload() {
    local before tries=100
    before=$(_e2e_reload_count)
    _e2e_pf reload >/dev/null 2>&1 || return 1
    while [ "$(_e2e_reload_count)" -le "$before" ]; do
        [ "$tries" -le 0 ] && return 1
        tries=$((tries - 1))
        sleep 0.1
    done
}

# e2e_postconf NAME=VALUE...: change main.cf parameters and reload.
e2e_postconf() {
    "$POSTCONF" -c "$E2E/postfix" -e "$@" && e2e_postfix_reload
}

# e2e_set_milter ADDR: use milter ADDR (e.g. inet:127.0.0.1:PORT, or "" for
# none) for smtpd_milters and non_smtpd_milters, and reload.
e2e_set_milter() {
    e2e_postconf "smtpd_milters=$1" "non_smtpd_milters=$1"
}

# e2e_postqueue_count: print how many messages sit in the private queue.
e2e_postqueue_count() {
    local q=$E2E/queue
    find "$q/maildrop" "$q/incoming" "$q/active" "$q/deferred" "$q/hold" \
        -type f 2>/dev/null | wc -l
}

# e2e_flush: ask the private Postfix to deliver all queued mail now.
e2e_flush() {
    "$POSTQUEUE" -c "$E2E/postfix" -f
}

# ------------------------------------------------------------- sending

# e2e_send FILE [SWAKS ARGS...]: send FILE as the DATA of one SMTP
# transaction to the private Postfix; swaks output goes to $E2E/swaks.out.
# Envelope: E2E_FROM (sender@example.com), E2E_TO (rcpt@example.net; a
# space-separated list is allowed).  E2E_SEND_PORT picks the listener
# (default the gateway, $SMTP_PORT; $CLIENT_PORT is the queueing upstream).
# Returns swaks' exit status.
e2e_send() {
    local file=$1 to port=${E2E_SEND_PORT:-$SMTP_PORT}
    shift
    to=${E2E_TO:-rcpt@example.net}
    to=$(printf '%s' "$to" | tr -s ' \t' ',,' | sed 's/^,//; s/,$//')
    _e2e_smtp_data "$file" >"$E2E/swaks.data" || return 1
    "$SWAKS" --server 127.0.0.1 --port "$port" \
        --from "${E2E_FROM:-sender@example.com}" --to "$to" \
        --data "@$E2E/swaks.data" --no-data-fixup --timeout 60 \
        --suppress-data "$@" >"$E2E/swaks.out" 2>&1
}

# _e2e_smtp_data FILE: print FILE as an SMTP DATA stream for swaks
# --no-data-fixup: bare LF made CRLF, final CRLF ensured, leading dots
# doubled, the closing "." without newline (swaks adds CRLF).  swaks' own
# fix-ups would rewrite headers and expand "\n" and %TOKENS% in the text.
_e2e_smtp_data() {
    "$PYTHON3" - "$1" <<'EOF'
import re, sys
data = open(sys.argv[1], "rb").read()
data = re.sub(rb"(?<!\r)\n", b"\r\n", data)
if data and not data.endswith(b"\r\n"):
    data += b"\r\n"
data = re.sub(rb"(?m)^\.", b"..", data)
sys.stdout.buffer.write(data + b".")
EOF
}

# e2e_last_reply: print the server's last reply before QUIT in the last
# e2e_send - the answer to the end of DATA ("250 2.0.0 Ok: queued as X",
# "550 5.7.1 ...") or the reply that ended the transaction earlier.
e2e_last_reply() {
    awk '
        /^ -> QUIT/ { exit }
        /^(<-|<\*\*) / { sub(/^(<-|<\*\*) +/, ""); last = $0 }
        END { if (last != "") print last; else exit 1 }
    ' "$E2E/swaks.out"
}

# e2e_queue_id: print the queue ID from the last "250 ... queued as ID".
e2e_queue_id() {
    e2e_last_reply | sed -n 's/.*queued as \([0-9A-Za-z]*\).*/\1/p' | grep .
}

# e2e_same_message SENT DELIVERED: compare a sent message with what the
# sink stored, after dropping the trace headers Postfix put on top
# (Received:, Return-Path:, Delivered-To:, X-Original-To:) and making all
# line endings CRLF.  On a difference print where (as "# " lines), fail.
e2e_same_message() {
    "$PYTHON3" - "$1" "$2" <<'EOF'
import re, sys
TRACE = re.compile(rb"^(received|return-path|delivered-to|x-original-to):", re.I)

def crlf(data):
    data = data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    return data if data.endswith(b"\r\n") else data + b"\r\n"

def strip_trace(lines):
    i = 0
    while i < len(lines) and TRACE.match(lines[i]):
        i += 1
        while i < len(lines) and lines[i][:1] in (b" ", b"\t"):
            i += 1
    return lines[i:]

sent = crlf(open(sys.argv[1], "rb").read()).split(b"\r\n")
got = strip_trace(crlf(open(sys.argv[2], "rb").read()).split(b"\r\n"))
if sent == got:
    sys.exit(0)
for n, (a, b) in enumerate(zip(sent, got), 1):
    if a != b:
        col = next((k for k, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
        print("# messages differ at line %d (after trace headers), byte %d" % (n, col + 1))
        print("# sent:      %r" % a[max(0, col - 30):col + 50])
        print("# delivered: %r" % b[max(0, col - 30):col + 50])
        sys.exit(1)
print("# sent has %d lines, delivered %d (after trace headers)" % (len(sent), len(got)))
longer = sent if len(sent) > len(got) else got
print("# first extra line: %r" % longer[min(len(sent), len(got))][:80])
sys.exit(1)
EOF
}

# ---------------------------------------------------------- custos config

# e2e_list_conf DIR CSV: custos.conf lines for the synthetic customer list
# (customers.csv of test/fixtures/make-fixtures.py) at CSV, its key and
# compiled table in DIR: every field of the list, the canary column.
e2e_list_conf() {
    cat <<EOF
key_file = "$1/list.key"
database = "$1/lists.db"
list "customers" {
	file = "$2"
	canary_column = "canary"
	field "mobile" { kind = "mobile" }
	field "email" { kind = "email" }
	field "id_no" { kind = "cn_id" }
	field "name" { kind = "name" }
	field "company" { kind = "company" }
}
EOF
}

# e2e_stop_conf: custos.conf lines for what stopping mail needs: the
# quarantine store and its key in $E2E, releases and notices through the
# private Postfix, postsuper of the private instance.  Sender notices are
# off unless E2E_NOTIFY_SENDER=yes; E2E_OFFICERS ('"a@b", "c@d"') and
# E2E_NOTIFY_WINDOW (default 1h) set the officers' alerts.
e2e_stop_conf() {
    cat <<EOF
quarantine {
	dir = "$E2E/quarantine"
	key_file = "$E2E/quarantine.key"
	relay = "127.0.0.1:$SMTP_PORT"
	postsuper = "$(dirname "${POSTFIX:-/usr/sbin/postfix}")/postsuper"
	postfix_config = "$E2E/postfix"
}
notify {
	sender = ${E2E_NOTIFY_SENDER:-no}
	officers = {${E2E_OFFICERS:-}}
	window = "${E2E_NOTIFY_WINDOW:-1h}"
	relay = "127.0.0.1:$SMTP_PORT"
	from = "custos@example.com"
}
EOF
}

# e2e_sink_grep PATTERN: print the numbers (K of e2e_sink_file) of the
# delivered messages whose text matches the extended regex PATTERN.
e2e_sink_grep() {
    local f
    for f in "$E2E"/sink/*.eml; do
        [ -e "$f" ] || continue
        grep -aqE -- "$1" "$f" && basename "$f" .eml | sed 's/^0*//'
    done
    return 0
}

# -------------------------------------------------------------- logs

# e2e_dump_logs [LINES=40]: print the tails of the logs as "# " lines.
e2e_dump_logs() {
    local n=${1:-40} f
    for f in "$E2E/maillog" "$E2E/milter.log" "$E2E/sink.log" \
        "$E2E/redis/redis.log" "$E2E/swaks.out"; do
        [ -s "$f" ] || continue
        echo "# ---- $f (last $n lines)"
        tail -n "$n" "$f" | sed 's/^/# /'
    done
}
