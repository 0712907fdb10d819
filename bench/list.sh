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
# kdx runs REPEAT times (default 5) and the fastest run counts (the machine
# may be shared); crash runs once, at most CRASH_TIMEOUT seconds (default
# 300) per form: a form it does not finish is reported with its rate and
# the time 100,000 entries would take at that rate.
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

# best TOOL CMD: the fastest of REPEAT runs ("seconds lines exit")
best() {
	local r b=""
	for _ in $(seq "${REPEAT:-5}"); do
		r=$(run "$@")
		if [ -z "$b" ] || awk -v a="${r%% *}" -v c="${b%% *}" 'BEGIN { exit !(a < c) }'; then b=$r; fi
	done
	echo "$b"
}

# run TOOL CMD -> "seconds lines exit cpu_seconds" ; output in $tmp/out
run() {
	local tool=$1 cmd=$2 rc
	printf 'mod -s kdx_fixture %s\n%s\n' "$ko" "$cmd" >"$tmp/in"
	if [ "$tool" = crash ]; then
		/usr/bin/time -f '%e %U %S' -o "$tmp/time" timeout -s KILL "${CRASH_TIMEOUT:-300}" \
			crash -s "$vmlinux" "$dump" -i "$tmp/in" </dev/null >"$tmp/out" 2>"$tmp/err"
	else
		/usr/bin/time -f '%e %U %S' -o "$tmp/time" "$kdx" "$vmlinux" "$dump" <"$tmp/in" >"$tmp/out" 2>"$tmp/err"
	fi
	rc=$?
	set -- $(tail -n1 "$tmp/time")
	echo "$1 $(grep -cE '^[0-9a-f]{16}$' "$tmp/out") $rc $(echo "$2 + $3" | bc)"
}

LIST="list -H kdx_fixture_list -o kdx_fixture_item.link"
echo "Load: $(cut -d" " -f1-3 /proc/loadavg)"
echo "Dump: $dump ($(du -h "$dump" | cut -f1)); $(nproc) cores; crash $(dpkg-query -W -f='${Version}' crash 2>/dev/null || echo '?'); kdx $(git -C "$top" rev-parse --short HEAD 2>/dev/null)"
echo
kb=$(best kdx "sys")
cb=$(command -v crash >/dev/null && run crash "sys" || echo "0 0 127 0")
echo "baseline (start + mod -s): kdx $(echo "$kb" | cut -d' ' -f1) s wall, $(echo "$kb" | cut -d' ' -f4) s CPU; crash $(echo "$cb" | cut -d' ' -f1) s wall, $(echo "$cb" | cut -d' ' -f4) s CPU"
echo
echo "Wall times, CPU time (user+sys) in parentheses; \"list\" is the run minus the baseline run. The load average above says how busy the machine was: under load, wall times mostly measure waiting."
echo
echo "| form | kdx total | kdx list | crash total | crash list | entries kdx/crash | ratio list (crash/kdx) | ratio total |"
echo "|---|---|---|---|---|---|---|---|"
for form in "" "-s kdx_fixture_item.value" "-S kdx_fixture_item.value"; do
	k=$(best kdx "$LIST $form")
	if command -v crash >/dev/null; then c=$(run crash "$LIST $form"); else c="0 0 127 0"; fi
	set -- $k $c $kb $cb
	awk -v f="list -H${form:+ $form}" -v kt="$1" -v kl="$2" -v kc="$4" -v ct="$5" -v cl="$6" -v cc="$8" \
		-v kb="$9" -v kbc="${12}" -v cbt="${13}" -v cbc="${16}" -v n=100000 'BEGIN {
		knc = kc - kbc; if (knc < 0) knc = 0; cnc = cc - cbc; if (cnc < 0) cnc = 0;
		kn = kt - kb; if (kn < 0.001) kn = 0.001; cn = ct - cbt;
		if (cl == n) {
			cs = sprintf("%.2f s (%.2f s)", ct, cc); cns = sprintf("%.2f s (%.2f s)", cn, cnc);
			rl = sprintf("%.0fx", cn / kn); rt = sprintf("%.1fx", ct / kt);
		} else if (cl > 0 && cn > 0) {
			est = cn * n / cl;
			cs = sprintf("stopped after %.0f s", ct);
			cns = sprintf("%d entries in %.0f s (~%.0f s for all)", cl, cn, est);
			rl = sprintf(">%.0fx (~%.0fx)", cn / kn, est / kn); rt = sprintf(">%.0fx", ct / kt);
		} else {
			cs = "failed"; cns = "-"; rl = "-"; rt = "-";
		}
		printf "| %s | %.2f s (%.2f s) | %.3f s (%.2f s) | %s | %s | %d / %d | %s | %s |\n", f, kt, kc, kn, knc, cs, cns, kl, cl, rl, rt }'
done
