#!/bin/bash
# Run the kdx test suite: unit tests, then integration tests on every fixture
# dump.  Builds nothing.
#
#   tests/run-tests.sh [--unit|--integration] [PATTERN...]
#
# PATTERN selects tests by substring of the test file name (e.g. t-ps).
# Environment:
#   KDX              kdx binary (default: ./kdx or build/kdx of the tree, else `kdx`)
#   KDX_BUILDDIR     where tests/unit/*_test live (or KDX_BUILD; default: the directory of $KDX)
#   KDX_FIXTURE_DIR  fixture cache (default /var/cache/kdx/fixtures)
#   KDX_FIXTURES     explicit fixture directories (overrides the cache)
#   KDX_FORMATS      restrict to these dump formats (e.g. "elf kdump")
#   KDX_FIXTURE_NAMES restrict to these fixtures (e.g. "l4-sysrq l5-oops")
#   KDX_BENCH_FIXTURES=1 also run on benchmark-only fixtures (l4-threads5k)
#   KDX_TEST_TIMEOUT seconds per test script and dump (default 600)
#   KDX_FUZZ_SECONDS run the probe parser fuzzer that long (default 0: not run)
# A test prints TAP-like "ok - NAME" / "not ok - NAME" lines, or just exits 0
# (one pass) or non-zero (one failure); exit status 77 means skipped (counted
# as passed). Prints each test's output, then exactly "N passed, N failed";
# exits 1 if any test failed.
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/tests/integration/lib.sh"

MODE=all
PATTERNS=()
for a in "$@"; do
	case "$a" in
	--unit) MODE=unit ;;
	--integration) MODE=integration ;;
	-h|--help) sed -n '2,17p' "$0"; exit 0 ;;
	*) PATTERNS+=("$a") ;;
	esac
done

if [ -z "${KDX:-}" ]; then
	for k in "$ROOT/kdx" "$ROOT/build/kdx"; do
		[ -x "$k" ] && { KDX=$k; break; }
	done
	KDX=${KDX:-kdx}
fi
export KDX
KDX_BUILDDIR=${KDX_BUILDDIR:-${KDX_BUILD:-}}
if [ -z "$KDX_BUILDDIR" ]; then
	case "$KDX" in */*) KDX_BUILDDIR=$(dirname "$KDX") ;; *) KDX_BUILDDIR=$ROOT ;; esac
fi
TIMEOUT=${KDX_TEST_TIMEOUT:-600}

PASSED=0
FAILED=0

selected() {
	local p
	[ ${#PATTERNS[@]} = 0 ] && return 0
	for p in "${PATTERNS[@]}"; do
		case "$1" in *"$p"*) return 0 ;; esac
	done
	return 1
}

# run_one LABEL CMD...: run a test, echo its output, count ok / not ok lines.
run_one() {
	local label=$1 out rc np nf
	shift
	echo "# $label"
	out=$(timeout "$TIMEOUT" "$@" 2>&1)
	rc=$?
	[ -n "$out" ] && printf '%s\n' "$out"
	np=$(printf '%s\n' "$out" | grep -c '^ok\b' || true)
	nf=$(printf '%s\n' "$out" | grep -c '^not ok\b' || true)
	if [ $rc = 77 ] && [ "$nf" = 0 ]; then
		# automake's SKIP status
		[ "$np" = 0 ] && { echo "ok - $label # SKIP (exit status 77)"; np=1; }
	elif [ "$np" = 0 ] && [ "$nf" = 0 ]; then
		# no TAP lines: the exit status is the verdict
		if [ $rc = 0 ]; then
			echo "ok - $label"
			np=1
		else
			echo "not ok - $label (exit status $rc)"
			nf=1
		fi
	elif [ $rc != 0 ] && [ "$nf" = 0 ]; then
		echo "not ok - $label (exit status $rc after $np ok)"
		nf=1
	fi
	PASSED=$((PASSED + np))
	FAILED=$((FAILED + nf))
}

# ---- unit tests --------------------------------------------------------------
if [ $MODE != integration ]; then
	shopt -s nullglob
	units=()
	for t in "$KDX_BUILDDIR"/tests/unit/*_test "$ROOT"/tests/unit/*_test; do
		[ -x "$t" ] && [ -f "$t" ] || continue
		case " ${units[*]-} " in *" $(basename "$t") "*) continue ;; esac
		selected "$(basename "$t")" || continue
		units+=("$t")
		run_one "unit $(basename "$t")" "$t"
	done
	shopt -u nullglob
fi

# ---- fuzzing (bounded) ---------------------------------------------------------
if [ $MODE != integration ] && [ "${KDX_FUZZ_SECONDS:-0}" -gt 0 ] && selected fuzz; then
	run_one "fuzz probe parser (${KDX_FUZZ_SECONDS} s)" "$ROOT/tests/fuzz/run.sh" "$KDX_FUZZ_SECONDS"
fi

# ---- integration tests -------------------------------------------------------
if [ $MODE != unit ]; then
	mapfile -t FIXDIRS < <(fixture_dirs)
	if [ ${#FIXDIRS[@]} = 0 ]; then
		echo "# no fixtures found under $KDX_FIXTURE_DIR (g$(kdx_genversion)); run tests/fixtures/gen.sh"
	fi
	shopt -s nullglob
	SCRIPTS=()
	for s in "$ROOT"/tests/integration/t-*.sh; do
		selected "$(basename "$s")" && SCRIPTS+=("$s")
	done
	shopt -u nullglob
	for fx in "${FIXDIRS[@]}"; do
		name=$(basename "$fx")
		if [ -n "${KDX_FIXTURE_NAMES:-}" ]; then
			case " $KDX_FIXTURE_NAMES " in *" $name "*) ;; *) continue ;; esac
		fi
		for fmt in $(fixture_formats "$fx"); do
			if [ -n "${KDX_FORMATS:-}" ]; then
				case " $KDX_FORMATS " in *" $fmt "*) ;; *) continue ;; esac
			fi
			for s in "${SCRIPTS[@]}"; do
				run_one "$(basename "$s") $name $fmt" \
					env FIXDIR="$fx" VMLINUX="$fx/vmlinux" DUMP="$fx/vmcore.$fmt" \
					FORMAT="$fmt" GT="$fx/gt.txt" CONSOLE="$fx/console.log" \
					KDX="$KDX" bash "$s"
			done
		done
	done
fi

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
