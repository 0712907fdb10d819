#!/bin/bash
# Tasks: ps against the guest's own process list (gt.txt `task` records:
# every thread, from /proc), states, thread groups, the crashing task,
# ps -S, set/task, modules against /proc/modules, and bad input.
. "$(dirname "$0")/lib.sh"

name="$(fixture_info "$FIXDIR" name) $FORMAT"
ncpus=$(gt_value "$FIXDIR" sys ncpus)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

kdx_cmd ps > "$tmp/ps" 2> "$tmp/ps.err"
# rows: PID PPID CPU TASK ST %MEM VSZ RSS COMM (a leading '>' marks active tasks)
awk 'NR > 1 { a = sub(/^>/, " "); c = $9; gsub(/^\[|\]$/, "", c); print $1, $2, $3, $4, $5, c, a }' \
	"$tmp/ps" > "$tmp/rows"
gt "$FIXDIR" task | awk '{ print $2, $3, $4, $5, $6 }' > "$tmp/gt"

# Every gt task is listed with its PPID and command. /proc shows longer
# names than task_struct.comm (kworker descriptions, full kthread names):
# kdx's comm must be a prefix of /proc's.
missing=$(awk 'NR == FNR { pid[$1] = 1; ppid[$1] = $2; comm[$1] = $6; next }
	!($1 in pid) { print "missing pid " $1 " (" $5 ")"; next }
	ppid[$1] != $3 { print "pid " $1 ": ppid " ppid[$1] " expected " $3; next }
	index($5, comm[$1]) != 1 { print "pid " $1 ": comm " comm[$1] " expected " $5 }' \
	"$tmp/rows" "$tmp/gt")
if [ -z "$missing" ] && [ -s "$tmp/gt" ]; then
	ok "ps lists every gt task with ppid and comm ($name)"
else
	not_ok "ps lists every gt task with ppid and comm ($name)" "all $(wc -l < "$tmp/gt") gt tasks" "$missing"
fi

# ...and nothing else but the per-CPU idle tasks.
extra=$(awk 'NR == FNR { g[$1] = 1; next } $1 != 0 && !($1 in g) { print "pid " $1 " " $6 }' \
	"$tmp/gt" "$tmp/rows")
check "ps lists no task unknown to gt ($name)" "" "$extra"
check "one idle task per CPU ($name)" "$ncpus" "$(awk '$1 == 0' "$tmp/rows" | wc -l)"
check "task count: gt tasks + idle tasks ($name)" "$(( $(wc -l < "$tmp/gt") + ncpus ))" \
	"$(wc -l < "$tmp/rows")"

# States. The snapshot in gt.txt precedes the crash by a moment: the
# trigger (sysrq writer, or the shell waiting for the oopsing work item) and
# the tasks running on a CPU at the crash may have moved on. Every other
# task sleeps in the same state: D -> UN, I -> ID, S -> IN (the crash
# itself wakes ksoftirqd, kworkers and RCU threads: not those for S).
trig=$(awk '$1 == "trigger_pid" { print $2; exit }' "$GT")
bad_state=$(awk -v trig="$trig" 'NR == FNR { st[$1] = $5; act[$1] = $7; next }
	$1 == trig || act[$1] == 1 { next }
	($4 == "D" && st[$1] != "UN") || ($4 == "I" && st[$1] != "ID") || ($4 == "S" && $5 !~ /^(ksoftirqd|kworker|rcu|migration)/ && st[$1] != "IN") {
		print "pid " $1 " (" $5 "): " st[$1] " for /proc state " $4 }' "$tmp/rows" "$tmp/gt")
check "ps states of sleeping tasks ($name)" "" "$bad_state"
# the fixture's 3 kdx_waiter kthreads block on kdx_fixture_mutex
nd=$(awk '$5 ~ /^kdx_waiter/ && $4 == "D"' "$tmp/gt" | wc -l)
check "kdx_waiter tasks are UN ($name)" "$nd" "$(awk '$6 ~ /^kdx_waiter/ && $5 == "UN"' "$tmp/rows" | wc -l)"
nd=$(awk '$5 == "UN"' "$tmp/rows" | wc -l)

# ps -S totals
total=$(kdx_cmd "ps -S" | awk '{ n += $2 } END { print n + 0 }')
check "ps -S totals ($name)" "$(wc -l < "$tmp/rows")" "$total"
check "ps -S UN count ($name)" "$nd" "$(kdx_cmd "ps -S" | awk '$1 == "UN:" { print $2 }')"

# Thread groups: ps -G lists each gt thread group leader once (+ idle tasks)
leaders=$(awk '$1 == $2' "$tmp/gt" | wc -l)
check "ps -G lists the thread group leaders ($name)" "$((leaders + ncpus))" \
	"$(kdx_cmd "ps -G" | awk 'NR > 1' | wc -l)"
tg=$(awk '$1 != $2 { print $2; exit }' "$tmp/gt")
if [ -n "$tg" ]; then
	want=$(awk -v t="$tg" '$2 == t { print $1 }' "$tmp/gt" | sort -n | tr '\n' ' ')
	got=$(kdx_cmd "ps -g $tg" | awk '/PID:/ { print $2 }' | sort -n | tr '\n' ' ')
	check "ps -g lists the threads of $tg ($name)" "$want" "$got"
fi

# kernel / user partition
nk=$(kdx_cmd "ps -k" | awk 'NR > 1' | wc -l)
nu=$(kdx_cmd "ps -u" | awk 'NR > 1' | wc -l)
check "ps -k + ps -u = ps ($name)" "$(wc -l < "$tmp/rows")" "$((nk + nu))"

# The crashing CPU's active task is the context task, marked '>'.
ccpu=$(gt_value "$FIXDIR" crashing_cpu "" 2>/dev/null)
[ -z "$ccpu" ] && ccpu=$(awk '$1 == "crashing_cpu" { print $2; exit }' "$GT")
hdr=$(kdx_cmd task 2>&1 | head -n1)
check "context task is on the crashing CPU ($name)" "$ccpu" \
	"$(echo "$hdr" | sed -n 's/.*CPU: \([0-9]*\).*/\1/p')"
scen=$(gt_value "$FIXDIR" sys scenario)
trig=$(awk '$1 == "trigger_pid" { print $2; exit }' "$GT")
if [ "$scen" = sysrq ] && [ -n "$trig" ]; then
	check "the panic task is the sysrq trigger ($name)" "$trig" \
		"$(echo "$hdr" | awk '{ print $2 }')"
fi
check "one active task per CPU ($name)" "$ncpus" "$(grep -c '^>' "$tmp/ps")"

# set PID, then task shows that pid
pid=$(awk '$4 == "D" { print $1; exit }' "$tmp/gt")
if [ -n "$pid" ]; then
	got=$(kdx_cmd "set $pid" "task -R pid,comm" | awk '$1 == "pid" { print $3 }' | tr -d ,)
	check "set $pid; task -R pid ($name)" "$pid" "$got"
fi

# Bad input: one line on stderr, nothing on stdout
for c in "task 999999" "ps 0xdeadbeef"; do
	out=$(kdx_cmd "$c" 2> "$tmp/err")
	if [ -z "$out" ] && [ "$(wc -l < "$tmp/err")" = 1 ]; then
		ok "$c: one error line ($name)"
	else
		not_ok "$c: one error line ($name)" "one line on stderr" "$(cat "$tmp/err") / $out"
	fi
done

# Modules: names, base addresses and sizes vs /proc/modules
want=$(gt "$FIXDIR" module | awk '{ a = tolower($5); sub(/^0x/, "", a); print $2, a, $3 }' | sort)
got=$(kdx_cmd mod | awk 'NR > 1 { print $2, $3, $4 }' | sort)
check "mod: names, bases and sizes ($name)" "$want" "$got"

# ps -r: init's 16 limits; RLIMIT_CORE of init is 0 (the kernel default)
out=$(kdx_cmd 'ps -r 1')
check "ps -r lists 16 limits ($name)" "16" "$(echo "$out" | awk 'NR > 2' | wc -l)"
check "ps -r CORE of init ($name)" "0" "$(echo "$out" | awk '$1 == "CORE" { print $2 }')"

# ps -C 0: exactly the rows whose CPU column is 0
check "ps -C 0 ($name)" "$(awk '$3 == 0' "$tmp/rows" | wc -l)" "$(kdx_cmd 'ps -C 0' | awk 'NR > 1' | wc -l)"

# ps -a 1: init's argv and environment from its user memory. The kernel
# starts init with "/init" (the initramfs script) and HOME=/ TERM=linux.
# A makedumpfile -d 31 dump (kexec fixtures) has no user pages: say so.
out=$(kdx_cmd 'ps -a 1' 2>&1)
if [ "$(fixture_info "$FIXDIR" mode)" = kexec ]; then
	check "ps -a 1 on a filtered dump ($name)" "2" "$(echo "$out" | grep -c 'not in the dump')"
else
	case "$(echo "$out" | sed -n 's/^ARG: //p')" in
	*/init*) ok "ps -a 1: ARG ($name)" ;;
	*) not_ok "ps -a 1: ARG ($name)" "... /init" "$out" ;;
	esac
	check "ps -a 1: ENV has HOME=/ and TERM=linux ($name)" "2" \
		"$(echo "$out" | sed 's/^ENV: /     /' | grep -cxE ' +(HOME=/|TERM=linux)')"
fi
