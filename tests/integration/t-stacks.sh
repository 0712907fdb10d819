#!/bin/bash
# bt / foreach / files against the guest's own record: /proc/PID/stack of
# every blocked task (gt `stack`), the console's Call Trace of the crash,
# the fixture's D-state waiters, and /proc/PID/fd (gt `fd`, `cwd`, `root`).
. "$(dirname "$0")/lib.sh"

name=$(fixture_info "$FIXDIR" name)
scenario=$(fixture_info "$FIXDIR" scenario)
t="stacks $name $FORMAT"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Module frames are named through gt kallsyms when kdx shows a bare address
# (the test checks the unwinder, not module symbol loading).
gt "$FIXDIR" kallsyms | awk '$3 ~ /^[tT]$/ { print $2, $4 }' | sort > "$tmp/ksyms"

# frames FILE: "PID FUNC" for every frame line and exception RIP of a bt output.
frames() {
	awk '
	/^PID: / { pid = $2; next }
	/^ ?#[0-9]+ \[/ { print pid, $3; next }
	/^    \[exception RIP: / { f = $3; sub(/\]$/, "", f); sub(/\+.*/, "", f); print pid, f }
	' "$1"
}

# --- blocked tasks: /proc/PID/stack must be a subsequence of bt PID ---------
trigger=$(awk '$1 == "trigger_pid" { print $2 }' "$GT")
pids=$(awk -v tr="$trigger" '$1 == "task" && ($5 == "S" || $5 == "D" || $5 == "I") && $2 != tr { print $2 }' "$GT" |
	while read -r p; do gt "$FIXDIR" stack | awk -v p="$p" '$2 == p { f = 1 } END { if (f) print p }'; done)
if [ -z "$pids" ]; then
	not_ok "$t: gt has blocked tasks with stacks"
else
	kdx_cmd "bt $(echo $pids)" > "$tmp/bt" 2> "$tmp/bt.err"
	frames "$tmp/bt" > "$tmp/frames"
	# Name hex addresses (module frames without symbols) from gt kallsyms.
	awk 'NR == FNR { a[NR] = $1; n[NR] = $2; cnt = NR; next }
	     $2 ~ /^ffffffff/ { best = ""; for (i = 1; i <= cnt; i++) if (a[i] <= $2) best = n[i]; print $1, (best != "" ? best : $2); next }
	     { print }' "$tmp/ksyms" "$tmp/frames" > "$tmp/frames.named"
	bad=0 nchecked=0
	for p in $pids; do
		want=$(gt "$FIXDIR" stack | awk -v p="$p" '$2 == p { print $4 }')
		got=$(awk -v p="$p" '$1 == p { print $2 }' "$tmp/frames.named")
		# subsequence check
		missing=$(awk -v want="$(echo $want)" -v got="$(echo $got)" 'BEGIN {
			nw = split(want, w, " "); ng = split(got, g, " "); j = 1
			for (i = 1; i <= ng && j <= nw; i++) if (g[i] == w[j]) j++
			if (j <= nw) print w[j] }')
		nchecked=$((nchecked + 1))
		if [ -n "$missing" ]; then
			bad=$((bad + 1))
			[ $bad -le 5 ] && not_ok "$t: bt $p has /proc/$p/stack frames in order" "$(echo $want)" "$(echo $got) (missing from $missing)"
		fi
	done
	if [ $bad = 0 ]; then ok "$t: bt of $nchecked blocked tasks contains their /proc/PID/stack"; else
		not_ok "$t: $bad of $nchecked blocked tasks differ from /proc/PID/stack"; fi
	nerr=$(grep -c . "$tmp/bt.err")
	check "$t: bt of blocked tasks reports no error" 0 "$nerr"
	[ "$nerr" != 0 ] && head -n3 "$tmp/bt.err" | sed 's/^/#   /'
fi

