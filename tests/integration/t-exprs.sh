#!/bin/bash
# Expressions, value printing and the p/struct/whatis/rd/sym commands against
# independent truth: the console's banner, the guest's /proc/kallsyms lines
# and planted fixture values in gt.txt, and pahole's struct layouts.
. "$(dirname "$0")/lib.sh"

name=$(fixture_info "$FIXDIR" name)
t="exprs $name $FORMAT"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# --- rd -a linux_banner: the console's "Linux version" line --------------
banner=$(grep -a -m1 -o 'Linux version .*' "$CONSOLE" | tr -d '\r')
got=$(kdx_cmd "rd -a linux_banner" 2>&1 | sed -E 's/^[0-9a-f]{16}:  //' | tr -d '\n')
check "$t: rd -a linux_banner is the console banner" "$banner" "$got"

# rd of the banner in words: the ASCII column spells it too
got=$(kdx_cmd "rd linux_banner 4" 2>&1 | awk -F'   ' '{ printf "%s", $2 }')
check "$t: rd ASCII column" "${banner:0:32}" "$got"

# --- p ------------------------------------------------------------------
got=$(kdx_cmd "p init_task.comm" 2>&1)
case "$got" in
'$1 = "swapper/0'*) ok "$t: p init_task.comm" ;;
*) not_ok "$t: p init_task.comm" '$1 = "swapper/0...' "$got" ;;
esac
check "$t: p init_task.pid" 'init_task = $1 = {' "$(kdx_cmd 'p init_task' 2>&1 | head -n1)"
check "$t: p arithmetic and precedence" '$1 = 23' "$(kdx_cmd 'p 3 + 4 * 5' 2>&1)"
check "$t: p/x" '$1 = 0xff' "$(kdx_cmd 'p/x 255' 2>&1)"
check "$t: value history \$1, \$" '$1 = 42|$2 = 43|$3 = 86' "$(kdx_cmd 'p 6 * 7' 'p $1 + 1' 'p $ * 2' 2>&1 | paste -sd'|')"
check "$t: p string literal" '$1 = "abc"' "$(kdx_cmd 'p "abc"' 2>&1)"
check "$t: p char literal" "\$1 = 97 'a'" "$(kdx_cmd "p 'a'" 2>&1)"
check "$t: p sizeof(struct list_head)" '$1 = 16' "$(kdx_cmd 'p sizeof(struct list_head)' 2>&1)"
# offsetof against pahole
if command -v pahole >/dev/null; then
	poff=$(pahole -C task_struct "$VMLINUX" | awk '$0 ~ /[ *]tasks;/ { for (i = 1; i <= NF; i++) if ($i == "/*") { print $(i+1); exit } }')
	check "$t: p offsetof(struct task_struct, tasks) = pahole" "\$1 = $poff" \
		"$(kdx_cmd 'p offsetof(struct task_struct, tasks)' 2>&1)"
	# pointer arithmetic scales by the pointee size
	check "$t: pointer arithmetic" "\$1 = $poff" \
		"$(kdx_cmd 'p (char *)&init_task.tasks - (char *)&init_task' 2>&1)"
fi
# the init task's tasks list is circular: next->prev comes back
got=$(kdx_cmd 'p init_task.tasks.next->prev == &init_task.tasks' 2>&1)
check "$t: list_head next->prev" '$1 = 1' "$got"

# per-CPU: p VAR:a prints one value per possible CPU
ncpus=$(gt_value "$FIXDIR" sys ncpus)
got=$(kdx_cmd 'p runqueues.cpu:a' 2>&1 | grep -c '^per_cpu(runqueues.cpu, [0-9]*) = \$[0-9]* = ')
check "$t: p runqueues.cpu:a lines" "$ncpus" "$got"
got=$(kdx_cmd 'p runqueues.cpu:a' 2>&1 | awk '{ printf "%s%s", s, $NF; s = " " }')
want=$(seq 0 $((ncpus - 1)) | tr '\n' ' ' | sed 's/ $//')
check "$t: rq->cpu on each CPU is that CPU" "$want" "$got"

