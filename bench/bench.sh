#!/usr/bin/env bash
# kdx against Debian's crash on the same dump, in one run: start-up
# (cold and warm DWARF index), ps, foreach bt.
#   bench/bench.sh [FIXTURE_DIR] [FORMAT]
# Prints a markdown table: wall time and peak RSS of each tool for each
# workload, and the ratios crash/kdx. kdx is measured cold (empty DWARF
# index cache) and warm. A workload crash cannot do is reported as such.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
for p in crash time; do dpkg -s "$p" >/dev/null 2>&1 || { apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$p" >/dev/null; }; done
kdx=${KDX:-$("$top/scripts/setup.sh" "$top/build" | tail -1)}
fix=${1:-$(grep -m1 '/l4-sysrq$' "$("$top/tests/fixtures/gen.sh" --list-file)")}
fmt=${2:-elf}
dump="$fix/vmcore.$fmt"
[ -f "$dump" ] || { echo "bench: no dump $dump (run tests/fixtures/gen.sh first)" >&2; exit 1; }
vmlinux=$(readlink -f "$fix/vmlinux")
work=$(mktemp -d /tmp/kdx-bench.XXXXXX)
cache=$work/cache
mkdir -p "$cache"
trap 'rm -rf "$work"' EXIT

# measure TOOL INPUT -> "seconds maxrss_kb lines"
measure() {
	local tool=$1 input=$2 out
	out=$(mktemp "$work/out.XXXXXX")
	if [ "$tool" = crash ]; then
		printf '%s\nquit\n' "$input" | /usr/bin/time -f '%e %M' -o "$out.t" crash -s "$vmlinux" "$dump" > "$out" 2>/dev/null || true
	else
		printf '%s\n' "$input" | /usr/bin/time -f '%e %M' -o "$out.t" "$kdx" --cache-dir="$cache" "$vmlinux" "$dump" > "$out" 2>/dev/null || true
	fi
	echo "$(tail -1 "$out.t") $(wc -l < "$out")"
	rm -f "$out" "$out.t"
}

row() {  # NAME INPUT
	local name=$1 input=$2 c k
	c=$(measure crash "$input")
	k=$(measure kdx "$input")
	set -- $c $k
	awk -v n="$name" -v ct="$1" -v cm="$2" -v cl="$3" -v kt="$4" -v km="$5" -v kl="$6" 'BEGIN {
		printf "| %s | %.2f s, %d MB, %d lines | %.2f s, %d MB, %d lines | %.1fx | %.1fx |\n",
			n, ct, cm/1024, cl, kt, km/1024, kl, (kt>0?ct/kt:0), (km>0?cm/km:0) }'
}

echo "Dump: $dump ($(du -h "$dump" | cut -f1)), vmlinux: $vmlinux"
echo "Machine: $(nproc) cores, $(uname -r); crash $(dpkg-query -W -f='${Version}' crash); kdx $(git -C "$top" rev-parse --short HEAD)"
echo
echo "| workload | crash | kdx | time ratio (crash/kdx) | memory ratio |"
echo "|---|---|---|---|---|"
c=$(measure crash sys); k=$(measure kdx sys); kw=$(measure kdx sys)
set -- $c $k $kw
awk -v ct="$1" -v cm="$2" -v kt="$4" -v km="$5" -v wt="$7" -v wm="$8" 'BEGIN {
	printf "| start + sys (kdx cold index) | %.2f s, %d MB | %.2f s, %d MB | %.1fx | %.1fx |\n", ct, cm/1024, kt, km/1024, (kt>0?ct/kt:0), (km>0?cm/km:0)
	printf "| start + sys (kdx warm index) | %.2f s, %d MB | %.2f s, %d MB | %.1fx | %.1fx |\n", ct, cm/1024, wt, wm/1024, (wt>0?ct/wt:0), (wm>0?cm/wm:0) }'
row "ps" "ps"
row "foreach bt" "foreach bt"
# Long list walks are measured by bench/list.sh.
