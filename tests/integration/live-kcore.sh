#!/bin/bash
# The live target (/proc/kcore) on a real kernel, for hosts without one:
# boots the fixture kernel under QEMU (4- and 5-level paging) with an
# initramfs holding busybox and tests/unit/{kcore,targets,mem}_test with
# their libraries, and prints the tests' output. Not run by run-tests.sh
# (about 20 s); run it after touching src/targets/kcore.c or mem.c:
#   tests/integration/live-kcore.sh [BUILDDIR] [VMLINUZ]
set -euo pipefail
build=${1:-$(cd "$(dirname "$0")/../.." && pwd)/build}
vmlinuz=${2:-$(ls /boot/vmlinuz-*-cloud-amd64 | tail -n1)}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
r=$tmp/root
mkdir -p "$r/bin" "$r/proc" "$r/sys" "$r/dev" "$r/tmp" "$r/lib64"
cp /bin/busybox "$r/bin/"
for t in kcore_test targets_test mem_test; do
	cp "$build/tests/unit/$t" "$r/bin/"
	for l in $(ldd "$build/tests/unit/$t" | awk '$3 ~ /^\// { print $3 }'); do
		mkdir -p "$r$(dirname "$l")"
		cp -L "$l" "$r$l"
	done
done
cp -L /lib64/ld-linux-x86-64.so.2 "$r/lib64/"
cat > "$r/init" <<'EOS'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t tmpfs tmp /tmp
echo 1 > /proc/sys/kernel/kptr_restrict   # real addresses for root
echo KDX-LIVE-BEGIN
for t in kcore_test targets_test mem_test; do /bin/$t; echo "$t exit $?"; done
echo KDX-LIVE-END
poweroff -f
EOS
chmod +x "$r/init"
(cd "$r" && find . | cpio -o -H newc 2>/dev/null | gzip) > "$tmp/initrd.gz"
rc=0
for cpu in max,la57=off max; do
	echo "# -cpu $cpu"
	timeout 300 qemu-system-x86_64 -m 512 -smp 2 -cpu "$cpu" -kernel "$vmlinuz" \
		-append 'console=ttyS0 panic=-1 quiet' -initrd "$tmp/initrd.gz" -nographic \
		-no-reboot > "$tmp/console" 2>&1 || true
	out=$(sed -n '/KDX-LIVE-BEGIN/,/KDX-LIVE-END/p' "$tmp/console" | tr -d '\r' | grep -v '^KDX-LIVE')
	printf '%s\n' "$out" | grep -E '^(not ok|ok - (opened|read|banner|vmalloc|page|direct|walked))|exit'
	if [ -z "$out" ] || printf '%s\n' "$out" | grep -qE '^not ok|exit [^0]'; then rc=1; fi
done
exit $rc
