#!/usr/bin/env bash
# The initramfs of the seed tutorials, for the boot benchmark's baseline: a
# static busybox and a shell script that loads the kernel modules, gets an
# address with udhcpc, downloads root.squashfs with wget into a tmpfs, mounts
# it under an overlay with a tmpfs upper and switch_roots into it. It verifies
# nothing (that is the point of the comparison).
#
#   bench/boot/script_initramfs.sh RELEASE_DIR BUSYBOX_STATIC OUT.cpio.gz   (as root)
#
# The modules are the same files as the release's own pib initramfs carries
# (taken from its boot/initrd.img), only the ones an HTTP root needs, in the
# load order MACHINE-NOTES gives for Debian's kernel. The root's URL comes from
# the kernel command line: bench.root=http://SERVER/root.squashfs.
set -euo pipefail
[ $# = 3 ] || { echo "usage: $0 RELEASE_DIR BUSYBOX_STATIC OUT.cpio.gz" >&2; exit 2; }
release=$1 busybox=$2 out=$3
file -L "$busybox" | grep -q 'statically linked' || { echo "script_initramfs: $busybox is not static" >&2; exit 1; }
initrd=$release/boot/initrd.img
[ -f "$initrd" ] || { echo "script_initramfs: no $initrd" >&2; exit 1; }

tmp=$(mktemp -d /tmp/script-initramfs.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/pib" "$tmp/root"/{bin,dev,proc,sys,mnt,newroot,lib/modules}
# The pib initramfs is a zstd (or gzip, or plain) newc archive.
(cd "$tmp/pib" && { zstdcat "$initrd" 2>/dev/null || zcat "$initrd" 2>/dev/null || cat "$initrd"; } |
  cpio -idm --quiet)
modules="virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci failover
  net_failover virtio_net loop squashfs overlay"
for m in $modules; do
  ko=$(find "$tmp/pib/lib/modules" -name "$m.ko" | head -n 1)
  [ -n "$ko" ] || { echo "script_initramfs: $m.ko is not in $initrd" >&2; exit 1; }
  cp "$ko" "$tmp/root/lib/modules/"
done

cp "$busybox" "$tmp/root/bin/busybox"
for applet in sh mount mkdir insmod ip udhcpc wget sed cat sleep switch_root; do
  ln -s busybox "$tmp/root/bin/$applet"
done
mknod -m 600 "$tmp/root/dev/console" c 5 1

cat > "$tmp/root/bin/udhcpc.script" <<'SCRIPT'
#!/bin/sh
# udhcpc calls this with the lease in the environment ($mask is a prefix length).
case "$1" in
  bound|renew)
    ip addr add "$ip/${mask:-24}" dev "$interface"
    [ -z "$router" ] || ip route add default via "${router%% *}" ;;
esac
exit 0
SCRIPT
chmod 755 "$tmp/root/bin/udhcpc.script"

cat > "$tmp/root/init" <<SCRIPT
#!/bin/sh
export PATH=/bin
mount -t devtmpfs devtmpfs /dev
mount -t proc proc /proc
mount -t sysfs sysfs /sys
echo "bench-init: loading modules"
for m in $(echo $modules); do insmod /lib/modules/\$m.ko; done
while [ ! -e /sys/class/net/eth0 ]; do sleep 0.1; done
ip link set lo up
ip link set eth0 up
echo "bench-init: dhcp"
udhcpc -i eth0 -s /bin/udhcpc.script -f -q -n -t 20 -T 1 || { echo "bench-init: no lease"; exec sh; }
url=\$(sed -n 's/.*bench\.root=\([^ ]*\).*/\1/p' /proc/cmdline)
mount -t tmpfs -o size=80% tmpfs /mnt
echo "bench-init: fetching \$url"
wget -q -O /mnt/root.squashfs "\$url" || { echo "bench-init: wget failed"; exec sh; }
echo "bench-init: root fetched (not verified)"
mkdir /mnt/ro /mnt/rw
mount -t squashfs -o loop,ro /mnt/root.squashfs /mnt/ro
mount -t tmpfs tmpfs /mnt/rw
mkdir /mnt/rw/upper /mnt/rw/work
mount -t overlay overlay -o lowerdir=/mnt/ro,upperdir=/mnt/rw/upper,workdir=/mnt/rw/work /newroot
echo "bench-init: switching root to /sbin/init"
exec switch_root /newroot /sbin/init
SCRIPT
chmod 755 "$tmp/root/init"
(cd "$tmp/root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet | gzip -9) > "$out"