# per-CPU pointer: current_task on the crashing CPU is the task that wrote
# to /proc/sysrq-trigger (sysrq scenarios)
if [ "$(fixture_info "$FIXDIR" scenario)" = sysrq ]; then
	ccpu=$(awk '$1 == "crashing_cpu" { print $2 }' "$GT")
	check "$t: p current_task->pid:CRASHING_CPU is trigger_pid" \
		"per_cpu(current_task->pid, $ccpu) = \$1 = $(awk '$1 == "trigger_pid" { print $2 }' "$GT")" \
		"$(kdx_cmd "p current_task->pid:$ccpu" 2>&1)"
fi

# --- rd -u: the user page kdx_threads planted, through its page tables ----
tpid=$(gt_value "$FIXDIR" fixture threads_pid)
taddr=$(gt_value "$FIXDIR" fixture threads_pattern_addr)
if [ -n "$tpid" ] && [ -n "$taddr" ]; then
	out=$(kdx_cmd "set $tpid" "rd -u -a $taddr 16" 2>&1 | tail -n1)
	if [ "$(fixture_info "$FIXDIR" mode)" = kexec ]; then
		# makedumpfile -d 31 drops user pages: one error line naming the address
		case "$out" in
		*"rd: cannot read"*"user address $taddr"*) ok "$t: rd -u of a filtered user page fails cleanly" ;;
		*) not_ok "$t: rd -u of a filtered user page fails cleanly" "rd: cannot read ... user address $taddr ..." "$out" ;;
		esac
	else
		case "$out" in
		*":  kdx user pattern") ok "$t: rd -u reads the planted user pattern" ;;
		*) not_ok "$t: rd -u reads the planted user pattern" "...:  kdx user pattern" "$out" ;;
		esac
	fi
fi

# --- module data: needs the module's symbols/debuginfo (mod -s) ---------
ko="$FIXDIR/kdx_fixture.ko"
modout=$(kdx_cmd "mod -s kdx_fixture $ko" 2>&1)
if [ -f "$ko" ] && ! printf '%s' "$modout" | grep -q 'unknown command'; then
	m=(mod -s kdx_fixture "$ko")
	magic=$(gt_value "$FIXDIR" fixture magic)
	check "$t: p/x kdx_fixture_magic" "kdx_fixture_magic = \$1 = $magic" \
		"$(kdx_cmd "${m[*]}" 'p/x kdx_fixture_magic' 2>&1 | tail -n1)"
	str=$(gt_value "$FIXDIR" fixture string)
	got=$(kdx_cmd "${m[*]}" 'p kdx_fixture_string' 2>&1 | tail -n1)
	case "$got" in
	*"\"$str\""*) ok "$t: p kdx_fixture_string" ;;
	*) not_ok "$t: p kdx_fixture_string" "\"$str\"" "$got" ;;
	esac
	arr=$(gt_value "$FIXDIR" fixture array | sed 's/ /, /g')
	check "$t: p kdx_fixture_array" "kdx_fixture_array = \$1 = {$arr}" \
		"$(kdx_cmd "${m[*]}" 'p kdx_fixture_array' 2>&1 | tail -n1)"
	first=$(gt_value "$FIXDIR" fixture first)
	out=$(kdx_cmd "${m[*]}" "struct -x kdx_fixture_item $first" 2>&1)
	check "$t: struct kdx_fixture_item ADDR magic" "$(gt_value "$FIXDIR" fixture item_magic)" \
		"$(printf '%s\n' "$out" | awk '$1 == "magic" { sub(/,$/, "", $3); print $3 }')"
	check "$t: struct kdx_fixture_item ADDR index" 0x0 \
		"$(printf '%s\n' "$out" | awk '$1 == "index" { sub(/,$/, "", $3); print $3 }')"
	case "$(printf '%s\n' "$out" | awk '$1 == "name"')" in
	*'"'*) ok "$t: struct kdx_fixture_item ADDR name is a string" ;;
	*) not_ok "$t: struct kdx_fixture_item ADDR name is a string" 'name = "..."' "$out" ;;
	esac
	# member offsets of the module's type: gt.txt (offsetof in the guest) and pahole
	out=$(kdx_cmd "${m[*]}" "struct -o kdx_fixture_item" 2>&1)
	for f in magic index value link name hnode; do
		check "$t: struct -o kdx_fixture_item.$f" "$(gt_value "$FIXDIR" fixture item_off_$f)" \
			"$(printf '%s\n' "$out" | awk -v f="$f" '{ n = $NF; sub(/;$/, "", n); sub(/\[.*/, "", n) } n == f { gsub(/[][]/, "", $1); print $1 }')"
	done
	check "$t: struct -o kdx_fixture_item SIZE" "SIZE: $(gt_value "$FIXDIR" fixture item_size)" \
		"$(printf '%s\n' "$out" | tail -n1)"
	if command -v pahole >/dev/null && command -v python3 >/dev/null; then
		printf '%s\n' "$out" > "$tmp/k"
		pahole -C kdx_fixture_item "$ko" > "$tmp/p" 2>/dev/null
		if res=$(python3 "$(dirname "$0")/exprs_offsets.py" "$tmp/k" "$tmp/p"); then
			ok "$t: struct -o kdx_fixture_item = pahole"
		else
			not_ok "$t: struct -o kdx_fixture_item = pahole" "pahole's offsets" "$res"
		fi
	fi
	modsyms=1