# --- every task: the unwind reaches the outermost frame ----------------------
kdx_cmd "foreach bt" > "$tmp/all" 2> "$tmp/all.err"
check "$t: foreach bt reports no error" "" "$(head -n3 "$tmp/all.err")"
odd=$(awk '/^PID:/ { if (pid != "") print pid, last; pid = $2; last = "" } /^ ?#[0-9]+ \[/ { last = $3 }
	END { if (pid != "") print pid, last }' "$tmp/all" |
	awk '$2 !~ /^(ret_from_fork|entry_SYSCALL_64_after_hwframe|secondary_startup_64.*|start_kernel)$/' | head -n5 | xargs)
check "$t: every backtrace ends at its outermost frame" "" "$odd"
check "$t: foreach bt covers every task" "" "$(comm -23 <(gt "$FIXDIR" task | awk '{ print $2 }' | sort -u) \
	<(awk '/^PID: / { print $2 }' "$tmp/all" | sort -u) | head -n5 | xargs)"

# --- the panicking task: every reliable frame of the console's Call Trace ----
kdx_cmd "bt" > "$tmp/panic" 2> "$tmp/panic.err"
if [ "$scenario" = sysrq ]; then
	check "$t: bt (panic task) header is the trigger pid" "$trigger" "$(awk '/^PID: / { print $2; exit }' "$tmp/panic")"
fi
# The last Call Trace block on the console; its frames without "?" after the
# dump_stack*/show_stack frames of the dumping itself.
awk '/Call Trace:/ { n++; delete f; k = 0; on = 1; next }
     on && /<\/TASK>|RIP: |---\[ end/ { on = 0 }
     on { line = $0; sub(/^\[[^]]*\] +/, "", line)
	  if (line ~ /^<|^\?/) next
	  split(line, w, "+"); fn = w[1]; gsub(/ /, "", fn)
	  if (fn ~ /^(dump_stack|show_stack|__dump_stack)/) next
	  f[++k] = fn; cnt[n] = k; blk[n, k] = fn }
     END { for (i = 1; i <= cnt[n]; i++) print blk[n, i] }' "$CONSOLE" > "$tmp/console.frames"
want=$(cat "$tmp/console.frames")
got=$(frames "$tmp/panic" | awk '{ print $2 }')
missing=$(awk -v want="$(echo $want)" -v got="$(echo $got)" 'BEGIN {
	nw = split(want, w, " "); ng = split(got, g, " "); j = 1
	for (i = 1; i <= ng && j <= nw; i++) if (g[i] == w[j]) j++
	if (j <= nw) print w[j] }')
if [ -z "$want" ]; then
	not_ok "$t: console has a Call Trace"
elif [ -z "$missing" ]; then
	ok "$t: bt of the panic task has the console Call Trace ($(echo $want | wc -w) frames)"
else
	not_ok "$t: bt of the panic task has the console Call Trace in order" "$(echo $want)" "$(echo $got) (missing from $missing)"
fi
case "$scenario" in
sysrq)
	for f in sysrq_handle_crash write_sysrq_trigger ksys_write do_syscall_64; do
		if echo "$got" | grep -qx "$f"; then ok "$t: panic bt has $f"; else not_ok "$t: panic bt has $f" "$f" "$(echo $got)"; fi
	done
	# bt -e finds the system call's user registers; the console has its RIP.
	urip=$(grep -a -m1 -oE 'RIP: 0033:0x[0-9a-f]+' "$CONSOLE" | sed 's/.*:0x//')
	if [ -n "$urip" ]; then
		check "$t: bt -e finds the user-mode frame of the console" \
			"$(printf 'RIP: %016x' "0x$urip")" \
			"$(kdx_cmd "bt -e" 2>/dev/null | grep -A1 'USER-MODE EXCEPTION FRAME' | grep -o "RIP: [0-9a-f]*" | head -n1)"
	fi
	if grep -q '^    RIP: 0000' "$tmp/panic" && grep -q 'CS: 0033' "$tmp/panic"; then
		ok "$t: panic bt ends with the user registers"
	else
		not_ok "$t: panic bt ends with the user registers"
	fi
	;;
