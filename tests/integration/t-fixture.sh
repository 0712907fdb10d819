#!/bin/bash
# Sanity of the fixture itself (independent of kdx): ground truth, console,
# dump file magic and VMCOREINFO.
. "$(dirname "$0")/lib.sh"

name=$(fixture_info "$FIXDIR" name)
abi=$(fixture_info "$FIXDIR" abi)
scenario=$(fixture_info "$FIXDIR" scenario)
t="fixture $name $FORMAT"

check "$t: gt.txt ends with end" end "$(tail -n1 "$GT")"
check "$t: gt sys release is the abi" "$abi" "$(gt_value "$FIXDIR" sys release)"
check "$t: gt paging matches info" "$(fixture_info "$FIXDIR" paging)" "$(gt_value "$FIXDIR" sys paging)"
check "$t: gt ncpus matches info" "$(fixture_info "$FIXDIR" cpus)" "$(gt_value "$FIXDIR" sys ncpus)"
check "$t: planted list count" 100000 "$(gt_value "$FIXDIR" fixture list_count)"
check "$t: loop_at" 4 "$(gt_value "$FIXDIR" fixture loop_at)"

ntask=$(gt "$FIXDIR" task | wc -l)
if [ "$ntask" -ge 40 ]; then ok "$t: gt has $ntask tasks"; else not_ok "$t: gt has tasks" ">= 40" "$ntask"; fi
check "$t: kdx_holder sleeps (S)" S "$(gt "$FIXDIR" task | awk '$6 == "kdx_holder" { print $5 }')"
check "$t: 3 kdx_waiters in D" "D D D" "$(gt "$FIXDIR" task | awk '$6 ~ /^kdx_waiter\// { printf "%s%s", s, $5; s = " " }')"
check "$t: module kdx_fixture listed" 1 "$(gt "$FIXDIR" module | awk '$2 == "kdx_fixture"' | wc -l)"
if gt "$FIXDIR" kallsyms | awk '$4 == "kdx_fixture_check"' | grep -q .; then ok "$t: kallsyms has kdx_fixture_check"; else not_ok "$t: kallsyms has kdx_fixture_check"; fi
if gt "$FIXDIR" stack | grep -q .; then ok "$t: gt has stacks"; else not_ok "$t: gt has stacks"; fi

if grep -aq 'Kernel panic - not syncing' "$CONSOLE"; then ok "$t: console has the panic line"; else not_ok "$t: console has the panic line"; fi
if grep -aq 'Call Trace:' "$CONSOLE"; then ok "$t: console has a Call Trace"; else not_ok "$t: console has a Call Trace"; fi
ccpu=$(grep -a -m1 -oE 'CPU: [0-9]+ PID: [0-9]+' "$CONSOLE" | awk '{ print $2 }')
case "$scenario" in
sysrq)
	if grep -aq 'sysrq triggered crash' "$CONSOLE"; then ok "$t: sysrq panic"; else not_ok "$t: sysrq panic"; fi
	cpid=$(grep -a -m1 -oE 'CPU: [0-9]+ PID: [0-9]+' "$CONSOLE" | awk '{ print $4 }')
	check "$t: panicking pid is trigger_pid" "$(awk '$1 == "trigger_pid" { print $2 }' "$GT")" "$cpid"
	;;
oops)
	if grep -aq 'kernel BUG at' "$CONSOLE" && grep -aq 'RIP: 0010:kdx_fixture_check' "$CONSOLE"; then
		ok "$t: BUG in kdx_fixture_check"
	else
		not_ok "$t: BUG in kdx_fixture_check"
	fi
	;;
esac
check "$t: console crash cpu is crashing_cpu" "$(awk '$1 == "crashing_cpu" { print $2 }' "$GT")" "$ccpu"

ko=$(grep -a -m1 -oE 'Kernel Offset: 0x[0-9a-f]+' "$CONSOLE" | awk '{ print $3 }')
if [ -n "$ko" ]; then
	check "$t: info kaslr_offset matches the console" "$ko" "$(fixture_info "$FIXDIR" kaslr_offset)"
fi
check "$t: panic_cpu is crashing_cpu" "$(fixture_info "$FIXDIR" crashing_cpu)" "$(fixture_info "$FIXDIR" panic_cpu)"
check "$t: every task has a taskstat" "$(gt "$FIXDIR" task | wc -l)" "$(gt "$FIXDIR" taskstat | wc -l)"

if [ -s "$DUMP" ]; then ok "$t: dump exists"; else not_ok "$t: dump exists" "non-empty $DUMP" "missing or empty"; fi
case "$FORMAT" in
elf*) want=$(printf '\177ELF' | od -An -tx1 | tr -d ' \n'); got=$(head -c4 "$DUMP" | od -An -tx1 | tr -d ' \n') ;;
flat*) want=makedumpfile; got=$(head -c12 "$DUMP") ;;
kdump*) want='KDUMP   '; got=$(head -c8 "$DUMP") ;;
*) want=?; got=unknown-format ;;
esac
check "$t: dump magic" "$want" "$got"
check "$t: dump carries VMCOREINFO" "OSRELEASE=$abi" "$(grep -a -m1 -o 'OSRELEASE=[^[:space:]]*' "$DUMP" | head -n1)"
if [ -r "$VMLINUX" ] && [ "$(head -c4 "$VMLINUX" | od -An -tx1 | tr -d ' \n')" = 7f454c46 ]; then
	ok "$t: vmlinux is an ELF file"
else
	not_ok "$t: vmlinux is an ELF file" "$VMLINUX" "unreadable or not ELF"
fi
