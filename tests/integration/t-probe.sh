#!/bin/bash
# The probe language on real dumps: every doc/examples script through
# `kdx --script` (or `probe FILE` after `mod -s`) compared with the guest's
# ground truth and the fixture module's planted values; error containment,
# exit statuses, and the diagnostics that need kernel types
# (tests/probe/bad-dump/).
. "$(dirname "$0")/lib.sh"

ROOT=$(cd "$KDX_TESTS_DIR/.." && pwd)
EX=$ROOT/doc/examples
name=$(fixture_info "$FIXDIR" name)
scenario=$(fixture_info "$FIXDIR" scenario)
t="probe $name $FORMAT"
ncpus=$(gt_value "$FIXDIR" sys ncpus)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

script() {   # script FILE [ARGS]: kdx --script, stdout only
	$KDX --script "$@" 2>"$TMP/stderr"
}
# Commands after loading the fixture module's debuginfo (the entry type of
# its lists lives in the .ko).
with_module() {
	{ echo "mod -s kdx_fixture $FIXDIR/kdx_fixture.ko"; printf '%s\n' "$@"; } |
		$KDX $VMLINUX "$DUMP" 2>"$TMP/stderr" | sed '/^ *MODULE  *NAME/,+1d'
}

# --- D-state tasks by command (dstate.stp) vs gt task records with state D.
# User processes race with the guest's ground-truth capture (the shell that
# prints it, the trigger), so kernel threads (PPID 2) are compared exactly
# and the total must be at least theirs.
want=$(gt "$FIXDIR" task | awk '$5 == "D" && $4 == 2 { n[$6]++ } END { for (c in n) print c, n[c] }' | sort)
out=$(script "$EX/dstate.stp" "$VMLINUX" "$DUMP")
got=$(echo "$out" | awk 'NR > 1 { print $1, $2 }' | sort | join - <(echo "$want" | awk '{ print $1 }'))
check "$t: dstate.stp counts D kernel threads by command" "$want" "$got"
[ -n "$want" ] || not_ok "$t: the fixture has D-state kernel threads"
nk=$(gt "$FIXDIR" task | awk '$5 == "D" && $4 == 2' | wc -l)
nall=$(echo "$out" | awk 'NR > 1 { s += $2 } END { print s + 0 }')
if [ "$nall" -ge "$nk" ]; then ok "$t: dstate.stp total $nall >= $nk"; else not_ok "$t: dstate.stp total" ">= $nk" "$nall"; fi
check "$t: dstate.stp header" "COMMAND          D-STATE" "$(echo "$out" | head -n1)"

# --- @hist_log of the fixture list's values vs the planted formula
# value(i) = (i * 2654435761 mod 2^32) mod 1000, i = 0..99999
out=$(with_module "probe $EX/fixture-hist.stp")
n=$(gt_value "$FIXDIR" fixture list_count)
want_sum=$(awk -v n="$n" 'BEGIN { s = 0; for (i = 0; i < n; i++) s += ((i * 2654435761) % 4294967296) % 1000; printf "%d", s }')
check "$t: fixture-hist.stp entries" "$n" "$(echo "$out" | sed -n 's/^entries \([0-9]*\),.*/\1/p')"
check "$t: fixture-hist.stp sum" "$want_sum" "$(echo "$out" | sed -n 's/.* sum \([0-9]*\),.*/\1/p')"
want=$(awk -v n="$n" 'BEGIN {
	for (i = 0; i < n; i++) {
		v = ((i * 2654435761) % 4294967296) % 1000
		b = 0; if (v > 0) { b = 1; while (b * 2 <= v) b *= 2 }
		c[b]++
	}
	for (b in c) print b, c[b] }' | sort -n)
got=$(echo "$out" | awk -F'|' '/^ *[0-9]+ \|/ { split($2, a, " "); cnt = a[length(a)]; v = $1 + 0; if (cnt > 0) print v, cnt }' | sort -n)
check "$t: fixture-hist.stp histogram buckets" "$want" "$got"
hdr=$(echo "$out" | grep -c '^value |--------------------------------------------------- count$\|^value |-------------------------------------------------- count$')
check "$t: fixture-hist.stp histogram header (50 columns)" 1 "$hdr"