oops)
	# The console's "RIP: 0010:kdx_fixture_check+0x1f/0x30" gives the offset.
	off=$(grep -a -m1 -oE 'RIP: 0010:kdx_fixture_check\+0x[0-9a-f]+' "$CONSOLE" | sed 's/.*+//')
	check "$t: exception frame" "[exception RIP: kdx_fixture_check+$((off))]" \
		"$(grep -o '\[exception RIP: [^]]*\]' "$tmp/panic" | head -n1)"
	if kdx_cmd "bt -e" 2>/dev/null | grep -A1 'KERNEL-MODE EXCEPTION FRAME' | grep -q "exception RIP: kdx_fixture_check+$((off))]"; then
		ok "$t: bt -e finds the exception frame"
	else
		not_ok "$t: bt -e finds the exception frame" "[exception RIP: kdx_fixture_check+$((off))]"
	fi
	cons_rsp=$(grep -a -m1 -oE 'RSP: 0018:[0-9a-f]+' "$CONSOLE" | sed 's/.*://')
	if grep -A1 'exception RIP: kdx_fixture_check' "$tmp/panic" | grep -q "RSP: $cons_rsp"; then
		ok "$t: exception frame RSP matches the console"
	else
		not_ok "$t: exception frame RSP matches the console" "$cons_rsp" "$(grep -A1 'exception RIP' "$tmp/panic" | tail -n1)"
	fi
	;;
esac

# --- foreach UN bt: exactly the fixture's D-state waiters ---------------------
kdx_cmd "foreach UN bt" > "$tmp/un" 2> "$tmp/un.err"
want=$(gt "$FIXDIR" task | awk '$5 == "D" && $6 ~ /^kdx_waiter\// { print $2 }' | sort -n | xargs)
got=$(awk '/^PID: / { print $2 }' "$tmp/un" | sort -n | xargs)
check "$t: foreach UN bt shows the kdx_waiter threads" "$want" "$got"
n=$(grep -c '__mutex_lock' "$tmp/un")
check "$t: every waiter is in __mutex_lock" "$(echo $want | wc -w)" "$n"
if awk '/^PID:/ { pid = $2; name = $8 } /^ ?#/ { print name ": " $1 " " $3 " " $5 }' "$tmp/un" | grep -q '"kdx_waiter/0": #0 __schedule'; then
	ok "$t: crash-style awk pipeline over foreach bt"
else
	not_ok "$t: crash-style awk pipeline over foreach bt" '"kdx_waiter/0": #0 __schedule ...' "$(head -n3 "$tmp/un")"
fi
kdx_cmd "foreach 'kdx_waiter.*' bt -R __mutex_lock.constprop.0" > "$tmp/R" 2>/dev/null
check "$t: foreach REGEX bt -R SYMBOL" "$(echo $want | wc -w)" "$(grep -c '^PID:' "$tmp/R")"
kdx_cmd "foreach kdx_holder bt -R no_such_function_xyz" > "$tmp/R0" 2>/dev/null
check "$t: bt -R with an absent symbol prints nothing" 0 "$(grep -c . "$tmp/R0")"

# --- bt -a: one backtrace per CPU --------------------------------------------
ncpus=$(gt_value "$FIXDIR" sys ncpus)
kdx_cmd "bt -a" > "$tmp/a" 2> "$tmp/a.err"
check "$t: bt -a shows every CPU" "$(seq 0 $((ncpus - 1)) | xargs)" \
	"$(awk '/^PID: / { print $6 }' "$tmp/a" | sort -n | xargs)"

# --- options -----------------------------------------------------------------
# -g: the threads of a multi-threaded process (gt task TID TGID ...)
tg=$(gt "$FIXDIR" task | awk '$2 != $3 { print $3; exit }')
if [ -n "$tg" ]; then
	check "$t: bt -g $tg shows its thread group" "$(gt "$FIXDIR" task | awk -v g="$tg" '$3 == g { print $2 }' | sort -n | xargs)" \
		"$(kdx_cmd "bt -g $tg" 2>/dev/null | awk '/^PID: / { print $2 }' | sort -n | xargs)"
