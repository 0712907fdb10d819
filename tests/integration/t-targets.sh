#!/bin/bash
# Targets and the memory layer on every fixture dump (tests/unit/target_dump_test
# from the build directory): linux_banner through the kernel image, the direct
# map and a page-table walk; page_offset/phys_base/paging against gt.txt;
# planted module data (vmalloc, page-table walk); a slab object; registers of
# the crashing CPU; clean faults.
. "$(dirname "$0")/lib.sh"

td="$(dirname "$KDX")/tests/unit/target_dump_test"
name=$(fixture_info "$FIXDIR" name)
if [ ! -x "$td" ]; then
	skip "targets $name $FORMAT" "no $td (make check builds it)"
	exit 0
fi
abi=$(fixture_info "$FIXDIR" abi)
banner=$(grep -a -m1 -o 'Linux version .*' "$CONSOLE" | tr -d '\r')
KDX_TEST_DUMP="$DUMP" KDX_TEST_GT="$GT" KDX_TEST_BANNER="$banner" \
	KDX_TEST_SYSMAP="/usr/lib/debug/boot/System.map-$abi" "$td"

# Without VMCOREINFO (a QEMU dump made without -device vmcoreinfo, or a
# stripped copy): kdx finds KASLR and the layout from a CPU's CR3 (QEMU
# note), or, without CPU state (kexec dumps), by finding the kernel image in
# physical memory. A copy of the kdump file with its VMCOREINFO hidden.
if [ "$FORMAT" = kdump ]; then
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	cp "$DUMP" "$tmp/novi.kdump" && chmod u+w "$tmp/novi.kdump"
	# sub-header offset_vmcoreinfo/size_vmcoreinfo = 0, note renamed
	dd if=/dev/zero of="$tmp/novi.kdump" bs=1 seek=$((4096 + 32)) count=16 conv=notrunc status=none
	for off in $(head -c 1048576 "$tmp/novi.kdump" | grep -boa 'VMCOREINFO' | cut -d: -f1); do
		printf X | dd of="$tmp/novi.kdump" bs=1 seek=$((off + 9)) conv=notrunc status=none
	done
	got=$(printf 'p linux_banner\n' | "$KDX" "$VMLINUX" "$tmp/novi.kdump" 2>&1 | head -n1)
	want="linux_banner = \$1 = \"${banner:0:60}"
	case "$got" in
	"$want"*) ok "targets $name $FORMAT: no VMCOREINFO: linux_banner read" ;;
	*) not_ok "targets $name $FORMAT: no VMCOREINFO: linux_banner read" "$want..." "$got" ;;
	esac
fi
