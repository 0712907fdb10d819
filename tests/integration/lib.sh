# lib.sh: helpers for kdx integration tests.  Source it from a test script:
#
#   . "$(dirname "$0")/lib.sh"
#
# A test script is run by tests/run-tests.sh once per fixture dump, with
#   KDX      the kdx binary            FIXDIR   the fixture directory
#   VMLINUX  the fixture's vmlinux     DUMP     the dump file ($FIXDIR/vmcore.$FORMAT)
#   FORMAT   elf|flat|kdump|...        GT       $FIXDIR/gt.txt
#   CONSOLE  $FIXDIR/console.log
# and prints TAP-like lines "ok - NAME" / "not ok - NAME" (ok / not_ok below).
# tests/fixtures/README.md documents gt.txt.

KDX_TESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")/.." && pwd)
KDX_FIXTURE_DIR=${KDX_FIXTURE_DIR:-/var/cache/kdx/fixtures}

# The generator version the tests expect (the fixture cache is keyed by it).
kdx_genversion() {
	sed -n 's/^GENVERSION=\([0-9][0-9]*\).*/\1/p' "$KDX_TESTS_DIR/fixtures/gen.sh" | head -n1
}

# fixture_dirs: list the complete fixture directories, one per line.
# $KDX_FIXTURES (space- or newline-separated dirs) overrides the cache;
# $KDX_FIXTURE_ABI restricts the cache to one kernel ABI.  Benchmark-only
# fixtures (info purpose=bench, e.g. l4-threads5k) are left out unless
# KDX_BENCH_FIXTURES=1.
fixture_dirs() {
	local d g f
	if [ -n "${KDX_FIXTURES:-}" ]; then
		for d in $KDX_FIXTURES; do
			[ -f "$d/done" ] && echo "${d%/}"
		done
		return 0
	fi
	g=$(kdx_genversion)
	for f in "$KDX_FIXTURE_DIR"/${KDX_FIXTURE_ABI:-*}/g"$g"/fixtures.list; do
		[ -f "$f" ] || continue
		while read -r d; do
			[ -n "$d" ] && [ -f "$d/done" ] || continue
			if [ "${KDX_BENCH_FIXTURES:-0}" != 1 ] && grep -qE '^(purpose=bench|nthreads=[1-9][0-9]*)$' "$d/info" 2>/dev/null; then
				continue
			fi
			echo "$d"
		done < "$f"
	done
	return 0
}

# fixture_formats FIXDIR: the dump formats present in a fixture, one per line.
fixture_formats() {
	local f
	for f in $(fixture_info "$1" formats); do
		[ -s "$1/vmcore.$f" ] && echo "$f"
	done
	return 0
}

# fixture_info FIXDIR KEY: a value from the fixture's info file.
fixture_info() {
	sed -n "s/^$2=//p" "$1/info" | head -n1
}

# gt FIXDIR TYPE: the gt.txt records of that type, whole lines
# (e.g. `gt "$FIXDIR" task` prints "task 1 1 0 S init" ...).
gt() {
	awk -v t="$2" '$1 == t' "$1/gt.txt"
}

# gt_value FIXDIR TYPE KEY: the rest of the line of the record "TYPE KEY ..."
# (e.g. `gt_value "$FIXDIR" fixture list_head` -> 0xffffffffc0545100,
#  `gt_value "$FIXDIR" sys release` -> 6.1.0-56-cloud-amd64).
gt_value() {
	awk -v t="$2" -v k="$3" '$1 == t && $2 == k { sub(/^[^ ]* [^ ]* ?/, ""); print; exit }' "$1/gt.txt"
}

KDX_TEST_FAILED=0

# ok NAME
ok() {
	echo "ok - $*"
}

# not_ok NAME [EXPECTED GOT]
not_ok() {
	KDX_TEST_FAILED=1
	echo "not ok - $1"
	if [ $# -ge 2 ]; then
		printf '%s\n' "$2" | sed 's/^/#   expected: /'
	fi
	if [ $# -ge 3 ]; then
		printf '%s\n' "$3" | sed 's/^/#   got:      /'
	fi
}

# skip NAME REASON: counted as passed by run-tests.sh.
skip() {
	echo "ok - $1 # SKIP ${2:-}"
}

# limit_memory: a runaway allocation in kdx is a test failure, not a
# machine-wide OOM: cap this shell's (and so kdx's) memory. ASan reserves
# terabytes of address space, so an ASan build gets an RSS limit instead.
# Leak reports are off unless ASAN_OPTIONS says otherwise.
limit_memory() {
	export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}
	if ldd "$KDX" 2>/dev/null | grep -q libasan; then
		export ASAN_OPTIONS="$ASAN_OPTIONS:hard_rss_limit_mb=3000"
	else
		ulimit -v 4000000 2>/dev/null
	fi
}

# check NAME EXPECTED GOT: ok if equal, not ok with both values otherwise.
check() {
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "$2" "$3"; fi
}

# kdx_batch DUMP CMD...: run kdx in batch mode, one command per argument.
kdx_batch() {
	local dump=$1
	shift
	printf '%s\n' "$@" | $KDX $VMLINUX "$dump"
}

# kdx_cmd CMD...: kdx_batch on this test's $DUMP.
kdx_cmd() {
	kdx_batch "$DUMP" "$@"
}
