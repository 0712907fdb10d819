#!/usr/bin/env bash
# Peak RSS and wall time of kdx, one session per command, on one dump:
# with a warm DWARF index cache and with a cold one (empty cache dir, so
# the first start builds the index), and Debian's crash for reference.
#   bench/memory.sh [FIXTURE_DIR] [FORMAT]
# Env: KDX (binary; default: the tree's), CRASH=0 to skip crash,
#      RUNS (default 3: the best of RUNS is reported, the machine is shared).
# Prints a markdown table; the machine load (uptime) comes first since the
# numbers are only comparable between runs on a similarly loaded machine.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
command -v /usr/bin/time >/dev/null || { echo "memory.sh: needs /usr/bin/time (apt-get install time)" >&2; exit 1; }
if [ -z "${KDX:-}" ]; then
	for k in "$top/kdx" "$top/build/kdx"; do [ -x "$k" ] && { KDX=$k; break; }; done
fi
[ -n "${KDX:-}" ] || { echo "memory.sh: no kdx binary: build it or set KDX" >&2; exit 1; }
fix=${1:-$(grep -m1 '/l4-sysrq$' "$("$top/tests/fixtures/gen.sh" --list-file)")}
fmt=${2:-kdump}
runs=${RUNS:-3}
dump="$fix/vmcore.$fmt"
[ -f "$dump" ] || { echo "memory.sh: no dump $dump (run tests/fixtures/gen.sh first)" >&2; exit 1; }
vmlinux=$(readlink -f "$fix/vmlinux")
work=$(mktemp -d "${TMPDIR:-/tmp}/kdx-memory.XXXXXX")
trap 'rm -rf "$work"' EXIT
warm=$work/warm
mkdir -p "$warm"
docrash=${CRASH:-1}
command -v crash >/dev/null || docrash=0

cmds=(quit sys ps bt "foreach bt" log mod "sym schedule" "struct task_struct" "kmem -i")

# once TOOL CACHE_DIR CMD -> "seconds maxrss_kb"
once() {
	local tool=$1 cache=$2 cmd=$3 t=$work/time.$BASHPID
	if [ "$tool" = crash ]; then
		printf '%s\nquit\n' "$cmd" | /usr/bin/time -f '%e %M' -o "$t" crash -s "$vmlinux" "$dump" >/dev/null 2>&1 || true
	else
		printf '%s\nquit\n' "$cmd" | /usr/bin/time -f '%e %M' -o "$t" "$KDX" --cache-dir="$cache" "$vmlinux" "$dump" >/dev/null 2>&1 || true
	fi
	tail -1 "$t"
	rm -f "$t"
}

# best TOOL MODE CMD -> "seconds maxrss_kb": the fastest of RUNS runs and its RSS
# (MODE cold: a fresh empty cache dir for every run)
best() {
	local tool=$1 mode=$2 cmd=$3 i r out=""
	for ((i = 0; i < runs; i++)); do
		if [ "$mode" = cold ]; then
			rm -rf "$work/cold"
			mkdir -p "$work/cold"
			r=$(once "$tool" "$work/cold" "$cmd")
		else
			r=$(once "$tool" "$warm" "$cmd")
		fi
		out+="$r"$'\n'
	done
	printf '%s' "$out" | sort -n | head -1
}

echo "kdx: $KDX ($("$KDX" --version 2>/dev/null | head -1 || true))"
echo "dump: $dump; vmlinux: $vmlinux"
echo "machine: $(nproc) CPUs; load: $(uptime | sed 's/.*load average: //')"
echo "best of $runs runs; RSS = peak resident set (GNU time %M)"
echo
once kdx "$warm" quit >/dev/null  # fill the warm cache
if [ "$docrash" = 1 ]; then
	echo "| command | kdx warm | kdx cold | crash | crash/kdx warm (time, RSS) |"
	echo "|---|---|---|---|---|"
else
	echo "| command | kdx warm | kdx cold |"
	echo "|---|---|---|"
fi
for c in "${cmds[@]}"; do
	w=$(best kdx warm "$c")
	k=$(best kdx cold "$c")
	if [ "$docrash" = 1 ]; then
		x=$(best crash - "$c")
		set -- $w $k $x
		awk -v n="$c" -v wt="$1" -v wm="$2" -v kt="$3" -v km="$4" -v xt="$5" -v xm="$6" 'BEGIN {
			printf "| %s | %.2f s, %.1f MB | %.2f s, %.1f MB | %.2f s, %.1f MB | %.0fx, %.1fx |\n",
				n, wt, wm/1024, kt, km/1024, xt, xm/1024, (wt>0?xt/wt:0), (wm>0?xm/wm:0) }'
	else
		set -- $w $k
		awk -v n="$c" -v wt="$1" -v wm="$2" -v kt="$3" -v km="$4" 'BEGIN {
			printf "| %s | %.2f s, %.1f MB | %.2f s, %.1f MB |\n", n, wt, wm/1024, kt, km/1024 }'
	fi
done
echo
echo "load after: $(uptime | sed 's/.*load average: //')"
