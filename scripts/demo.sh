#!/usr/bin/env bash
# Set up kdx and run it on a sample dump: installs packages, builds kdx,
# generates the sample vmcore (a Debian kernel crashed with sysrq-c under
# QEMU; cached), then starts kdx on it. Interactive on a terminal; a short
# scripted tour otherwise.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
kdx=$("$top/scripts/setup.sh" "$top/build" | tail -1)
"$top/tests/fixtures/gen.sh" --only l4-sysrq >&2
dir=$(grep -m1 '/l4-sysrq$' "$("$top/tests/fixtures/gen.sh" --list-file)")
vmlinux=$(readlink -f "$dir/vmlinux")
if [ -t 0 ] && [ -t 1 ]; then
	exec "$kdx" "$vmlinux" "$dir/vmcore.kdump"
fi
printf '%s\n' sys 'ps' 'bt' 'log | tail -n 15' | "$kdx" "$vmlinux" "$dir/vmcore.kdump"
