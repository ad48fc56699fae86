#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Pack the test VM's initramfs: static i386 busybox, lg.ko, the installed
# lguest kselftests and the rig's /init.  Prints the image's path.
. "$(dirname "$0")/lib.sh"

# i386 packages from Debian, without adding i386 to dpkg: a private apt
# state directory that only knows the i386 package lists.  Unpacks the
# packages into directory $1.
debs_i386() {
	local dir=$1 st=$CACHE/apt-i386 deb
	shift
	mkdir -p "$st/lists/partial" "$st/cache" "$st/deb"
	local o=(-o APT::Architecture=i386 -o APT::Architectures=i386
		 -o Dir::State::Lists="$st/lists" -o Dir::Cache="$st/cache")
	[ -n "$(ls "$st/lists" 2>/dev/null | grep -v partial)" ] ||
		apt-get "${o[@]}" -q update >&2 ||
		log "apt-get update (i386) reported errors"
	(cd "$st/deb" && apt-get "${o[@]}" -q download "${@/%/:i386}" >&2) ||
		die "cannot download $*"
	for deb in "$@"; do
		dpkg -x "$(ls "$st"/deb/"${deb}"_*_i386.deb | tail -1)" "$dir"
	done
}

# A static i386 busybox.
busybox_i386() {
	local bb=$CACHE/busybox-i386/bin/busybox
	[ -x "$bb" ] && { echo "$bb"; return; }
	debs_i386 "$CACHE/busybox-i386" busybox-static
	file -L "$bb" | grep -q 'Intel 80386' || die "busybox is not i386"
	echo "$bb"
}

# i386 e2fsck and the libraries it needs, into $1: the device tests check
# a guest's ext4 disk from the host (busybox has no e2fsck).
e2fsck_i386() {
	local e=$CACHE/e2fsprogs-i386 lib
	[ -x "$e/sbin/e2fsck" ] ||
		debs_i386 "$e" e2fsprogs libext2fs2 libcom-err2 libblkid1 \
			libuuid1 libc6
	mkdir -p "$1/sbin" "$1/lib/i386-linux-gnu"
	cp "$e/sbin/e2fsck" "$1/sbin/"
	cp "$e/lib/ld-linux.so.2" "$1/lib/" 2>/dev/null ||
		cp -L "$e/lib/i386-linux-gnu/ld-linux.so.2" "$1/lib/"
	for lib in libext2fs.so.2 libcom_err.so.2 libe2p.so.2 libc.so.6 \
		   libblkid.so.1 libuuid.so.1; do
		cp -L "$(ls "$e"/{lib,usr/lib}/i386-linux-gnu/$lib 2>/dev/null |
			 head -1)" "$1/lib/i386-linux-gnu/"
	done
}

# The kernel's own selftests (build.sh), stripped, into $1/selftests.
copy_selftests() {
	local f
	[ -d "$TOOLS_OUT/selftests" ] || return 0
	cp -a "$TOOLS_OUT/selftests" "$1/selftests"
	find "$1/selftests" -type f -exec strip {} +
	cp "$TOP/scripts/rig/selftest-run" "$TOP/scripts/rig/selftest-compare" \
		"$1/bin/"
}

# The lguest guest's own initramfs: busybox, the guest's /init and the
# guest half of lguest_linux_test (stripped: the guest unpacks it slowly).
# "guest_initramfs selftests" adds the kernel's selftests, for the
# fidelity run: a separate image, so other guests boot no slower.
guest_initramfs() {
	local g=$CACHE/guest-initramfs
	local check=$TOOLS_OUT/kselftest/lguest/lguest_guest_check
	rm -rf "$g"
	mkdir -p "$g"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,etc}
	cp "$(busybox_i386)" "$g/bin/busybox"
	ln -s busybox "$g/bin/sh"
	cp "$TOP/scripts/rig/guest-init" "$g/init"
	if [ -x "$check" ]; then
		strip -o "$g/bin/lguest_guest_check" "$check"
	fi
	# For its check that lg.ko refuses to load in a guest.
	mkdir -p "$g/lib"
	strip --strip-debug -o "$g/lib/lg.ko" "$OUT/drivers/lguest/lg.ko"
	[ -x "$TOOLS_OUT/kselftest/lguest/lguest_vbench" ] &&
		strip -o "$g/bin/lguest_vbench" "$TOOLS_OUT/kselftest/lguest/lguest_vbench"
	for prog in lguest_tcp lguest_mm_stress; do
		[ -x "$TOOLS_OUT/kselftest/lguest/$prog" ] &&
			strip -o "$g/bin/$prog" "$TOOLS_OUT/kselftest/lguest/$prog"
	done
	cp "$TOP/scripts/rig/guest-devices" "$g/bin/"
	[ "${1:-}" = selftests ] && copy_selftests "$g"
	(cd "$g" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0 | gzip -1)
}

# The guest's root disk: the guest initramfs as an ext4 image, made
# without root privileges (mke2fs -d).  Sparse, so it packs small.
guest_root_disk() {
	local disk=$CACHE/guest-root.ext4
	rm -f "$disk"
	mke2fs -q -t ext4 -L lguest-root -E root_owner=0:0 \
		-d "$CACHE/guest-initramfs" "$disk" 48M >&2 ||
		die "mke2fs of the guest root disk failed"
	echo "$disk"
}

root=$CACHE/initramfs
img=$CACHE/initramfs.cpio.gz
krel=$(cat "$OUT/include/config/kernel.release")
rm -rf "$root"
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,etc}
cp "$(busybox_i386)" "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
cp "$TOP/scripts/rig/init" "$root/init"
cp "$TOP/scripts/rig/vbench" "$TOP/scripts/rig/devbench" "$root/bin/"
cp "$TOOLS_OUT/qemu-exit" "$root/bin/"
mkdir -p "$root/lib/modules/$krel/kernel/drivers/lguest"
cp "$OUT/drivers/lguest/lg.ko" "$root/lib/modules/$krel/kernel/drivers/lguest/"
cp -a "$TOOLS_OUT/kselftest" "$root/kselftest"
copy_selftests "$root"
cp "$TOP/scripts/rig/selftest-expect" "$root/etc/"
# The launcher and a guest: the same bzImage, with its own initramfs.
if [ -x "$TOOLS_OUT/lguest" ]; then
	cp "$TOOLS_OUT/lguest" "$root/bin/"
	mkdir -p "$root/boot"
	cp "$OUT/arch/x86/boot/bzImage" "$root/boot/bzImage"
	guest_initramfs selftests > "$root/boot/guest-selftests.cpio.gz"
	guest_initramfs > "$root/boot/guest.cpio.gz"
	cp --sparse=always "$(guest_root_disk)" "$root/boot/guest-root.ext4"
	e2fsck_i386 "$root"
fi
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0 | gzip -1) > "$img"
echo "$img"