else
	skip "$t: module values" "no mod -s in this build"
	modsyms=0
fi

# --- struct -o against pahole -------------------------------------------
if command -v pahole >/dev/null && command -v python3 >/dev/null; then
	for T in task_struct mm_struct module list_head; do
		kdx_cmd "struct -o $T" > "$tmp/k" 2>&1
		pahole -C "$T" "$VMLINUX" > "$tmp/p" 2>/dev/null
		if res=$(python3 "$(dirname "$0")/exprs_offsets.py" "$tmp/k" "$tmp/p"); then
			ok "$t: struct -o $T = pahole"
		else
			not_ok "$t: struct -o $T = pahole" "pahole's offsets" "$res"
		fi
		size=$(awk '/\/\* size: / { sub(/,/, "", $3); print $3 }' "$tmp/p")
		check "$t: struct $T SIZE = pahole" "SIZE: $size" "$(tail -n1 "$tmp/k")"
	done
else
	skip "$t: struct -o = pahole" "pahole or python3 missing"
fi

# struct T ADDR with members, and -c
got=$(kdx_cmd 'struct task_struct.pid,comm init_task' 2>&1)
check "$t: struct T.m1,m2 ADDR" "  pid = 0,|  comm = \"swapper/0" \
	"$(printf '%s\n' "$got" | head -n2 | sed -E 's/(swapper\/0).*/\1/' | paste -sd'|')"
check "$t: struct -c 3" 3 "$(kdx_cmd 'struct list_head init_task.tasks -c 3' 2>&1 | grep -c '^struct list_head {')"

# -l: the address is that of the member (the tasks list_head): the first
# task on init_task.tasks is the first task ever forked, PID 1
check "$t: struct -l T.member" "  pid = 1," \
	"$(kdx_cmd 'struct task_struct.pid -l task_struct.tasks init_task.tasks.next' 2>&1)"
# rd -e END and -o OFFSET
check "$t: rd -e END" 3 "$(kdx_cmd 'rd linux_banner -e linux_banner+40' 2>&1 | wc -l)"
got=$(kdx_cmd 'rd -a -o 6 linux_banner -e linux_banner+30' 2>&1 | sed -E 's/^[0-9a-f]{16}:  //')
check "$t: rd -a -o -e" "${banner:6:24}" "$got"

# whatis
check "$t: whatis init_task" "struct task_struct init_task;" "$(kdx_cmd 'whatis init_task' 2>&1)"
check "$t: whatis list_head SIZE" "SIZE: 16" "$(kdx_cmd 'whatis struct list_head' 2>&1 | tail -n1)"

# --- sym against the guest's /proc/kallsyms -------------------------------
gt "$FIXDIR" kallsyms > "$tmp/ks"
if [ "$modsyms" = 1 ]; then
	pre="mod -s kdx_fixture $ko"
else
	pre="# no modules"
	grep -v '\[' "$tmp/ks" > "$tmp/ks2" && mv "$tmp/ks2" "$tmp/ks"
