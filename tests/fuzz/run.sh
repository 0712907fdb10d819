#!/bin/bash
# Fuzz the probe language front end (and the dump-free interpreter) with
# libFuzzer for SECONDS (default 60), seeded with doc/examples and the
# malformed-script corpus. Exits non-zero if the fuzzer finds a crash, a
# leak or undefined behaviour; skips (exit 0, says why) without clang.
# The last line is TAP-like for tests/run-tests.sh: "ok - ..." (also for a
# skip, with "# SKIP") or "not ok - ...".
#
#   tests/fuzz/run.sh [SECONDS]
set -u
SECONDS_TO_RUN=${1:-60}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${KDX_FUZZ_DIR:-$ROOT/build-fuzz}
CC=${CLANG:-clang}

if ! command -v "$CC" >/dev/null 2>&1; then
	echo "ok - probe parser fuzz # SKIP $CC not found (apt-get install clang)"
	exit 0
fi
mkdir -p "$OUT/corpus" "$OUT/artifacts"
# libFuzzer needs clang's runtime; check it links before blaming kdx.
if ! echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }' |
	"$CC" -x c -fsanitize=fuzzer - -o "$OUT/check" 2>/dev/null; then
	echo "ok - probe parser fuzz # SKIP $CC cannot build libFuzzer targets (missing compiler-rt?)"
	exit 0
fi

PKGS="libdw libelf"
CFLAGS="-D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -I$ROOT/src -I$ROOT/include"
if ! "$CC" $CFLAGS -o "$OUT/probe_parse_fuzz" \
	"$ROOT/tests/fuzz/probe_parse_fuzz.c" "$ROOT/tests/fuzz/stubs.c" \
	"$ROOT"/src/probe/lexer.c "$ROOT"/src/probe/parser.c "$ROOT"/src/probe/check.c \
	"$ROOT"/src/probe/interp.c "$ROOT"/src/probe/builtins.c "$ROOT"/src/probe/points.c \
	"$ROOT"/src/error.c "$ROOT"/src/util.c; then
	echo "not ok - probe parser fuzz: the fuzz target does not build"
	exit 1
fi

# Seeds: every example and every malformed script.
cp "$ROOT"/doc/examples/*.stp "$ROOT"/tests/probe/bad/*.stp "$ROOT"/tests/probe/bad-dump/*.stp "$OUT/corpus/" 2>/dev/null
cat > "$OUT/probe.dict" <<'DICT'
"probe"
"global"
"function"
"foreach"
"in"
"limit"
"delete"
"try"
"catch"
"next"
"return"
"begin"
"end"
"error"
"<<<"
"@count("
"@hist_log("
"@hist_linear("
"@cast("
"@defined("
"printf("
"sprintf("
"$task"
"->"
"[k1, k2]"
"%d"
"%s"
"%-10s"
DICT

echo "fuzzing the probe parser for ${SECONDS_TO_RUN}s ($OUT)"
"$OUT/probe_parse_fuzz" -max_total_time="$SECONDS_TO_RUN" -max_len=4096 -timeout=10 \
	-rss_limit_mb=2048 -dict="$OUT/probe.dict" -artifact_prefix="$OUT/artifacts/" \
	-print_final_stats=1 "$OUT/corpus" 2>"$OUT/fuzz.log"
rc=$?
tail -n 15 "$OUT/fuzz.log"
runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$OUT/fuzz.log" | tail -n1)
if [ $rc -ne 0 ]; then
	echo "not ok - probe parser fuzz: the fuzzer found a problem (rc=$rc); reproducer in $OUT/artifacts/"
	exit 1
fi
echo "ok - probe parser fuzz: no crash in ${SECONDS_TO_RUN}s (${runs:-?} runs)"
