#!/bin/bash
# t-robust-cmds.sh: hostile arguments to every command never crash kdx.
#
# Runs every command listed by `help` (plus the hidden ones) with a set of
# hostile arguments (missing, zero, all-ones, unmapped, user and unaligned
# addresses, negative and huge counts, unknown symbols and options,
# unterminated quotes, 10 KB words, ...) and a list of specific nasty command
# lines, in one batch session with a marker line before each command.  For
# every command: no ASan/UBSan report, no signal, no hang (> 20 s), and every
# stderr line it prints is a one-line `kdx: ...` message (at most a few).
# A crash ends the session: the next one resumes after the culprit.
# Runs on one dump format per fixture (kdump, else the first format).
. "$(dirname "$0")/lib.sh"

first=$(fixture_formats "$FIXDIR" | head -n1)
if [ "$FORMAT" != kdump ] && { [ "$FORMAT" != "$first" ] || [ -s "$FIXDIR/vmcore.kdump" ]; }; then
	skip "robust-cmds" "runs on the kdump (or first) format only"
	exit 0
fi
limit_memory
TMP=$(mktemp -d)
[ -n "${KDX_KEEP_TMP:-}" ] || trap 'rm -rf "$TMP"' EXIT; [ -n "${KDX_KEEP_TMP:-}" ] && echo "# tmp $TMP"

long=$(head -c 10240 /dev/zero | tr '\0' 'A')

# Command names: those listed by help, plus the ones help may not list.
cmds=$(printf 'help\n' | $KDX "$VMLINUX" "$DUMP" 2>/dev/null |
	awk '/^  [a-z*]/ { print $1 }')
set -f   # `*` is a command name, not a glob
cmds=$(printf '%s\n' $cmds bt eval extend files foreach kmem list log mod p probe \
	ps rd search set struct sym sys task tree union vm whatis | sort -u | grep -vx quit)

args=("" "0" "0xffffffffffffffff" "0xdeadbeef" "0x400000" "0xffff888000000003"
      "0xffffffffc0000003" "-1" "99999999999" "nosuch_symbol_xyz" "-Z" "--bogus"
      "\"unterminated" "'unterminated" "$long" "(" ")" "0 0 0 0" "-1 -1" "0x10 99999999999")

{
	for c in $cmds; do
		for a in "${args[@]}"; do
			# search scans all memory by default (tens of seconds): bound it
			case $c in
			search) printf 'search -s _text -l 0x10000 %s\n' "$a" ;;
			*) printf '%s %s\n' "$c" "$a" ;;
			esac
		done
	done
	cat <<'EOC'
