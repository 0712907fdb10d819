#!/usr/bin/env bash
# `list -H` over the fixture module's 100,000-entry list: kdx against
# Debian's crash on the same dump, in one run.
#   bench/list.sh [FIXTURE_DIR] [FORMAT]      (default: l5-oops, elf)
#   KDX=path/to/kdx  (default: the kdx of this tree)
# Three forms: the plain walk counted with wc -l, -s kdx_fixture_item.value
# and -S kdx_fixture_item.value. Each tool runs `mod -s kdx_fixture KO`
# then the list. Reported per tool: wall time of the whole run, of a
# baseline run (start + mod -s only), and the difference (the list itself);
# output lines are checked (100,000 entries). Ratios are crash/kdx.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
kdx=${KDX:-$top/kdx}
fix=${1:-$(ls -d /var/cache/kdx/fixtures/*/g*/l5-oops 2>/dev/null | head -n1)}
fmt=${2:-elf}
dump="$fix/vmcore.$fmt"
vmlinux=$(readlink -f "$fix/vmlinux")
ko="$fix/kdx_fixture.ko"
[ -x "$kdx" ] || { echo "no kdx binary at $kdx (build it, or set KDX)" >&2; exit 1; }
[ -r "$dump" ] || { echo "no dump $dump" >&2; exit 1; }
command -v crash >/dev/null || echo "crash is not installed: its columns will be empty" >&2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

now() { date +%s.%N; }

# run TOOL CMD -> "seconds lines exit" ; output in $tmp/out
run() {
	local tool=$1 cmd=$2 t0 t1 rc
	printf 'mod -s kdx_fixture %s\n%s\n' "$ko" "$cmd" >"$tmp/in"
	t0=$(now)
	if [ "$tool" = crash ]; then
		timeout 900 crash -s "$vmlinux" "$dump" -i "$tmp/in" </dev/null >"$tmp/out" 2>"$tmp/err"
	else
		"$kdx" "$vmlinux" "$dump" <"$tmp/in" >"$tmp/out" 2>"$tmp/err"
	fi
	rc=$?
	t1=$(now)
	echo "$(echo "$t1 - $t0" | bc) $(grep -cE '^[0-9a-f]{16}$' "$tmp/out") $rc"
}

LIST="list -H kdx_fixture_list -o kdx_fixture_item.link"
echo "Dump: $dump ($(du -h "$dump" | cut -f1)); $(nproc) cores; crash $(dpkg-query -W -f='${Version}' crash 2>/dev/null || echo '?'); kdx $(git -C "$top" rev-parse --short HEAD 2>/dev/null)"
echo
kb=$(run kdx "sys")
cb=$(command -v crash >/dev/null && run crash "sys" || echo "0 0 127")
echo "baseline (start + mod -s): kdx $(echo "$kb" | cut -d' ' -f1) s, crash $(echo "$cb" | cut -d' ' -f1) s"
echo
echo "| form | kdx total | kdx list | crash total | crash list | entries kdx/crash | ratio list (crash/kdx) | ratio total |"
echo "|---|---|---|---|---|---|---|---|"
for form in "" "-s kdx_fixture_item.value" "-S kdx_fixture_item.value"; do
	k=$(run kdx "$LIST $form")
	if command -v crash >/dev/null; then c=$(run crash "$LIST $form"); else c="0 0 127"; fi
	set -- $k $c $kb $cb
	awk -v f="list -H${form:+ $form}" -v kt="$1" -v kl="$2" -v ct="$4" -v cl="$5" -v crc="$6" \
		-v kb="$7" -v cbt="$10" 'BEGIN {
		kn = kt - kb; if (kn < 0.001) kn = 0.001; cn = ct - cbt;
		cs = (crc == 0) ? sprintf("%.2f s", ct) : sprintf("failed (exit %d)", crc);
		cns = (crc == 0) ? sprintf("%.2f s", cn) : "-";
		printf "| %s | %.2f s | %.3f s | %s | %s | %d / %d | %s | %s |\n", f, kt, kn, cs, cns, kl, cl,
			(crc == 0) ? sprintf("%.0fx", cn / kn) : "-", (crc == 0) ? sprintf("%.1fx", ct / kt) : "-" }'
done
