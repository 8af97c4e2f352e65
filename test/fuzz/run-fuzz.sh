#!/usr/bin/env bash
# run-fuzz.sh - run every libFuzzer target of test/fuzz for a while.
#
#   test/fuzz/run-fuzz.sh BUILD_DIR [SECONDS_PER_TARGET]   (default 60)
#
# BUILD_DIR was configured with `CC=clang ./configure --enable-fuzzing`
# and built.  Each target starts from a seed corpus made by the fixture
# scripts of test/fixtures (messages for the pipeline; archives, office
# documents, PDF, OLE2 and RTF files for their extractors), keeps what
# it finds in BUILD_DIR/fuzz-corpus/TARGET (so later runs go on from
# there) and writes a crashing input to BUILD_DIR/fuzz-artifacts/.
# Limits: 10 s per input (-timeout), 2 GB RSS (-rss_limit_mb), 1 MB
# inputs (the pipeline: 4 MB).
#
# Prints "ok/not ok TARGET" per target and ends with "N passed, N failed";
# exit status 0 only when no target found anything.  Longer runs: give
# SECONDS_PER_TARGET (e.g. 3600) or run a target by hand:
#   BUILD_DIR/test/fuzz/fuzz_ooxml BUILD_DIR/fuzz-corpus/ooxml
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=${1:?usage: run-fuzz.sh BUILD_DIR [SECONDS]}
build=$(cd "$build" && pwd)
seconds=${2:-60}
py=${PYTHON3:-python3}
passed=0 failed=0

seeds=$build/fuzz-seeds
rm -rf "$seeds"
mkdir -p "$seeds/all" "$build/fuzz-artifacts"
# The fixtures, made by the same scripts as the tests'.
"$py" "$top/test/fixtures/make-fixtures.py" "$seeds/all/mail" >/dev/null 2>&1
for s in make-archives.sh make-office.py make-docs.py; do
	[ -e "$top/test/fixtures/$s" ] || continue
	mkdir -p "$seeds/all/$s"
	case $s in
	*.sh) bash "$top/test/fixtures/$s" "$seeds/all/$s" >/dev/null 2>&1 ;;
	*.py) "$py" "$top/test/fixtures/$s" "$seeds/all/$s" >/dev/null 2>&1 ;;
	esac
done

# seed TARGET PATTERN...: copy the fixture files matching a pattern
# (find -iname) into TARGET's seed directory; files over 1 MB are left
# out (libFuzzer would cut them).
seed() {
	local t=$1 p
	shift
	mkdir -p "$seeds/$t"
	for p in "$@"; do
		find "$seeds/all" -type f -iname "$p" -size -1024k \
		    -exec cp -t "$seeds/$t" {} + 2>/dev/null
	done
	# Never an empty corpus: libFuzzer then starts from nothing.
	[ -n "$(ls -A "$seeds/$t")" ] || printf 'x' >"$seeds/$t/empty"
}
seed pipeline '*.eml'
# The engine's list (fuzz_engine.c): its names, companies and mobiles,
# shared and not, near each other and apart.  The first byte picks the
# linking threshold.
mkdir -p "$seeds/engine"
printf '\000联系人 王芳, 长城贸易有限公司' >"$seeds/engine/pair"
printf '\001李娜 13900000001 东方物流 张伟, 华信科技 客户9' >"$seeds/engine/mix"
printf '\002Anna Li, Acme Co., Ltd, tel 139-0000-0005; 王芳 王芳 远大咨询' \
    >"$seeds/engine/latin"
printf '\000客户19 %0300d 长城贸易 13900000019 %0300d 刘洋 鼎盛电子' 0 0 \
    >"$seeds/engine/far"
printf '\001陈静 深圳市星河数码科技 赵敏 深圳市星河数码物流 Northwind Traders 深圳市星河' \
    >"$seeds/engine/heads"
seed archive '*.zip' '*.tar' '*.tgz' '*.gz' '*.bz2' '*.xz' '*.7z' '*.rar'
seed ooxml '*.xlsx' '*.docx' '*.pptx'
seed ooxml_paths '*.xlsx' '*.docx' '*.pptx'
seed odf '*.ods' '*.odt' '*.odp'
seed ole2 '*.xls' '*.doc' '*.ppt' '*.msg'
seed pdf '*.pdf'
seed rtf '*.rtf'

for t in pipeline engine archive ooxml ooxml_paths odf ole2 pdf rtf; do
	bin=$build/test/fuzz/fuzz_$t
	if [ ! -x "$bin" ]; then
		echo "not ok fuzz_$t - not built (configure CC=clang --enable-fuzzing)"
		failed=$((failed + 1))
		continue
	fi
	max_len=1048576
	[ "$t" = pipeline ] && max_len=4194304
	mkdir -p "$build/fuzz-corpus/$t"
	log=$build/fuzz-$t.log
	if "$bin" "$build/fuzz-corpus/$t" "$seeds/$t" \
	    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
	    -max_len="$max_len" -print_final_stats=1 \
	    -artifact_prefix="$build/fuzz-artifacts/$t-" >"$log" 2>&1; then
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
		echo "ok fuzz_$t - ${runs:-?} inputs in ${seconds}s, nothing found"
		passed=$((passed + 1))
	else
		echo "not ok fuzz_$t - see $log; inputs in $build/fuzz-artifacts/"
		grep -E 'ERROR: |SUMMARY: |==[0-9]+==' "$log" | head -20 | sed 's/^/#   /'
		failed=$((failed + 1))
	fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
