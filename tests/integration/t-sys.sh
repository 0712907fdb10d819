#!/bin/bash
# sys and log against the guest: utsname, CPUs, task count, memory, the
# panic message and uptime against the serial console, and the kernel log
# against every comparable console line.
. "$(dirname "$0")/lib.sh"

name="$(fixture_info "$FIXDIR" name) $FORMAT"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

kdx_cmd sys > "$tmp/sys" 2> "$tmp/sys.err"
field() { sed -n "s/^ *$1: //p" "$tmp/sys" | head -n1; }

check "sys RELEASE ($name)" "$(gt_value "$FIXDIR" sys release)" "$(field RELEASE)"
check "sys VERSION ($name)" "$(gt_value "$FIXDIR" sys version)" "$(field VERSION)"
check "sys NODENAME ($name)" "$(gt_value "$FIXDIR" sys nodename)" "$(field NODENAME)"
check "sys MACHINE ($name)" "$(gt_value "$FIXDIR" sys machine)" "$(field MACHINE | awk '{ print $1 }')"
ncpus=$(gt_value "$FIXDIR" sys ncpus)
check "sys CPUS ($name)" "$ncpus" "$(field CPUS)"
# crash counts every thread and each CPU's idle task
check "sys TASKS ($name)" "$(( $(gt "$FIXDIR" task | wc -l) + ncpus ))" "$(field TASKS)"

# MEMORY: at least MemTotal, at most the guest's RAM (info mem=NNNM)
memkb=$(gt_value "$FIXDIR" sys memtotal_kb)
ram=$(fixture_info "$FIXDIR" mem | sed 's/M$//')
got=$(field MEMORY | awk '$2 == "GB" { print $1 * 1024 * 1024; next } $2 == "MB" { print $1 * 1024; next } { print $1 }')
if [ -n "$got" ] && awk -v g="$got" -v lo="$memkb" -v hi="$((ram * 1024))" 'BEGIN { exit !(g >= lo && g <= hi) }'; then
	ok "sys MEMORY within [MemTotal, RAM] ($name)"
else
	not_ok "sys MEMORY within [MemTotal, RAM] ($name)" "$memkb..$((ram * 1024)) KB" "$(field MEMORY)"
fi

# PANIC: a line of the console (without its timestamp)
panic=$(field PANIC | sed 's/^"//; s/"$//')
if [ -n "$panic" ] && tr -d '\r' < "$CONSOLE" | grep -qF -- "$panic"; then
	ok "sys PANIC is on the console ($name)"
else
	not_ok "sys PANIC is on the console ($name)" "a console line" "$panic"
fi
case "$(gt_value "$FIXDIR" sys scenario)" in
sysrq) check "sys PANIC of a sysrq crash ($name)" "sysrq: Trigger a crash" "$panic" ;;
oops) case "$panic" in "kernel BUG at "*) ok "sys PANIC of a BUG() ($name)" ;;
	*) not_ok "sys PANIC of a BUG() ($name)" "kernel BUG at ..." "$panic" ;; esac ;;
esac

# The dump's log: the crashed kernel's records. A kdump fixture's console
# also has the capture kernel's boot: stop at its "Linux version" line.
tr -d '\r' < "$CONSOLE" | awk '/^\[ *[0-9]+\.[0-9]+\] Linux version / { if (++n > 1) exit } { print }' \
	| grep -aE '^\[ *[0-9]+\.[0-9]{6}\] ' > "$tmp/console"
kdx_cmd log > "$tmp/log" 2> "$tmp/log.err"
# Continuation lines of multi-line records are indented under the text in
# kdx (as in crash); the console repeats the prefix: give them the prefix.
awk '/^\[ *[0-9]+\.[0-9]+\] / { p = substr($0, 1, index($0, "]") + 1); print; next }
	{ print p substr($0, length(p) + 1) }' "$tmp/log" > "$tmp/log.norm"
missing=$(grep -vxFf "$tmp/log.norm" "$tmp/console" | head -n 5)
if [ -s "$tmp/console" ] && [ -z "$missing" ]; then
	ok "log has every console line ($(wc -l < "$tmp/console") lines, $name)"
