#!/bin/bash
# install-deps.sh - install every Debian package custos needs to build,
# test (make check, including the Postfix end-to-end tests) and run its demo.
#
#   sudo ./contrib/install-deps.sh
#
# Debian 12 (bookworm).  Idempotent: when everything is installed already it
# touches nothing.  apt output goes to a log file; one summary line is
# printed, or the log's tail and a non-zero exit status on failure.
#
# Postfix is preseeded as "No configuration": the install asks nothing and
# sets up no system mail service.  If the package install left the system
# postfix or redis-server running on its standard port, they are stopped:
# the demo and the tests run private instances on other ports.
#
# Hyperscan exists only for x86; elsewhere (arm64, ...) libvectorscan-dev
# provides the same library (libhs).

set -u

LOG=${INSTALL_DEPS_LOG:-/tmp/custos-install-deps.log}

# poppler-utils: pdftotext, which custos runs to read PDF attachments.
# zip, p7zip-full, bzip2, xz-utils, qpdf: the test fixtures' archives and
# encrypted PDF are made with the real tools.  clang, libclang-rt-14-dev:
# the libFuzzer targets (test/fuzz).
PACKAGES="build-essential autoconf automake libtool pkg-config
    libgmime-3.0-dev libglib2.0-dev libmilter-dev libconfuse-dev
    libhiredis-dev libcmocka-dev libarchive-dev libdeflate-dev libsodium-dev
    libjson-glib-dev
    poppler-utils
    postfix redis-server redis-tools swaks python3 ca-certificates
    procps iproute2 miltertest jq
    zip unzip p7zip-full bzip2 xz-utils qpdf clang libclang-rt-14-dev"

# die MESSAGE: print MESSAGE and the log's tail, exit 1.
die() {
    echo "install-deps: $*" >&2
    if [ -s "$LOG" ]; then
        echo "---- last lines of $LOG:" >&2
        tail -n 30 "$LOG" >&2
    fi
    exit 1
}

# has_candidate PACKAGE: apt knows an installable version of PACKAGE.
has_candidate() {
    local cand
    cand=$(apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ { print $2 }')
    [ -n "$cand" ] && [ "$cand" != "(none)" ]
}

# installed PACKAGE: dpkg has PACKAGE fully installed.
installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q ' installed$'
}

# hyperscan_package: print the libhs development package for this machine.
hyperscan_package() {
    if installed libhyperscan-dev || installed libvectorscan-dev; then
        installed libhyperscan-dev && echo libhyperscan-dev || echo libvectorscan-dev
    elif [ "$(dpkg --print-architecture)" = amd64 ] && has_candidate libhyperscan-dev; then
        echo libhyperscan-dev
    elif has_candidate libvectorscan-dev; then
        echo libvectorscan-dev
    else
        echo libhyperscan-dev
    fi
}

# missing_packages PACKAGE...: print those not installed yet.
missing_packages() {
    local p
    for p in "$@"; do
        installed "$p" || echo "$p"
    done
}

# preseed_postfix: answer the postfix debconf question in advance.
preseed_postfix() {
    echo "postfix postfix/main_mailer_type select No configuration" |
        debconf-set-selections >>"$LOG" 2>&1 || die "debconf-set-selections failed"
}

# apt_install PACKAGE...: update the package lists and install.
apt_install() {
    apt-get update >>"$LOG" 2>&1 || die "apt-get update failed"
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        "$@" >>"$LOG" 2>&1 || die "apt-get install failed"
}

# listening PORT: something listens on TCP PORT.
listening() {
    ss -Hltn "sport = :$1" 2>/dev/null | grep -q .
}

# stop_system_services: stop the distribution's postfix / redis-server if
# they are running on their standard ports.
stop_system_services() {
    if listening 25 && pgrep -x master >/dev/null; then
        service postfix stop >>"$LOG" 2>&1 || true
    fi
    if listening 6379 && pgrep -x redis-server >/dev/null; then
        service redis-server stop >>"$LOG" 2>&1 || true
    fi
}

main() {
    local hs missing
    # --list: the packages, for callers that run apt-get themselves (CI).
    if [ "${1:-}" = --list ]; then
        # shellcheck disable=SC2086
        echo $PACKAGES "$(hyperscan_package)"
        return 0
    fi
    [ "$(id -u)" -eq 0 ] || { echo "install-deps: run as root (sudo $0)" >&2; exit 1; }
    command -v apt-get >/dev/null || { echo "install-deps: needs Debian (apt-get)" >&2; exit 1; }
    : >"$LOG" || { echo "install-deps: cannot write $LOG" >&2; exit 1; }
    hs=$(hyperscan_package)
    # shellcheck disable=SC2086
    missing=$(missing_packages $PACKAGES "$hs" | tr '\n' ' ')
    if [ -z "$missing" ]; then
        echo "install-deps: all packages already installed ($hs for libhs)"
        stop_system_services
        return 0
    fi
    preseed_postfix
    # shellcheck disable=SC2086
    apt_install $PACKAGES "$hs"
    stop_system_services
    echo "install-deps: installed ${missing% } (log: $LOG)"
}

main "$@"
