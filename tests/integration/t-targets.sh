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
