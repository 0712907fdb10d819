#!/usr/bin/env bash
# Probe-language performance on the fixture dumps: time per hit of a `task`
# probe over every thread (the 5,000-thread fixture l4-threads5k when it is
# there) and of a `list()` probe over the planted 100,000-entry list,
# compared with the equivalent commands (`foreach ... ps`, `foreach bt`,
# `list -s`). Each workload runs in its own kdx process; a baseline process
# (start + sys) is subtracted so the numbers are the work itself.
#
#   bench/probe.sh [TASKS_FIXTURE_DIR] [LIST_FIXTURE_DIR] [FORMAT]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
kdx=${KDX:-$top/kdx}
root=${KDX_FIXTURE_DIR:-/var/cache/kdx/fixtures}
tfix=${1:-$(ls -d "$root"/*/g*/l4-threads5k 2>/dev/null | tail -1)}
lfix=${2:-$(ls -d "$root"/*/g*/l4-sysrq 2>/dev/null | tail -1)}
fmt=${3:-elf}
vmlinux=${VMLINUX:-/usr/lib/debug/boot/vmlinux-6.1.0-56-cloud-amd64}
command -v /usr/bin/time >/dev/null || { echo "bench/probe.sh: needs /usr/bin/time (apt-get install time)"; exit 2; }

# run DUMP CMDS... -> "seconds lines" (best of 3)
run() {
	local dump=$1 best= t l
	shift
	for i in 1 2 3; do
		printf '%s\n' "$@" | /usr/bin/time -f '%e' -o /tmp/kdx-bench.$$ "$kdx" "$vmlinux" "$dump" > /tmp/kdx-bench-out.$$ 2>/dev/null || true
		t=$(tail -1 /tmp/kdx-bench.$$)
		l=$(wc -l < /tmp/kdx-bench-out.$$)
		if [ -z "$best" ] || awk -v a="$t" -v b="$best" 'BEGIN { exit !(a < b) }'; then best=$t; fi
	done
	rm -f /tmp/kdx-bench.$$ /tmp/kdx-bench-out.$$
	echo "$best $l"
}

R=${KDX_BENCH_REPEAT:-5}

row() {  # NAME DUMP HITS BASE SETUP CMD: CMD runs R times after SETUP
	local name=$1 dump=$2 hits=$3 base=$4 setup=$5 cmd=$6 r
	local cmds=("$setup")
	for ((i = 0; i < R; i++)); do cmds+=("$cmd"); done
	r=$(run "$dump" "${cmds[@]}")
	set -- $r
	awk -v n="$name" -v t="$1" -v b="$base" -v h="$hits" -v l="$2" -v r="$R" 'BEGIN {
		w = (t - b) / r; if (w < 0) w = 0; l = l / r
		printf "| %s | %.3f s | %.2f us | %d |\n", n, w, (h > 0 ? w * 1e6 / h : 0), l }'
}

echo "kdx $(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo '?'), $(nproc) cores"
echo
echo "Each workload runs $R times in one kdx process; the table shows one run."
echo
echo "| workload | time (minus start) | per hit | output lines |"
echo "|---|---|---|---|"
if [ -n "$tfix" ] && [ -f "$tfix/vmcore.$fmt" ]; then
	dump=$tfix/vmcore.$fmt
	ntask=$(printf 'ps\n' | "$kdx" "$vmlinux" "$dump" 2>/dev/null | tail -n +2 | wc -l)
	run "$dump" sys >/dev/null    # warm the DWARF index cache
	base=$(run "$dump" sys | cut -d' ' -f1)
	echo "| ($(basename "$tfix"): $ntask tasks; start + sys $base s) | | | |"
	row "probe task { n[execname()]++ } (count by comm)" "$dump" "$ntask" "$base" sys \
		"probe -e 'global n; probe task { n[execname()]++ } probe end { foreach (c in n- limit 5) printf(\"%s %d\\n\", c, n[c]) }'"
	row "probe task { printf pid comm state }" "$dump" "$ntask" "$base" sys \
		"probe -e 'probe task { printf(\"%d %s %s\\n\", tid(), execname(), task_state(\$task)) }'"
	row "probe task { \$task->mm->... typed reads }" "$dump" "$ntask" "$base" sys \
		"probe -e 'global s; probe task { if (\$task->mm) s <<< \$task->mm->map_count } probe end { println(@count(s), \" \", @sum(s)) }'"
	row "ps (equivalent command)" "$dump" "$ntask" "$base" sys "ps"
	row "foreach ps (equivalent command)" "$dump" "$ntask" "$base" sys "foreach ps"
	frames=$(printf '%s\n' "probe -e 'global n; probe task.frame { n++ } probe end { println(n) }'" | "$kdx" "$vmlinux" "$dump" 2>/dev/null | tail -1)
	row "probe task.frame { f[probefunc()]++ } ($frames frames)" "$dump" "$frames" "$base" sys \
		"probe -e 'global f; probe task.frame { f[probefunc()]++ } probe end { foreach (x in f- limit 10) printf(\"%d %s\\n\", f[x], x) }'"
	row "foreach bt (equivalent command)" "$dump" "$frames" "$base" sys "foreach bt"
fi
if [ -n "$lfix" ] && [ -f "$lfix/vmcore.$fmt" ]; then
	dump=$lfix/vmcore.$fmt
	ko=$lfix/kdx_fixture.ko
	run "$dump" sys >/dev/null
	base=$(run "$dump" "mod -s kdx_fixture $ko" | cut -d' ' -f1)
	head=$(printf 'sym kdx_fixture_list\n' | "$kdx" "$vmlinux" "$dump" 2>/dev/null | awk '{ print $1; exit }')
	echo "| ($(basename "$lfix"): 100,000-entry list; start + mod -s $base s) | | | |"
	row "probe list(...) { v <<< \$entry->value }; @hist_log" "$dump" 100000 "$base" "mod -s kdx_fixture $ko" \
		"probe -e 'global v; probe list(\"kdx_fixture_list\", \"struct kdx_fixture_item\", \"link\") { v <<< \$entry->value } probe end { print(@hist_log(v)) }'"
	row "probe list(...) { printf value }" "$dump" 100000 "$base" "mod -s kdx_fixture $ko" \
		"probe -e 'probe list(\"kdx_fixture_list\", \"struct kdx_fixture_item\", \"link\") { printf(\"%d\\n\", \$entry->value) }'"
	row "list -H HEAD -s kdx_fixture_item.value (equivalent command)" "$dump" 100000 "$base" "mod -s kdx_fixture $ko" \
		"list -H $head -s kdx_fixture_item.value -o kdx_fixture_item.link"
	row "list -H HEAD (addresses only)" "$dump" 100000 "$base" "mod -s kdx_fixture $ko" \
		"list -H $head -o kdx_fixture_item.link"
fi