# --- top functions on blocked stacks (task.frame) vs /proc/PID/stack of the
# D-state kernel threads (user processes: see above). /proc/PID/stack hides
# the scheduler's own frames, so the functions it shows are compared.
out=$(script "$EX/blocked-functions.stp" "$VMLINUX" "$DUMP")
nb=$(echo "$out" | sed -n 's/^\([0-9]*\) blocked tasks; top functions on their stacks:$/\1/p')
if [ -n "$nb" ] && [ "$nb" -ge "$nk" ]; then ok "$t: blocked-functions.stp $nb blocked tasks >= $nk"; else not_ok "$t: blocked-functions.stp task count" ">= $nk" "$(echo "$out" | head -n1)"; fi
want=$(awk '$1 == "task" && $5 == "D" && $4 == 2 { d[$2] = 1 } $1 == "stack" && ($2 in d) { n[$4]++ } END { for (f in n) print f, n[f] }' "$GT" | sort)
bad=$(echo "$out" | awk 'NR > 1 { print $2, $1 }' | sort | join -a2 -e0 -o 0,1.2,2.2 - <(echo "$want") | awk '$2 < $3')
check "$t: blocked-functions.stp covers /proc/PID/stack of D kthreads" "" "$bad"
lines=$(echo "$out" | awk 'NR > 1' | wc -l)
if [ "$lines" -ge 1 ] && [ "$lines" -le 10 ]; then ok "$t: blocked-functions.stp prints at most 10"; else not_ok "$t: blocked-functions.stp prints at most 10" "1..10" "$lines"; fi
sorted=$(echo "$out" | awk 'NR > 1 { print $1 }' | sort -rn | tr '\n' ' ')
check "$t: blocked-functions.stp sorted by count" "$sorted" "$(echo "$out" | awk 'NR > 1 { print $1 }' | tr '\n' ' ')"

# --- modules (list("modules", "struct module", "list")) vs /proc/modules
want=$(gt "$FIXDIR" module | awk '{ print $2, $3, $4, $5 }' | sort)
got=$(script "$EX/modules.stp" "$VMLINUX" "$DUMP" | awk '{ print $1, $2, $3, $4 }' | sort)
check "$t: modules.stp name size refcnt address" "$want" "$got"

# --- count[pid()]++ / foreach / delete vs threads per TGID
out=$(script "$EX/threads-per-process.stp" "$VMLINUX" "$DUMP")
want=$(gt "$FIXDIR" task | awk '{ n[$3]++ } END { for (p in n) print p, n[p] }' | sort -n)
got=$(echo "$out" | awk '/^[0-9]+ [0-9]+$/ && $1 != 0' | sort -n)
check "$t: threads-per-process.stp per-pid counts" "$want" "$got"
check "$t: threads-per-process.stp foreach is sorted by key" "$(echo "$out" | awk '/^[0-9]+ [0-9]+$/ { print $1 }' | sort -n | tr '\n' ' ')" \
	"$(echo "$out" | awk '/^[0-9]+ [0-9]+$/ { print $1 }' | tr '\n' ' ')"
check "$t: threads-per-process.stp limit 5" 5 "$(echo "$out" | grep -c '^  [0-9]* threads in pid')"
check "$t: threads-per-process.stp delete empties the array" "after delete: 0 entries" "$(echo "$out" | tail -n1)"

# --- module and task.process points
want=$(gt "$FIXDIR" module | awk '{ print $2, $4 }' | sort)
got=$(script /dev/stdin "$VMLINUX" "$DUMP" <<'EOF' | sort
probe module { printf("%s %d\n", kernel_string($module->name), $module->refcnt->counter - 1) }
EOF
)
check "$t: probe module: names and reference counts" "$want" "$got"
want=$(gt "$FIXDIR" task | awk '{ print $3 }' | sort -un)
got=$(script /dev/stdin "$VMLINUX" "$DUMP" <<'EOF' | sort -un
probe task.process { if (pid() != 0) println(pid()) }
EOF
)
check "$t: probe task.process: one hit per thread group" "$want" "$got"