fi
# names containing characters the REPL treats specially are not typed
awk '$4 !~ /^\./ && $4 ~ /^[A-Za-z0-9_.]+$/' "$tmp/ks" > "$tmp/ks2" && mv "$tmp/ks2" "$tmp/ks"
# a name that several static symbols share has no one address: System.map
# (independent of kdx) says which vmlinux names are unique
sysmap="/usr/lib/debug/boot/System.map-$(fixture_info "$FIXDIR" abi)"
if [ -f "$sysmap" ]; then
	awk 'NR == FNR { c[$3]++; next } $5 != "" || c[$4] == 1' "$sysmap" "$tmp/ks" > "$tmp/ks2" && mv "$tmp/ks2" "$tmp/ks"
fi
{ echo "$pre"; awk '{ if ($5 != "") { m = $5; gsub(/[][]/, "", m); print "sym " m ":" $4 } else print "sym " $4 }' "$tmp/ks"; } \
	| $KDX $VMLINUX "$DUMP" > "$tmp/byname" 2> "$tmp/byname.err"
# name -> address
bad=$(awk 'NR == FNR { n = $3; sub(/\+.*/, "", n); a[n] = $1; next }
	{ want = $2; if (length(want) < 16) want = sprintf("%016s", want); gsub(/ /, "0", want);
	  if (a[$4] != want) { printf "%s:%s:%s ", $4, want, a[$4]; bad++ } }
	END { print bad + 0 }' "$tmp/byname" "$tmp/ks")
n=$(wc -l < "$tmp/ks")
check "$t: sym NAME = kallsyms address ($n symbols)" 0 "${bad##* }"
[ "${bad##* }" = 0 ] || printf '#   %s\n' "${bad:0:400}"
# address -> name (an alias at the same address is as good)
{ echo "$pre"; awk '{ print "sym " $2 }' "$tmp/ks"; } | $KDX $VMLINUX "$DUMP" > "$tmp/byaddr" 2> "$tmp/byaddr.err"
bad=$(awk 'NR == FNR { if ($3 !~ /\+/) a[$1] = 1; next }
	{ want = $2; if (length(want) < 16) want = sprintf("%016s", want); gsub(/ /, "0", want);
	  if (!(want in a)) { printf "%s:%s ", $4, want; bad++ } }
	END { print bad + 0 }' "$tmp/byaddr" "$tmp/ks")
check "$t: sym ADDR = a symbol at exactly that address ($n)" 0 "${bad##* }"
[ "${bad##* }" = 0 ] || printf '#   %s\n' "${bad:0:400}"
# source lines for text symbols
case "$(kdx_cmd 'sym schedule' 2>&1)" in
*" (T) schedule "*"sched/core.c: "[0-9]*) ok "$t: sym schedule has its source line" ;;
*) not_ok "$t: sym schedule has its source line" "... (T) schedule .../kernel/sched/core.c: N" "$(kdx_cmd 'sym schedule' 2>&1)" ;;
esac

# --- bad input: one line each, non-zero batch exit -------------------------
one_line_error() { # NAME CMD PATTERN
	local out rc
	out=$(printf '%s\n' "$2" | $KDX $VMLINUX "$DUMP" 2>&1 >/dev/null)
	rc=$?
	if [ "$rc" -ne 0 ] && [ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] && printf '%s' "$out" | grep -q -- "$3"; then
		ok "$t: $1"
	else
		not_ok "$t: $1" "one line matching '$3', exit != 0" "rc=$rc: $out"
	fi
}
one_line_error "undefined symbol" "p kdx_no_such_symbol" 'no symbol "kdx_no_such_symbol"'
one_line_error "syntax error" "p (1 + 2" 'syntax error at column 7'
one_line_error "syntax error in the middle" "p init_task.pid + )" 'syntax error at column 17'
one_line_error "unknown type in a cast" "p (struct kdx_nope *)0" 'no type "struct kdx_nope"'
one_line_error "unknown member" "p init_task.kdx_nope" 'struct task_struct has no member "kdx_nope"'
one_line_error "rd unmapped" "rd 0x10" '0x10'
one_line_error "struct unmapped" "struct list_head 0x18" '0x18'
one_line_error "sym unknown" "sym kdx_no_such_symbol" 'kdx_no_such_symbol'
exit $KDX_TEST_FAILED
