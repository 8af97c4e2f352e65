#!/usr/bin/env bash
# run-all.sh - the whole test suite, as README.md and CI run it.
#
#   sudo test/run-all.sh          # from the source tree
#
# Builds custos twice in separate build directories (build/plain with
# warnings as errors, build/asan with AddressSanitizer and UBSan), runs
# `make check` in each (unit tests, CLI tests, end-to-end tests with a
# private Postfix and Redis; those need root), then the libFuzzer targets
# for FUZZ_SECONDS each (default 20, 0 skips; build/fuzz, clang), then
# `make distcheck` unless SKIP_DISTCHECK=1.  After the two builds, the
# soak test in build/plain (SOAK_SECONDS, default 120; 0 skips).  Each
# step's heading says how many seconds the run has taken so far.  Ends
# with one line "N passed, N failed".
# Exit status: 0 only when every test passed and nothing failed to build.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
jobs=$(nproc 2>/dev/null || echo 2)
passed=0 failed=0 status=0

note() { printf '\n=== [%ss] %s\n' "$SECONDS" "$*"; }	# time since the start

# Adds the counts from a build's test-suite.log summary.
count() {
	local log=$1/test-suite.log p f e x
	[ -f "$log" ] || return 0
	p=$(sed -n 's/^# PASS: *//p' "$log" | head -1)
	f=$(sed -n 's/^# FAIL: *//p' "$log" | head -1)
	e=$(sed -n 's/^# ERROR: *//p' "$log" | head -1)
	x=$(sed -n 's/^# XPASS: *//p' "$log" | head -1)
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0} + ${e:-0} + ${x:-0}))
}

# build DIR CONFIGURE-ARGS...: configure, make, make check in DIR.
build() {
	local dir=$1; shift
	note "build $dir: configure $*"
	mkdir -p "$dir"
	( cd "$dir" && "$top/configure" --enable-werror "$@" >configure.out 2>&1 ) ||
		{ tail -30 "$dir/configure.out"; status=1; failed=$((failed + 1)); return 1; }
	if ! make -C "$dir" -j"$jobs" >"$dir/make.out" 2>&1; then
		tail -40 "$dir/make.out"; status=1; failed=$((failed + 1)); return 1
	fi
	note "make check in $dir"
	make -C "$dir" -j"$jobs" check || status=1
	count "$dir"
	if [ "$status" -ne 0 ] && [ -f "$dir/test-suite.log" ]; then
		# Show what failed in full: CI keeps only the output.
		sed -n '/^FAIL\|^ERROR/,$p' "$dir/test-suite.log" | head -300
	fi
}

[ -x configure ] || ./autogen.sh >/dev/null 2>&1 || { echo "autogen.sh failed"; exit 1; }

build build/plain
# ASan/UBSan: leaks are reported, and any report fails the test.
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	build build/asan --enable-sanitizers

# The soak test, in the plain build only (under ASan it measures ASan):
# SOAK_SECONDS of mixed traffic through the private Postfix with Redis
# outages and reloads (default 120 here, 0 skips; see test/soak/t-soak.sh).
# Shorter runs end before malloc has warmed up and read as a leak.
soak_seconds=${SOAK_SECONDS:-120}
if [ "$soak_seconds" != 0 ] && [ -x build/plain/custos-milter ]; then
	note "soak: ${soak_seconds}s through the private Postfix"
	( cd build/plain && SOAK_SECONDS=$soak_seconds top_srcdir=$top \
	    top_builddir=$top/build/plain bash "$top/test/soak/t-soak.sh" ) \
	    >build/plain/soak.out 2>&1
	rc=$?
	p=$(grep -c '^ok ' build/plain/soak.out)
	f=$(grep -c '^not ok ' build/plain/soak.out)
	if [ "$rc" = 0 ] && grep -q '^1\.\.0 # SKIP' build/plain/soak.out; then
		echo "soak: $(grep '^1\.\.0 # SKIP' build/plain/soak.out)"
	elif [ "$rc" = 0 ] && [ "$f" = 0 ] && [ "$p" -gt 0 ]; then
		passed=$((passed + p))
		grep '^# ' build/plain/soak.out
		echo "soak: ok ($p checks)"
	else
		tail -80 build/plain/soak.out
		status=1
		failed=$((failed + ${f:-0} + 1))
		echo "soak: FAILED (exit $rc)"
	fi
fi

# libFuzzer: every target for FUZZ_SECONDS (default 20; 0 skips), from
# the fixtures' seed corpus.  Longer runs: test/fuzz/run-fuzz.sh.
fuzz_seconds=${FUZZ_SECONDS:-20}
if [ "$fuzz_seconds" != 0 ]; then
	note "fuzz: build build/fuzz (clang, libFuzzer), ${fuzz_seconds}s a target"
	mkdir -p build/fuzz
	if ( cd build/fuzz && CC=clang "$top/configure" --enable-fuzzing \
	    >configure.out 2>&1 ) &&
	    make -C build/fuzz -j"$jobs" >build/fuzz/make.out 2>&1; then
		test/fuzz/run-fuzz.sh build/fuzz "$fuzz_seconds" | tee build/fuzz/run.out
		p=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p' build/fuzz/run.out)
		f=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p' build/fuzz/run.out)
		passed=$((passed + ${p:-0}))
		failed=$((failed + ${f:-1}))
		[ "${f:-1}" = 0 ] || status=1
	else
		tail -30 build/fuzz/configure.out build/fuzz/make.out 2>/dev/null
		status=1
		failed=$((failed + 1))
	fi
fi

if [ "${SKIP_DISTCHECK:-0}" != 1 ] && [ -f build/plain/Makefile ]; then
	note "make distcheck"
	if ! make -C build/plain -j"$jobs" distcheck >build/distcheck.out 2>&1; then
		tail -60 build/distcheck.out
		status=1
		failed=$((failed + 1))
		echo "distcheck: FAILED"
	else
		echo "distcheck: ok"
	fi
fi

note "done"
echo "$passed passed, $failed failed"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ]
