#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Boot the built kernel with the rig's initramfs in QEMU (TCG).
#   qemu-run.sh test   run the kselftests; exit 0 only on a clean pass
#   qemu-run.sh bench  run the benchmark; exit 0 if it ran cleanly
#   qemu-run.sh demo   interactive: a Linux guest under lguest, its shell
#   qemu-run.sh cmd    run the guest command in LGUEST_RIG_ARGS, exit with
#                      its status (see run.sh)
#   qemu-run.sh native only the kernel's selftests, natively, on the kernel
#                      LGUEST_KERNEL names (see native-baseline.sh)
# The test run has a hard time limit: a hung or crashed VM is a failure.
. "$(dirname "$0")/lib.sh"

mode=${1:-demo}
limit=${LGUEST_QEMU_TIMEOUT:-1800}
img=$("$TOP/scripts/mkinitramfs.sh")
# cmd: only the command's output.  bench: the guest and the native side
# both without page poisoning and slab checks, which cost a shadow-paged
# guest far more than a native kernel.
extra=
[ "$mode" = cmd ] && extra=quiet
[ "$mode" = bench ] && extra="debug_pagealloc=off slub_debug=-"
# test: the NMIs of QEMU's monitor reach every CPU, not only the first.
[ "$mode" = test ] && extra="apic_extnmi=all"
# Two CPUs as two sockets: the rig's kernel has no ACPI, and SeaBIOS's MP
# table lists one CPU per socket (with cores=2 the kernel sees one CPU).
qemu=(qemu-system-i386 -m 1024 -smp 2,sockets=2 -no-reboot -nographic -nic none
      -kernel "${LGUEST_KERNEL:-$OUT/arch/x86/boot/bzImage}" -initrd "$img"
      -device isa-debug-exit,iobase=0xf4,iosize=0x04
      -append "console=ttyS0 panic=-1 retain_initrd $extra rig=$mode ${LGUEST_RIG_ARGS:-}")
# retain_initrd: i386 frees the relocated initrd without telling kmemleak,
# and a kmemleak scan then faults on the pages DEBUG_PAGEALLOC unmapped.

if [ "$mode" = demo ] || [ "$mode" = cmd ]; then
	# The rig ends QEMU with (status << 1) | 1, the launcher's status:
	# 0 when the guest powered off.  Anything else is a crash.
	set +e
	if [ "$mode" = demo ]; then
		"${qemu[@]}"
		rc=$?
	else
		timeout --foreground -k 10 "$limit" "${qemu[@]}" </dev/null |
			tr -d '\r'
		rc=${PIPESTATUS[0]}
	fi
	[ $((rc & 1)) = 1 ] && exit $((rc >> 1))
	die "QEMU ended without a verdict (status $rc)"
fi

log=$CACHE/qemu-$mode.log
rm -f "$log"
# The NMI storm test asks for NMIs through the console (lguest_async_test).
if [ "$mode" = test ]; then
	mon=$CACHE/qemu-monitor.sock
	rm -f "$mon"
	qemu+=(-monitor "unix:$mon,server=on,wait=off")
	# (The log must be written as QEMU prints: hence stdbuf for tr.)
	"$TOP/scripts/rig/nmi-storm" "$log" "$mon" &
fi
set +e
timeout --foreground -k 10 "$limit" "${qemu[@]}" </dev/null |
	stdbuf -o0 tr -d '\r' | tee "$log"
rc=${PIPESTATUS[0]}
set -e
[ "$mode" = test ] && wait
if [ "$mode" = test ]; then
	exec "$TOP/scripts/tap-summary.sh" "$log" "$rc"
fi
[ "$rc" = 1 ] && grep -q '^RIG-VERDICT: ok' "$log"
