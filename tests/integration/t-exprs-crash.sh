#!/bin/bash
# Output shapes against the peer: the same commands through Debian's crash
# (8.0.2) and kdx, compared line by line. Opt-in (crash needs ~40 s and
# 400 MB per dump): KDX_COMPARE_CRASH=1. ELF dumps only.
. "$(dirname "$0")/lib.sh"

name=$(fixture_info "$FIXDIR" name)
t="exprs-vs-crash $name $FORMAT"
if [ "${KDX_COMPARE_CRASH:-0}" != 1 ]; then
	skip "$t" "set KDX_COMPARE_CRASH=1 to compare with crash"
	exit 0
fi
if ! command -v crash >/dev/null || [ "$FORMAT" != elf ]; then
	skip "$t" "needs crash and an ELF dump"
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Each command's output is compared on its own; crash's startup warnings
# and blank lines are dropped. Commands whose output crash mangles (gdb
# wraps long values onto a second line) are left out.
# crash takes only numbers and symbols as addresses: ask kdx for them
tasks=$(kdx_cmd 'p &init_task.tasks' 2>/dev/null | grep -o '0x[0-9a-f]*' | head -n1)
rcus=$(kdx_cmd 'p &init_task.rcu_read_unlock_special' 2>/dev/null | grep -o '0x[0-9a-f]*' | head -n1)
cmds=(
	"p jiffies"
	"p init_task.comm"
	"p &init_task.tasks"
	"p init_task.sched_class"
	"p *init_task.sched_class"
	"p init_task.pid_links"
	"p runqueues"
	"p/x init_task.se"
	"struct -o list_head"
	"struct -o task_struct"
	"struct -o mm_struct"
	"struct -o module"
	"struct list_head ${tasks#0x}"
	"struct -o list_head ${tasks#0x}"
	"struct task_struct.pid,comm init_task"
	"union rcu_special ${rcus#0x}"
	"struct task_struct init_task"
	"rd linux_banner 5"
	"rd -32 jiffies 6"
	"whatis init_task"
	"whatis pid_t"
	"whatis struct list_head"
	"whatis init_task.se"
	"sym schedule"
	"eval 128 * 1024"
)
: > "$tmp/in"
for c in "${cmds[@]}"; do
	printf '%s\n!echo @@@\n' "$c" >> "$tmp/in"
done
timeout 300 crash -s "$VMLINUX" "$DUMP" < "$tmp/in" 2>&1 | grep -v '^WARNING' | grep -v '^$' > "$tmp/crash"
$KDX $VMLINUX "$DUMP" < "$tmp/in" 2>&1 | grep -v '^$' > "$tmp/kdx"
# split both at the markers
# (crash sometimes leaves the last line of a value without its newline, so
# a marker can end a line)
split_at_markers() { # FILE PREFIX
	awk -v f="$2" 'BEGIN { n = 0 }
		{ if (sub(/@@@$/, "")) { if ($0 != "") print > (f n); n++; next } print > (f n) }' "$1"
}
split_at_markers "$tmp/crash" "$tmp/c."
split_at_markers "$tmp/kdx" "$tmp/k."
for i in "${!cmds[@]}"; do
	c=${cmds[$i]}
	touch "$tmp/c.$i" "$tmp/k.$i"
	# value history numbers and trailing blanks differ by construction
	sed -E 's/\$[0-9]+ = /$N = /; s/[[:space:]]+$//' "$tmp/c.$i" > "$tmp/cc"
	sed -E 's/\$[0-9]+ = /$N = /; s/[[:space:]]+$//' "$tmp/k.$i" > "$tmp/kk"
	case "$c" in
	sym*)   # crash prints the CU's path, kdx the file's: compare up to the name
		sed -i -E 's/^([0-9a-f]+ \(.\) [^ ]+).*/\1/' "$tmp/cc" "$tmp/kk" ;;
	esac
	if [ ! -s "$tmp/cc" ]; then
		skip "$t: $c" "crash printed nothing"
	elif d=$(diff "$tmp/cc" "$tmp/kk"); then
		ok "$t: $c ($(wc -l < "$tmp/cc") lines)"
	elif diff <(sed -E 's/ <[^<>]*>//g' "$tmp/cc") <(sed -E 's/ <[^<>]*>//g' "$tmp/kk") >/dev/null; then
		# gdb leaves some pointers into the kernel image unnamed (void *
		# at section starts): kdx names them; the rest is identical
		ok "$t: $c ($(wc -l < "$tmp/cc") lines; kdx names $(printf '%s\n' "$d" | grep -c '^>') more pointers)"
	else
		not_ok "$t: $c" "crash's output" "$(printf '%s\n' "$d" | head -n 8)"
	fi
done
exit $KDX_TEST_FAILED