fi
if [ "$scenario" = sysrq ]; then
	check "$t: bt -p is the trigger" "$trigger" "$(kdx_cmd "bt -p" 2>/dev/null | awk '/^PID: / { print $2; exit }')"
fi
kdx_cmd "bt -l" > "$tmp/l" 2>/dev/null
if grep -qE '^    [^ ]+\.c: [0-9]+$' "$tmp/l"; then ok "$t: bt -l shows file: line"; else not_ok "$t: bt -l shows file: line" "    path.c: N" "$(sed -n 2,3p "$tmp/l")"; fi
kdx_cmd "bt -s" > "$tmp/s" 2>/dev/null
if grep -qE '^ ?#[0-9]+ \[[0-9a-f]+\] [A-Za-z_.0-9]+\+[0-9]+ at [0-9a-f]+' "$tmp/s"; then ok "$t: bt -s shows symbol+offset"; else not_ok "$t: bt -s shows symbol+offset"; fi
kdx_cmd "bt -FF" > "$tmp/FF" 2>/dev/null
if grep -qE '^    [0-9a-f]+: ' "$tmp/FF" && grep -qE '\[[0-9a-f]{16}:[a-z_0-9-]+\]' "$tmp/FF"; then
	ok "$t: bt -FF shows stack words with [address:cache]"
else
	not_ok "$t: bt -FF shows stack words with [address:cache]"
fi
# -f: words between frame N and N+1 end with frame N+1's return address.
kdx_cmd "bt -f" > "$tmp/f" 2>/dev/null
if awk '/^ ?#[0-9]+ \[/ { if (last != "" && last != $NF && $NF != "" ) bad = 1 } /^    [0-9a-f]+: / { last = $NF } END { exit bad }' "$tmp/f" >/dev/null; then :; fi
nf=$(grep -cE '^    [0-9a-f]+: ' "$tmp/f")
if [ "$nf" -gt 0 ]; then ok "$t: bt -f shows frame words ($nf lines)"; else not_ok "$t: bt -f shows frame words"; fi
kdx_cmd "bt -t" > "$tmp/tt" 2>/dev/null
if grep -q 'START: ' "$tmp/tt" && grep -qE '^  \[[0-9a-f]+\] [A-Za-z_]' "$tmp/tt"; then ok "$t: bt -t lists text symbols"; else not_ok "$t: bt -t lists text symbols"; fi

# -S: restarting at frame #3's slot gives the same frames from #3 on.
slot=$(awk '/^ #3 \[/ { s = $2; gsub(/[][]/, "", s); print s; exit }' "$tmp/panic")
if [ -n "$slot" ]; then
	check "$t: bt -S at frame #3's slot" "$(awk '/^ ?#[0-9]+ \[/ { if (++n > 3) print $3 }' "$tmp/panic" | xargs)" \
		"$(kdx_cmd "bt -S $slot" 2>/dev/null | awk '/^ ?#[0-9]+ \[/ { print $3 }' | xargs)"
fi
check "$t: bt -v finds no stack overflow" "No stack overflows detected" "$(kdx_cmd "bt -v" 2>&1)"

# --- files: gt fd / cwd / root ----------------------------------------------
fdpids=$(gt "$FIXDIR" fd | awk '{ print $2 }' | sort -un | xargs)
if [ -z "$fdpids" ]; then
	skip "$t: files match /proc/PID/fd" "no gt fd records"
