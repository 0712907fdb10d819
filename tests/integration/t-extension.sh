#!/bin/bash
# The extension API: the example extension's `modlist` walks the module list
# through the public API; names and reference counts must equal the guest's
# /proc/modules. Also: loading errors are one line and fail the batch.
. "$(dirname "$0")/lib.sh"

t="extension $(fixture_info "$FIXDIR" name) $FORMAT"
so=${KDX_BUILDDIR:-$(dirname "$KDX")}/extensions/example/kdx-example.so
if [ ! -f "$so" ]; then
	skip "$t: example extension" "not built ($so)"
	exit 0
fi
got=$(kdx_cmd "extend $so" modlist 2>&1 | awk 'NR > 2 && NF == 3 { print $2, $3 }' | sort)
want=$(gt "$FIXDIR" module | awk '{ print $2, $4 }' | sort)
check "$t: modlist names and refcounts = /proc/modules" "$want" "$got"

out=$(kdx_cmd "extend /nonexistent/x.so" 2>&1); rc=$?
check "$t: missing extension: one line" 1 "$(printf '%s\n' "$out" | wc -l)"
if [ $rc -ne 0 ]; then ok "$t: missing extension fails the batch"; else not_ok "$t: missing extension fails the batch" "non-zero" "$rc"; fi
out=$(kdx_cmd "extend /bin/true" 2>&1); rc=$?
case "$out" in *"kdx_extension_init"*|*"cannot"*|*"extend:"*) ok "$t: not an extension: clear error" ;; *) not_ok "$t: not an extension: clear error" "extend: ... error" "$out" ;; esac
