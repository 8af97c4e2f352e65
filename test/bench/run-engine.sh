#!/bin/sh
# run-engine.sh - build bench_engine against build/plain and run the
# standard set (see doc/performance.md, "Detection engine").
#
#   [BUILD=dir] [MAX_N=records] test/bench/run-engine.sh [extra options]
#
# BUILD: the configured build directory to use (default build/plain);
# MAX_N: skip list sizes above it (default 10000000).  Extra options go
# to every bench_engine run, e.g. --cpu-time on a shared box.
#
# Weak fields use --weak-pool 10000 (at most 10000 distinct names and
# 10000 distinct companies): with realistic pools the weak-literal
# Hyperscan compile alone takes minutes at 100k records and hours at 1M
# (doc/performance.md).  The naive design runs at 100k records; at 1M only
# with NAIVE_1M=1, bounded by NAIVE_TIMEOUT seconds (default 900).  The
# full pools at 1M records with REAL_1M=1.
# Detail lines ("#") go to stderr, the table to stdout.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
b="${BUILD:-$top/build/plain}"
max_n="${MAX_N:-10000000}"
# Others may be mid-edit in src/: fall back on the last good library.
if ! make -C "$b" -j2 libcustos.a >/dev/null 2>&1; then
	[ -f "$b/libcustos.a" ] || { echo "no $b/libcustos.a" >&2; exit 1; }
	echo "# make libcustos.a failed; using the existing $b/libcustos.a" \
	    "($(date -r "$b/libcustos.a" '+%F %T'))"
fi
gcc -O2 -Wall -I"$b" -I"$top/src" -o "$b/bench_engine" \
    "$top/test/bench/bench_engine.c" "$b/libcustos.a" \
    $(pkg-config --cflags --libs gmime-3.0 glib-2.0 libhs libconfuse \
    hiredis libsodium libarchive libdeflate json-glib-1.0) -lpthread -lm
echo "# $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), Hyperscan $(pkg-config --modversion libhs)"
"$b/bench_engine" --header
run() {
	[ "$2" -le "$max_n" ] || return 0
	echo "## bench_engine $*" >&2
	"$b/bench_engine" "$@" | tail -n 1
}
W="--weak-pool 10000"
run -n 10000 $W "$@"
run -n 10000 --no-weak "$@"
run -n 100000 $W "$@"
run -n 100000 --no-weak --naive "$@"
run -n 1000000 $W "$@"
run -n 1000000 --no-weak "$@"
run -n 10000000 $W "$@"
run -n 10000000 --no-weak "$@"
# Realistic weak values (no pool: ~583k distinct names, ~798k companies
# at 1M records) build in about a minute: opt in with REAL_1M=1.
if [ "${REAL_1M:-0}" = 1 ] && [ 1000000 -le "$max_n" ]; then
	run -n 1000000 "$@"
fi
# The naive design at 1M records (3M literals) did not compile within
# 15 minutes (over 5 GB) on the reference box: opt in with NAIVE_1M=1.
if [ "${NAIVE_1M:-0}" = 1 ] && [ 1000000 -le "$max_n" ]; then
	if ! timeout "${NAIVE_TIMEOUT:-900}" "$b/bench_engine" -n 1000000 \
	    --no-weak --naive "$@" >/tmp/bench-naive-1m.$$ 2>&1; then
		echo "# naive 1M: not done within ${NAIVE_TIMEOUT:-900} s"
	fi
	tail -n 1 /tmp/bench-naive-1m.$$
	rm -f /tmp/bench-naive-1m.$$
fi