else
	kdx_cmd "files $fdpids" > "$tmp/files" 2> "$tmp/files.err"
	awk '/^PID: / { pid = $2; next } /^ *[0-9]+ [0-9a-f]+ [0-9a-f]+ [0-9a-f]+ / { print pid, $1, $6 }' "$tmp/files" | sort > "$tmp/files.got"
	gt "$FIXDIR" fd | awk '{ print $2, $3, $4 }' | sort > "$tmp/files.want"
	if cmp -s "$tmp/files.want" "$tmp/files.got"; then
		ok "$t: files of $(echo $fdpids | wc -w) tasks match /proc/PID/fd ($(wc -l < "$tmp/files.want") fds)"
	else
		not_ok "$t: files match /proc/PID/fd" "$(diff "$tmp/files.want" "$tmp/files.got" | grep '^<' | head -n3)" \
			"$(diff "$tmp/files.want" "$tmp/files.got" | grep '^>' | head -n3)"
	fi
fi
fifo_pid=$(gt "$FIXDIR" fd | awk '$4 == "/tmp/kdx.fifo" { print $2; exit }')
if [ -n "$fifo_pid" ]; then
	line=$(kdx_cmd "files $fifo_pid" 2>/dev/null | awk '$1 == 3')
	check "$t: files $fifo_pid: fd 3 is the FIFO" "3 FIFO /tmp/kdx.fifo" "$(echo "$line" | awk '{ print $1, $5, $6 }')"
	dentry=$(echo "$line" | awk '{ print $3 }')
	# files -d knows no mount: the path is within the dentry's file system.
	got=$(kdx_cmd "files -d $dentry" 2>/dev/null | awk 'NR == 2 { print $1, $4, $5 }')
	case "$got" in
	"$dentry FIFO "*/kdx.fifo) ok "$t: files -d of the FIFO dentry" ;;
	*) not_ok "$t: files -d of the FIFO dentry" "$dentry FIFO .../kdx.fifo" "$got" ;;
	esac
fi
cwdwant=$(gt "$FIXDIR" cwd | awk -v p="${fifo_pid:-1}" '$2 == p { print $3 }')
rootwant=$(gt "$FIXDIR" root | awk -v p="${fifo_pid:-1}" '$2 == p { print $3 }')
check "$t: files ROOT/CWD" "ROOT: $rootwant    CWD: $cwdwant" "$(kdx_cmd "files ${fifo_pid:-1}" 2>/dev/null | grep '^ROOT:')"
check "$t: foreach files -R kdx.fifo finds its users" \
	"$(gt "$FIXDIR" fd | awk '$4 == "/tmp/kdx.fifo" { print $2 }' | sort -un | xargs)" \
	"$(kdx_cmd "foreach files -R kdx.fifo" 2>/dev/null | awk '/^PID: / { print $2 }' | sort -un | xargs)"
kdx_cmd "foreach files" > "$tmp/ff" 2>"$tmp/ff.err"
# Every thread of the guest (gt has no PID 0: idle tasks are kdx's extra).
missing=$(comm -23 <(gt "$FIXDIR" task | awk '{ print $2 }' | sort -u) <(awk '/^PID: / && $2 != 0 { print $2 }' "$tmp/ff" | sort -u) | head -n5 | xargs)
check "$t: foreach files covers every task" "" "$missing"

# --- bad input: one clear line, no crash -------------------------------------
kdx_cmd "bt 999999" "bt 0xffffffffffff0000" "bt -Z" "files 999999" "files -d" "foreach" "foreach bt -Z" "bt -c 4096" \
	> "$tmp/bad" 2> "$tmp/bad.err"
rc=$?
nl=$(grep -c '^kdx: ' "$tmp/bad.err")
check "$t: 8 bad commands give 8 error lines" 8 "$nl"
if [ $rc -lt 128 ]; then ok "$t: bad input does not crash kdx"; else not_ok "$t: bad input does not crash kdx" "exit < 128" "$rc"; fi
if grep -q 'bt -Z\|unknown option -Z' "$tmp/bad.err"; then ok "$t: bt -Z names the bad option"; else not_ok "$t: bt -Z names the bad option" "unknown option -Z" "$(cat "$tmp/bad.err")"; fi