struct task_struct 0x10
struct task_struct -1
struct nosuch_struct_xyz
struct task_struct.nosuchmember 0
union nosuch_union_xyz
list -H 0xffff888000000000
list -H 0
list -s task_struct.nosuchmember -H 0
list -o 99999999 0xffff888000000000
tree -t rbtree 0
tree -t radix 0
tree -t xarray 0xffffffffffffffff
tree -t maple 0xdeadbeef
tree -t nosuchtype 0
kmem 0
kmem -s nosuch_cache_xyz
kmem -S nosuch_cache_xyz
kmem -p 0xffffffffffffffff
kmem -v 0
bt 0xffffffffffff0000
bt -t 0xffffffffffff0000
bt -c 999
bt -p 99999999
foreach bogus bt
foreach 99999999 bt
foreach bt -Z
task -R nosuchmember
task -R pid 0xffffffffffff0000
task 0xffffffffffff0000
files 0xffffffffffff0000
vm 0xffffffffffff0000
vm -p 0xdeadbeef
rd -p 0xffffffffffff
rd -p 0xffffffffffff 4
rd -u 0x400000
rd -32 0xffffffffffffffff 4
rd -s 0 99999999999
rd -8 0xfffffffffffffffe 16
search -s 0 -e 0x1000 0
search -s 0xffffffffffff0000 -e 0xffffffffffffffff 0
search -p -s 0 -e 0 0
p 1/0
p 1%0
p *(int *)0
p ((struct task_struct *)0)->pid
p (char)
p sizeof(struct nosuch_struct_xyz)
p jiffies[99999999]
p -x -d 0
whatis struct nosuch_struct_xyz
sym -l nosuch
sym 0
sym -m nosuch_module
probe -e 'probe begin { x = 1/0 }'
probe -e 'probe begin { x = 1 % 0 }'
probe -e 'probe list("0", "struct list_head", "next") { }'
probe -e 'probe begin {'
probe -e 'probe begin { printf("%s %d %p\n") }'
probe -e 'probe begin { printf("%d\n", "str") }'
probe -e 'probe begin { x = @cast(0, "struct task_struct")->pid }'
probe -e 'probe nosuchpoint { }'
probe -e 'function f(n) { return f(n + 1) } probe begin { f(0) }'
probe -e 'probe begin { while (1) { } }'
probe -e 'probe begin { s = "x"; while (1) s = s . s }'
probe -e 'probe begin { s = "x"; while (1) s = sprintf("%s%s", s, s) }'
probe -e 'probe begin { s = "x"; for (i = 0; i < 40; i++) s = str_replace(s, "x", "xx"); println(strlen(s)) }'
probe -e 'global a; probe begin { for (i = 0; ; i++) a[i] = sprintf("%d", i) }'
probe -e 'global s; probe begin { s <<< 1; s <<< -9223372036854775807; print(@hist_log(s)) }'
probe -e 'global s; probe begin { s <<< 9223372036854775807; s <<< 9223372036854775807; println(@sum(s), @avg(s)) }'
probe -e 'global s; probe begin { s <<< 5; print(@hist_linear(s, -9223372036854775807, 9223372036854775807, 1)) }'
probe -e 'probe begin { println(substr("abc", 9223372036854775807, 9223372036854775807)) }'
probe -e 'probe begin { println((-9223372036854775807 - 1) / -1, (-9223372036854775807 - 1) % -1) }'
probe -e 'probe begin { println(-(-9223372036854775807 - 1), 9223372036854775807 * 2, 1 << 64, 1 << -1) }'
probe -e 'probe begin { println(kernel_string(0), kernel_string(-1)) }'
probe -e 'probe begin { x = @cast(0xffffffffffffff00, "struct task_struct")->pid }'
p -9223372036854775807-1 / -1
p (-9223372036854775807-1) % -1
p 1 << 64
p 1 << -1
p 9223372036854775807 * 3
probe -e ''
probe /etc/passwd
probe /nonexistent/file
log -Z
log -m -t -a -Z
mod -s nosuch
mod -s kdx_fixture /etc/passwd
mod -s kdx_fixture /nonexistent/file.ko
mod -S /nonexistent
extend /etc/passwd
extend /nonexistent/x.so
extend -u nosuch
set radix 7
set radix 0
set -p 99999999
set 0xffffffffffff0000
set nosuchvariable 1
set scroll maybe
ps -Z
ps -a 0xffffffffffff0000
ps -p 99999999
ps 0xffffffffffff0000
ps | false
ps | /nonexistent/command
ps > /proc/nope/x
ps >> /nonexistent/dir/x
sys | exit 3
!false
!/nonexistent/command
nosuchcommand
*task_struct 0x10
*nosuch_struct 0
EOC
	# Deep nesting and long operator chains: an error, never a stack overflow.
	deep=$(printf '(%.0s' $(seq 1 20000))1$(printf ')%.0s' $(seq 1 20000))
	plus=$(printf '+ 1 %.0s' $(seq 1 20000))
	cond=$(printf '? 1 : 1 %.0s' $(seq 1 20000))
	printf 'p %s\n' "$deep" "1 $plus" "1 $cond" "$(printf -- '-%.0s' $(seq 1 20000))1" \
		"$(printf '&*%.0s' $(seq 1 20000))jiffies" "init_task.tasks$(printf '.next->prev%.0s' $(seq 1 3000))"
	printf 'whatis %s\n' "$deep"
	printf 'rd %s\n' "$deep"
	printf 'struct task_struct %s\n' "$deep"
	printf "probe -e 'probe begin { x = %s }'\n" "$deep" "1 $plus" "1 $cond" \
		"@cast(0, \"struct list_head\")$(printf -- '->next%.0s' $(seq 1 20000))"
	printf "probe -e 'probe begin %s%s'\n" "$(printf '{%.0s' $(seq 1 20000))" "$(printf '}%.0s' $(seq 1 20000))"
	printf "probe -e 'probe begin { %s x = 1 }'\n" "$(printf 'if (1) %.0s' $(seq 1 20000))"
	# The unwinder from made-up places: stack pointers near real frames
	# (found by `foreach bt`) with instruction pointers inside functions.
	printf 'foreach bt\n' | timeout 60 $KDX "$VMLINUX" "$DUMP" 2>/dev/null |
		awk -v gt="$GT" 'BEGIN { while ((getline l < gt) > 0) { split(l, f, " "); if (f[1] == "kallsyms" && (f[3] == "T" || f[3] == "t")) ip[n++] = f[2] } srand(11) }
			/^PID:/ { pid = $2 }
			/^ ?#[0-9]+ \[/ { gsub(/[][]/, "", $2); sp[m] = $2; sp_pid[m++] = pid }
			END {
				if (!n || !m) exit
				split("0 8 16 -8 -16 3 -4096 -600 1000", d, " ")
				split("_ -f -F -FF -l -e -t -T", fl, " ")
				for (i = 0; i < 150; i++) {
					k = int(rand() * m)
					printf "%s %s %s %s %d %s\n", fl[1 + int(rand() * 8)] "", sp[k], d[1 + int(rand() * 9)], ip[int(rand() * n)], int(rand() * 300), sp_pid[k]
				}
			}' |
		while read -r f sp d ip o pid; do
			[ "$f" = "" ] && f=
			printf 'bt %s -S 0x%x -I 0x%x %s\n' "${f#_}" $((16#$sp + d)) $((16#$ip + o)) "$pid"
		done
} > "$TMP/cmds"

n=$(wc -l < "$TMP/cmds")
start=1
sessions=0
bad=0
declare -A seen_fail
while [ "$start" -le "$n" ] && [ $sessions -lt 40 ]; do
	sessions=$((sessions + 1))
	# Marker before each command: "@@ LINE EPOCH" on stderr.
	awk -v s="$start" 'NR >= s { printf "!echo \"@@ %d $(date +%%s)\" >&2\n%s\n", NR, $0 }
		END { printf "!echo \"@@ %d $(date +%%s)\" >&2\n", NR + 1 }' \
		"$TMP/cmds" > "$TMP/in"
	timeout -k 5 60 $KDX "$VMLINUX" "$DUMP" < "$TMP/in" > /dev/null 2> "$TMP/err"
	rc=$?
	# Split stderr per command; report the bad ones.
	last=$(awk -v rc="$rc" -v cmdfile="$TMP/cmds" '
		BEGIN { while ((getline l < cmdfile) > 0) cmd[++nc] = l }
		function check(   why) {
			if (cur == 0) return
			why = ""
			if (san) why = "sanitizer report"
			else if (other) why = "stderr line not starting with kdx: (" otherline ")"
			else if (nk > 4) why = nk " kdx: lines"
			else if (dt > 20) why = "took " dt " s"
			if (why != "") print "BAD " cur " " why
		}
		/^@@ [0-9]+ [0-9]+$/ {
			if (cur) { dt = $3 - t0; check() }
			cur = $2; t0 = $3; nk = 0; san = 0; other = 0; caret = 0; next
		}
		/AddressSanitizer|runtime error:|LeakSanitizer|SUMMARY: (Address|Undefined)/ { san = 1; next }
		/^kdx: / { nk++; caret = 1; next }
		# a probe diagnostic quotes the source line and a caret below it
		caret && /^    / { next }
		# summaries of skipped data ("search: N pages ... could not be read")
		/^(search|probe): [0-9]+ / { caret = 0; next }
		# a failing shell command of a pipeline or ! escape
		/^sh: / { next }
		cur && !san && !other && /./ { other = 1; otherline = substr($0, 1, 80) }
		END { dt = 0; check(); print "LAST " cur }
	' "$TMP/err")
	while read -r tag i why; do
		[ "$tag" = BAD ] || continue
		line=$(sed -n "${i}p" "$TMP/cmds" | cut -c1-100)
		if [ -z "${seen_fail[$i]:-}" ]; then
			seen_fail[$i]=1
			not_ok "robust-cmds: $line" "no crash, no hang, one-line kdx: errors" "$why"
			awk -v i="$i" '/^@@ /{ p = ($2 == i) } p' "$TMP/err" | head -20 | sed 's/^/#   /'
			bad=$((bad + 1))
		fi
	done <<< "$last"
	lastidx=$(printf '%s\n' "$last" | awk '$1 == "LAST" { print $2 }')
	if [ "$lastidx" -gt "$n" ] 2>/dev/null; then
		break
	fi
	# The session died (signal, sanitizer halt, timeout) while running $lastidx.
	line=$(sed -n "${lastidx}p" "$TMP/cmds" | cut -c1-100)
	if [ -z "${seen_fail[$lastidx]:-}" ]; then
		seen_fail[$lastidx]=1
		not_ok "robust-cmds: $line" "session survives" "session ended, exit status $rc"
		awk -v i="$lastidx" '/^@@ /{ p = ($2 == i) } p' "$TMP/err" | head -20 | sed 's/^/#   /'
		bad=$((bad + 1))
	fi
	start=$((lastidx + 1))
done
[ $bad = 0 ] && ok "robust-cmds: $n hostile command lines, no crash, hang or multi-line error"

# Batch exit status: non-zero when a command failed, zero otherwise.
printf 'sys\nrd 0\n' | timeout 30 $KDX "$VMLINUX" "$DUMP" >/dev/null 2>&1
rc=$?
check "robust-cmds: batch exit status after a failed command" 1 "$rc"
printf 'sys\n' | timeout 30 $KDX "$VMLINUX" "$DUMP" >/dev/null 2>&1
check "robust-cmds: batch exit status when all succeed" 0 "$?"

# ---- looped list: every walker reports it, fails, and does not hang ----------
loop() {
	local name=$1 cmd=$2 rc
	printf 'mod -s kdx_fixture %s\n%s\n' "$FIXDIR/kdx_fixture.ko" "$cmd" |
		timeout 20 $KDX "$VMLINUX" "$DUMP" > "$TMP/lout" 2> "$TMP/lerr"
	rc=$?
	if [ $rc = 1 ] && grep -q 'loop' "$TMP/lerr" && [ "$(wc -l < "$TMP/lerr")" = 1 ]; then
		ok "robust-cmds: looped list: $name"
	else
		not_ok "robust-cmds: looped list: $name" "exit 1, one stderr line naming the loop" \
			"exit $rc: $(head -c 300 "$TMP/lerr")"
	fi
}
loop "list entry" "list kdx_fixture_loop"
loop "list -H -s" "list -H kdx_fixture_loop -s kdx_fixture_item.index -l kdx_fixture_item.link"
loop "probe list()" "probe -e 'global n; probe list(\"kdx_fixture_loop\", \"struct kdx_fixture_item\", \"link\") { n++ } probe end { println(n) }'"
# A list is no tree: garbage links are an error (or an empty walk), never a hang.
for t in rbtree radix xarray maple; do
	printf 'mod -s kdx_fixture %s\ntree -t %s kdx_fixture_loop\n' "$FIXDIR/kdx_fixture.ko" "$t" |
		timeout 20 $KDX "$VMLINUX" "$DUMP" > "$TMP/lout" 2> "$TMP/lerr"
	rc=$?
	if [ $rc -lt 2 ] && ! grep -qvE '^kdx: ' "$TMP/lerr"; then
		ok "robust-cmds: tree -t $t on a looped list: no crash or hang"
	else
		not_ok "robust-cmds: tree -t $t on a looped list" "exit 0/1, kdx: lines" "exit $rc: $(head -c 300 "$TMP/lerr")"
	fi
done

# ---- output that goes away ---------------------------------------------------
# The reader of a pipe exits early: the command stops (no 16 s search of all
# memory into a closed pipe), silently. A full disk: one error line.
start=$(date +%s)
printf 'search -p 0 | head -1\nsys | head -1\n' | timeout 60 $KDX "$VMLINUX" "$DUMP" > "$TMP/pout" 2> "$TMP/perr"
rc=$? took=$(( $(date +%s) - start ))
if [ $rc = 0 ] && [ $took -le 8 ] && [ ! -s "$TMP/perr" ] && [ "$(wc -l < "$TMP/pout")" = 2 ]; then
	ok "robust-cmds: search -p 0 | head -1 stops when head exits"
else
	not_ok "robust-cmds: search -p 0 | head -1 stops when head exits" "exit 0 within 8 s, 2 lines, no stderr" \
		"exit $rc after $took s, $(wc -l < "$TMP/pout") lines, $(head -c 200 "$TMP/perr")"
fi
if [ -w /dev/full ]; then
	printf 'foreach bt > /dev/full\nsys\n' | timeout 60 $KDX "$VMLINUX" "$DUMP" > "$TMP/pout" 2> "$TMP/perr"
	rc=$?
	if [ $rc = 1 ] && [ "$(wc -l < "$TMP/perr")" = 1 ] && grep -q '^kdx: .*/dev/full' "$TMP/perr" && grep -q RELEASE "$TMP/pout"; then
		ok "robust-cmds: foreach bt > /dev/full: one error line, next command runs"
	else
		not_ok "robust-cmds: foreach bt > /dev/full: one error line, next command runs" "exit 1, kdx: ... /dev/full" \
			"exit $rc: $(head -c 300 "$TMP/perr")"
	fi
fi
exit 0
