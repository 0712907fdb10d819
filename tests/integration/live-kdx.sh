#!/bin/bash
# kdx on a live kernel, for hosts without /proc/kcore: boots the fixture
# kernel under QEMU with kdx, its libraries and the debuginfo vmlinux on a
# virtio disk (ext4 image made with mke2fs -d, ~800 MB in a temp dir), runs
# kdx without a dump (the guest's /proc/kcore) on COMMANDS, prints the output.
# Not run by run-tests.sh (about 30 s):
#   tests/integration/live-kdx.sh [KDX] [CPU] < COMMANDS     (CPU: max,la57=off | max)
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
kdx=${1:-$top/build/kdx}
cpu=${2:-max,la57=off}
vmlinuz=$(ls /boot/vmlinuz-*-cloud-amd64 | tail -n1)
abi=${vmlinuz#/boot/vmlinuz-}
vmlinux=/usr/lib/debug/boot/vmlinux-$abi
mods=/usr/lib/modules/$abi/kernel/drivers
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
d=$tmp/disk i=$tmp/initrd
mkdir -p "$d/bin" "$d/lib64" "$d/proc" "$d/sys" "$d/tmp" "$d/dev" "$i/bin" "$i/proc" "$i/sys" "$i/dev" "$i/mnt" "$i/mods"
cp /bin/busybox "$d/bin/"
ln -s busybox "$d/bin/sh"
for t in head tail wc grep awk sort; do ln -s busybox "$d/bin/$t"; done
cp "$kdx" "$d/bin/kdx"
for l in $(ldd "$kdx" | awk '$3 ~ /^\// { print $3 }'); do
	mkdir -p "$d$(dirname "$l")"
	cp -L "$l" "$d$l"
done
cp -L /lib64/ld-linux-x86-64.so.2 "$d/lib64/"
cp "$vmlinux" "$d/vmlinux"
cat > "$d/cmds"
for m in virtio/virtio_ring virtio/virtio virtio/virtio_pci_legacy_dev virtio/virtio_pci_modern_dev \
	 virtio/virtio_pci block/virtio_blk; do
	cp "$mods/$m.ko" "$i/mods/"
done
cp /bin/busybox "$i/bin/"
cat > "$i/init" <<'EOS'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
for m in virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci virtio_blk; do
	insmod /mods/$m.ko
done
mount -t ext4 /dev/vda /mnt
mount -t proc proc /mnt/proc; mount -t sysfs sys /mnt/sys; mount -t tmpfs tmp /mnt/tmp
echo 1 > /proc/sys/kernel/kptr_restrict
echo KDX-LIVE-BEGIN
chroot /mnt /bin/sh -c 'HOME=/tmp /bin/kdx --cache-dir=/tmp /vmlinux < /cmds; echo "kdx exit $?"'
echo KDX-LIVE-END
poweroff -f
EOS
chmod +x "$i/init"
(cd "$i" && find . | cpio -o -H newc 2>/dev/null | gzip) > "$tmp/initrd.gz"
mke2fs -q -t ext4 -d "$d" "$tmp/disk.img" $(( $(du -sm "$d" | cut -f1) + 200 ))M
timeout 600 qemu-system-x86_64 -m 2048 -smp 2 -cpu "$cpu" -kernel "$vmlinuz" \
	-append 'console=ttyS0 panic=-1 quiet' -initrd "$tmp/initrd.gz" \
	-drive file="$tmp/disk.img",if=virtio,format=raw -nographic -no-reboot > "$tmp/console" 2>&1 || true
sed -n '/KDX-LIVE-BEGIN/,/KDX-LIVE-END/p' "$tmp/console" | tr -d '\r' | grep -v '^KDX-LIVE'
grep -q 'kdx exit 0' "$tmp/console"