# --- per-cpu probe
out=$(script "$EX/runqueues.stp" "$VMLINUX" "$DUMP")
check "$t: runqueues.stp one line per cpu" "$ncpus" "$(echo "$out" | grep -c '^cpu [0-9]*: nr_running')"
if [ "$scenario" = sysrq ]; then
	ccpu=$(awk '$1 == "crashing_cpu" { print $2 }' "$GT")
	tpid=$(awk '$1 == "trigger_pid" { print $2 }' "$GT")
	check "$t: runqueues.stp crashing cpu runs the trigger" "$tpid" \
		"$(echo "$out" | sed -n "s/^cpu $ccpu: .*(pid \([0-9]*\))$/\1/p")"
	out=$(script "$EX/panic-task.stp" "$VMLINUX" "$DUMP")
	check "$t: panic-task.stp task_current() is the trigger" "$tpid" "$(echo "$out" | sed -n 's/^panic in pid \([0-9]*\) .*/\1/p')"
	if echo "$out" | grep -q ': sysrq_handle_crash+0x'; then ok "$t: panic-task.stp print_backtrace"; else not_ok "$t: panic-task.stp print_backtrace" "sysrq_handle_crash" "$out"; fi
fi

# --- typed values: comm, pointers, $var$ pretty printing
out=$(script /dev/stdin "$VMLINUX" "$DUMP" <<'EOF'
global a
probe task { if (tid() == 1) { a[0] = $task; a[1] = $task + 1; a[2] = &$task->comm; a[3] = &$task->comm[0] + 3
	printf("%s|%s|%d|%d|%d|%d\n", $task->comm, execname(), $task->pid, a[1] - a[0] == sizeof("struct task_struct"),
	       a[2] - a[0] == offsetof("struct task_struct", "comm"), a[3] - a[2]) } }
probe task { if (tid() == 1) { s = $task->comm$; println(s); x = $task->se$; println(substr(x, 0, 1)) } }
EOF
)
check "$t: \$task->comm, execname(), pointer arithmetic" "init|init|1|1|1|3" "$(echo "$out" | head -n1)"
check "$t: \$var\$ of a char array" '"init"' "$(echo "$out" | sed -n 2p)"
check "$t: \$var\$ of a struct is {...}" '{' "$(echo "$out" | sed -n 3p)"

# --- @defined, try/catch of a failed read, kernel_string default, container_of
out=$(script /dev/stdin "$VMLINUX" "$DUMP" <<'EOF'
probe begin {
	t = task_current()
	printf("%d %d\n", @defined(t->pid), @defined(t->no_such_member))
	try { x = kernel_long(24) } catch (m) { printf("caught %d\n", isinstr(m, "0x18")) }
	printf("[%s]\n", kernel_string(0, "none"))
	c = container_of(&t->tasks, "struct task_struct", "tasks")
	printf("%d\n", c == t)
}
EOF
)
check "$t: @defined, try/catch, kernel_string default, container_of" "1 0
caught 1
[none]
1" "$out"

