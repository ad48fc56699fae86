#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Pack the test VM's initramfs: static i386 busybox, lg.ko, the installed
# lguest kselftests and the rig's /init.  Prints the image's path.
. "$(dirname "$0")/lib.sh"

# A static i386 busybox from Debian, without adding i386 to dpkg: a private
# apt state directory that only knows the i386 package lists.
busybox_i386() {
	local bb=$CACHE/busybox-i386/bin/busybox st=$CACHE/apt-i386
	[ -x "$bb" ] && { echo "$bb"; return; }
	mkdir -p "$st/lists/partial" "$st/cache" "$st/deb"
	local o=(-o APT::Architecture=i386 -o APT::Architectures=i386
		 -o Dir::State::Lists="$st/lists" -o Dir::Cache="$st/cache")
	apt-get "${o[@]}" -q update >&2 || log "apt-get update (i386) reported errors"
	(cd "$st/deb" && apt-get "${o[@]}" -q download busybox-static:i386 >&2) ||
		die "cannot download busybox-static:i386"
	dpkg -x "$st"/deb/busybox-static_*_i386.deb "$CACHE/busybox-i386"
	file -L "$bb" | grep -q 'Intel 80386' || die "busybox is not i386"
	echo "$bb"
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
	[ "${1:-}" = selftests ] && copy_selftests "$g"
	(cd "$g" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0 | gzip -1)
}

root=$CACHE/initramfs
img=$CACHE/initramfs.cpio.gz
krel=$(cat "$OUT/include/config/kernel.release")
rm -rf "$root"
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,etc}
cp "$(busybox_i386)" "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
cp "$TOP/scripts/rig/init" "$root/init"
cp "$TOP/scripts/rig/vbench" "$root/bin/vbench"
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
	guest_initramfs > "$root/boot/guest.cpio.gz"
	guest_initramfs selftests > "$root/boot/guest-selftests.cpio.gz"
fi
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0 | gzip -1) > "$img"
echo "$img"