else
	not_ok "log has every console line ($name)" "all $(wc -l < "$tmp/console") console lines" "$missing"
fi
# in the console's order (records are in sequence order; their timestamps
# need not ascend: CPUs' clocks differ)
check "log is in the console's order ($name)" "$(md5sum < "$tmp/console")" \
	"$(grep -xFf "$tmp/console" "$tmp/log.norm" | md5sum)"
check "dmesg is log ($name)" "$(md5sum < "$tmp/log")" "$(kdx_cmd dmesg | md5sum)"
check "log -m shows levels ($name)" "$(wc -l < "$tmp/log")" \
	"$(kdx_cmd 'log -m' | grep -cE '^(\[ *[0-9]+\.[0-9]+\] <[0-7]>| )')"
check "log -t drops timestamps ($name)" "0" "$(kdx_cmd 'log -t' | grep -cE '^\[ *[0-9]+\.[0-9]{6}\] ')"
year=$(date +%Y)
check "log -T wall-clock stamps ($name)" "$(grep -c '^\[' "$tmp/log")" \
	"$(kdx_cmd 'log -T' | grep -cE "^\[[A-Z][a-z]{2} [A-Z][a-z]{2} [ 0-9]{2} [0-9:]{8} .* [0-9]{4}\] ")"

# UPTIME: close to the last console timestamp of the crashed kernel
last=$(tail -n1 "$tmp/console" | sed 's/^\[ *\([0-9]*\)\..*/\1/')
up=$(field UPTIME | awk -F: '{ print $1 * 3600 + $2 * 60 + $3 }')
if [ -n "$up" ] && [ $((up - last)) -ge -2 ] && [ $((up - last)) -le 2 ]; then
	ok "sys UPTIME ($name)"
else
	not_ok "sys UPTIME ($name)" "about $last s" "$(field UPTIME)"
fi
check "sys prints no errors ($name)" "" "$(cat "$tmp/sys.err")"

# sys -c: the x86_64 syscall ABI (0 read, 1 write, 60 exit, 231 exit_group)
got=$(kdx_cmd 'sys -c' | awk '$1 == 0 || $1 == 1 || $1 == 60 || $1 == 231 { print $1, $2 }' | tr '\n' ' ')
case "$got" in
"0 "*sys_read*" 1 "*sys_write*" 60 "*sys_exit*" 231 "*sys_exit_group*) ok "sys -c: read write exit exit_group ($name)" ;;
*) not_ok "sys -c: read write exit exit_group ($name)" "0 ..sys_read 1 ..sys_write 60 ..sys_exit 231 ..sys_exit_group" "$got" ;;
esac

# [TAINTED] after KERNEL exactly when the guest said it was tainted
if tr -d '\r' < "$CONSOLE" | awk '/Linux version / { if (++n > 1) exit } { print }' | grep -q 'taints kernel'; then
	want=yes
else
	want=no
fi
case "$(field KERNEL)" in *"[TAINTED]") got=yes ;; *) got=no ;; esac
check "sys KERNEL [TAINTED] ($name)" "$want" "$got"

# log -d: driver messages carry their device ("acpi PNP0A08:00: ..." is
# printed by dev_printk with SUBSYSTEM=acpi)
if grep -q '] acpi PNP0A08:00: ' "$tmp/log"; then
	check "log -d shows SUBSYSTEM of dev_printk records ($name)" "SUBSYSTEM=acpi" \
		"$(kdx_cmd 'log -d' | grep -A1 '] acpi PNP0A08:00: ' | sed -n '2s/^ *//p')"
fi

# [PARTIAL DUMP]: the kexec fixtures are makedumpfile -d 31 dumps (no free,
# cache or user pages); QEMU's dumps hold every page
if [ "$(fixture_info "$FIXDIR" mode)" = kexec ]; then want=yes; else want=no; fi
case "$(field DUMPFILE)" in *"[PARTIAL DUMP]") got=yes ;; *) got=no ;; esac
check "sys DUMPFILE [PARTIAL DUMP] ($name)" "$want" "$got"