# --- list() equivalence with the planted count; hlist; loop detection
out=$(with_module 'probe -e '\''global n, m; probe list("kdx_fixture_list", "struct kdx_fixture_item", "link") { n++; if ($entry->magic != 0x4b44584954454d) m++ } probe end { printf("%d %d\n", n, m) }'\''' \
	'probe -e '\''global n; probe hlist("kdx_fixture_hlist", "struct kdx_fixture_item", "hnode") { n++ } probe end { println(n) }'\''' \
	'probe -e '\''global n; probe list("kdx_fixture_loop", "struct kdx_fixture_item", "link") { n++ } probe end { println("loop ", n) }'\''')
check "$t: list() visits every entry, magic intact" "$n 0" "$(echo "$out" | sed -n 1p)"
check "$t: hlist() visits every entry" "$(gt_value "$FIXDIR" fixture hlist_count)" "$(echo "$out" | sed -n 2p)"
check "$t: list() loop detected, end still runs" "loop $(gt_value "$FIXDIR" fixture loop_count)" "$(echo "$out" | sed -n 3p)"
if grep -q 'walk ended early.*loop' "$TMP/stderr"; then ok "$t: list() loop reported"; else not_ok "$t: list() loop reported" "walk ended early ... loop" "$(cat "$TMP/stderr")"; fi

# --- error containment: failed reads abort only their hit, are counted
cat > "$TMP/faults.stp" <<'EOF'
global hits
probe task { if (tid() % 2) x = kernel_long(8); hits++ }
probe end { println(hits) }
EOF
out=$(script "$TMP/faults.stp" "$VMLINUX" "$DUMP"); rc=$?
odd=$(gt "$FIXDIR" task | awk '$2 % 2 == 1' | wc -l)
even=$(( $(gt "$FIXDIR" task | awk '$2 % 2 == 0' | wc -l) + ncpus ))
check "$t: failed reads: exit status 0" 0 "$rc"
check "$t: failed reads abort only their hit" "$even" "$out"
if grep -q "^probe: $odd hits aborted by failed memory reads (first: .*0x8" "$TMP/stderr"; then
	ok "$t: failed reads counted and reported ($odd)"
else
	not_ok "$t: failed reads counted and reported" "probe: $odd hits aborted..." "$(cat "$TMP/stderr")"
fi
echo 'probe task { x = kernel_long(8) } probe end { println("end") }' > "$TMP/strict.stp"
printf 'probe --strict %s\n' "$TMP/strict.stp" | $KDX $VMLINUX "$DUMP" >"$TMP/out" 2>"$TMP/stderr"; rc=$?
if [ "$rc" != 0 ] && grep -q '0x8' "$TMP/stderr" && ! grep -q '^end$' "$TMP/out"; then
	ok "$t: --strict makes the first failed read fatal"
else
	not_ok "$t: --strict makes the first failed read fatal" "rc != 0, error at 0x8" "rc=$rc $(cat "$TMP/stderr")"
fi

# --- exit statuses of --script
echo 'probe begin { printf("x" }' > "$TMP/parse.stp"
$KDX --script "$TMP/parse.stp" "$VMLINUX" "$DUMP" >/dev/null 2>"$TMP/stderr"; rc=$?
if [ "$rc" != 0 ] && grep -q 'parse.stp:1:26: ' "$TMP/stderr"; then ok "$t: parse error: file:line:col, non-zero exit"; else not_ok "$t: parse error exit" "rc!=0 parse.stp:1:26" "rc=$rc $(cat "$TMP/stderr")"; fi
echo 'probe task { if (pid() == 1) error("found init") } probe end { println("end") } probe error { println("error probe") }' > "$TMP/err.stp"
out=$($KDX --script "$TMP/err.stp" "$VMLINUX" "$DUMP" 2>"$TMP/stderr"); rc=$?
if [ "$rc" != 0 ] && [ "$out" = "error probe" ] && grep -q 'error(): found init' "$TMP/stderr"; then ok "$t: error() exits non-zero, runs error probes"; else not_ok "$t: error() exit" "rc!=0, error probe" "rc=$rc out=$out $(cat "$TMP/stderr")"; fi
out=$($KDX --script "$EX/dstate.stp" "$VMLINUX" "$DUMP" 2>/dev/null); rc=$?
check "$t: successful script exits 0" 0 "$rc"

# --- output goes through pipes like any command; script arguments
got=$(printf '%s\n' "probe -e 'probe task { println(tid()) }' | wc -l" | $KDX $VMLINUX "$DUMP" 2>/dev/null | tr -d ' ')
check "$t: probe output through a pipe" "$(( $(gt "$FIXDIR" task | wc -l) + ncpus ))" "$got"
echo 'probe begin { printf("%d %s %d\n", $1 * 2, @2, $#) }' > "$TMP/args.stp"
check "$t: script arguments \$1 @2 \$#" "42 two 2" "$($KDX --script "$TMP/args.stp" "$VMLINUX" "$DUMP" 21 two 2>&1)"

# --- diagnostics that need kernel types
for f in "$ROOT"/tests/probe/bad-dump/*.stp; do
	b=$(basename "$f" .stp)
	want=$(cat "${f%.stp}.expected")
	got=$(printf 'probe -c %s\n' "$b.stp" | (cd "$(dirname "$f")" && $KDX $VMLINUX "$DUMP" 2>&1 >/dev/null) | sed 's/^kdx: //')
	check "$t: bad-dump/$b.stp" "$want" "$got"
done
exit $KDX_TEST_FAILED
