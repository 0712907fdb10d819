#!/bin/bash
# Peak memory of one-command sessions with a warm DWARF index: kdx must stay
# under a quarter of what Debian's crash needs on these dumps (~375-400 MB
# peak RSS), so under 96 MB. A lookup that makes libdw walk every CU header
# of vmlinux (or read all of .debug_aranges' CUs) leaves ~80-120 MB of
# .debug_info resident and fails this.
. "$(dirname "$0")/lib.sh"

name="$(fixture_info "$FIXDIR" name) $FORMAT"
limit_kb=$((96 * 1024))
if [ ! -x /usr/bin/time ]; then
	skip "peak RSS ($name)" "no /usr/bin/time"
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Warm the index cache first: the cold first start builds it (~110 MB).
kdx_cmd quit > /dev/null 2>&1

# footprint LABEL PATTERN CMD: CMD's output must match PATTERN (the command
# did its work) and the session's peak RSS must stay under the limit.
footprint() {
	local label=$1 pattern=$2 cmd=$3 kb
	printf '%s\nquit\n' "$cmd" | /usr/bin/time -f '%M' -o "$tmp/time" $KDX $VMLINUX "$DUMP" > "$tmp/out" 2> "$tmp/err"
	kb=$(tail -n1 "$tmp/time")
	if ! grep -q -- "$pattern" "$tmp/out"; then
		not_ok "$label: output ($name)" "a line matching /$pattern/" "$(head -n3 "$tmp/out" "$tmp/err")"
		return
	fi
	if [ -n "$kb" ] && [ "$kb" -lt "$limit_kb" ] 2>/dev/null; then
		ok "$label: peak RSS ${kb} KB < ${limit_kb} KB ($name)"
	else
		not_ok "$label: peak RSS under ${limit_kb} KB ($name)" "< $limit_kb KB" "$kb KB"
	fi
}

footprint "sys" '^ *RELEASE: ' sys
footprint "ps" '^ *PID ' ps
footprint "bt" '^PID: ' bt
footprint "struct task_struct" '^struct task_struct {' 'struct task_struct'
# source lines of a late CU: libdw's own aranges reader touches every CU
footprint "sym schedule" ' schedule .*: [0-9]' 'sym schedule'
footprint "bt -l" '^PID: ' 'bt -l'
