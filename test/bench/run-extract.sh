#!/bin/sh
# run-extract.sh - extraction throughput per format (doc/performance.md,
# "Attachments"): builds bench_extract against build/plain, makes the
# benchmark documents (make-bench-docs.py: 5 MB xlsx, docx, PDF, and a
# zip of the three) and reads each one 5 times.
#
#   test/bench/run-extract.sh [MEGABYTES]
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
b="$top/build/plain"
mb=${1:-5}
make -C "$b" -j2 libcustos.a >/dev/null
gcc -O2 -Wall -I"$b" -I"$top/src" -o "$b/bench_extract" \
    "$top/test/bench/bench_extract.c" "$b/libcustos.a" \
    $(pkg-config --cflags --libs gmime-3.0 glib-2.0 libhs libconfuse \
    hiredis libsodium json-glib-1.0 libarchive libdeflate) -lpthread -lm
docs="$b/bench-docs-$mb"
[ -f "$docs/bench.zip" ] || python3 "$top/test/bench/make-bench-docs.py" "$docs" "$mb"
echo "# $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'); $(pdftotext -v 2>&1 | head -1)"
"$b/bench_extract" -r 5 "$docs/bench.xlsx" "$docs/bench.docx" \
    "$docs/bench.pdf" "$docs/bench.zip"
