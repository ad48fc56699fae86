#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The kernel's selftests on the pinned tree WITHOUT the lguest series,
# built with the rig's configuration and booted natively in QEMU: the
# baseline the native-fail entries of scripts/rig/selftest-expect claim
# ("fails without the series too").  Compare its SELFTEST lines with a
# test run's native ones.  Not part of test.sh: a second kernel build.
# Run scripts/build.sh first (the initramfs and selftests come from it).
. "$(dirname "$0")/lib.sh"

LGUEST_TREE=$BASE_REPO LGUEST_OUT=$CACHE/build-base \
	LGUEST_TOOLS_OUT=$CACHE/tools-base "$TOP/scripts/build.sh"
LGUEST_KERNEL=$CACHE/build-base/arch/x86/boot/bzImage \
	"$TOP/scripts/qemu-run.sh" native
grep '^SELFTEST' "$CACHE/qemu-native.log"
