#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# A Linux guest's devices, end to end: the launcher's virtio-mmio disk,
# network, console and entropy devices (Documentation/virt/lguest/
# devices.rst), driven by the stock virtio drivers of a guest.  The guest
# half is scripts/rig/guest-devices in the guest's initramfs, which
# reports "LGDEV <check> ok|fail" lines on its console; this half starts
# the guests, plays the other end (files, TAP devices, a bridge, TCP
# peers, console input) and checks both ends agree.
#
# All addresses are private and live only on this machine's TAP devices
# and bridge: no packet leaves it.
#
# $LGUEST_LAUNCHER, $LGUEST_KERNEL and $LGUEST_INITRD as for
# lguest_linux_test; $LGUEST_DISK_KILLS launcher SIGKILLs after a guest's
# fsync (default 2; scripts/bench.sh runs 20).
. "$(dirname "$0")/../kselftest/ktap_helpers.sh"

LAUNCHER=${LGUEST_LAUNCHER:-lguest}
KERNEL=${LGUEST_KERNEL:-/boot/bzImage}
INITRD=${LGUEST_INITRD:-/boot/guest.cpio.gz}
ROOT_DISK=${LGUEST_ROOT_DISK:-/boot/guest-root.ext4}
TCP=$(dirname "$0")/lguest_tcp
KILLS=${LGUEST_DISK_KILLS:-2}
TIMEOUT=600		# one guest, boot to power-off
W=$(mktemp -d /tmp/lgdev.XXXXXX)
GUEST_ARGS="debug_pagealloc=off slub_debug=-"
PATTERN_MB=4

cleanup() {
	kill $(jobs -p) 2>/dev/null
	ip link set lgbr0 down 2>/dev/null && brctl delbr lgbr0
	rm -rf "$W"
}
trap cleanup EXIT

pattern() {	# as in guest-devices
	yes "lguest-disk-pattern-$1" | head -c $(($2 * 1048576))
}

# wait_for FILE REGEX SECONDS: the line, once it is in FILE.
# (sh has no local variables: callers' loops must not use $waited.)
wait_for() {
	waited=0
	while [ $waited -lt "$3" ]; do
		line=$(grep -m1 -E "$2" "$1" 2>/dev/null) && { echo "$line"; return 0; }
		sleep 1
		waited=$((waited + 1))
	done
	return 1
}

# check NAME LOG: the guest's verdict on NAME (its console ends lines
# with CR LF).
check() {
	res=$(grep -m1 "^LGDEV $1 " "$2" | tr -d '\r')
	case "$res" in
	"LGDEV $1 ok") ktap_test_pass "$1" ;;
	"") ktap_test_fail "$1: no verdict from the guest"; tail -20 "$2" | sed 's/^/# /' ;;
	*) ktap_test_fail "$1: ${res#LGDEV }" ;;
	esac
}

# hash_in FILE PREFIX: "BYTES HASH" from "PREFIXlguest_tcp: BYTES bytes
# fnv64 HASH ..."; hash_of LOG LABEL: the guest's, "LGDEV tcp_LABEL ...".
hash_in() {
	sed -n "s/^$2lguest_tcp: \([0-9]*\) bytes fnv64 \([0-9a-f]*\).*/\1 \2/p" \
		"$1" | head -1
}

hash_of() {
	hash_in "$1" "LGDEV tcp_$2 "
}

tcp_check() {	# tcp_check NAME HASH1 HASH2
	if [ -n "$2" ] && [ "$2" = "$3" ] && [ "${2%% *}" = 16777216 ]; then
		ktap_test_pass "$1"
	else
		ktap_test_fail "$1: sent '$2', received '$3'"
	fi
}

# tap_up NAME ADDR: configure the TAP device a launcher creates.
tap_up() {
	wait_for /proc/net/dev "^ *$1:" 30 >/dev/null || return 1
	ip addr add "$2" dev "$1" && ip link set "$1" up
}

launch() {	# launch LOG ARGS...: a launcher in the background, stdin a FIFO
	log=$1
	shift
	rm -f "$log.in"
	mkfifo "$log.in"
	"$LAUNCHER" "$@" < "$log.in" > "$log" 2>&1 &
	LAUNCHED=$!
	# A hung guest fails its checks and does not hang the test.
	(sleep $TIMEOUT && kill -KILL $LAUNCHED) 2>/dev/null &
	exec 7> "$log.in"
}

# One guest with two disks (one read-only), entropy, a network to us and
# a console on our end of a FIFO.
test_main() {
	log=$W/main.log
	truncate -s 64M "$W/disk1"
	pattern ro 1 > "$W/disk2"
	truncate -s 8M "$W/disk2"
	cp "$W/disk2" "$W/disk2.orig"
	"$TCP" recv 5001 > "$W/from_guest" &
	launch "$log" --block="$W/disk1" --block="$W/disk2,ro" --rng \
		--net=tap:lgt0 --initrd="$INITRD" 128M "$KERNEL" $GUEST_ARGS \
		guest=devices lgdev=main lgnet=10.0.3.2/24 lghost=10.0.3.1
	pid=$LAUNCHED
	tap_up lgt0 10.0.3.1/24 || ktap_print_msg "no TAP device lgt0"
	if wait_for "$log" "^LGDEV wait tcp_from_host" $TIMEOUT >/dev/null; then
		"$TCP" send 10.0.3.2 5002 16 > "$W/to_guest"
	fi
	if wait_for "$log" "^LGDEV wait console" $TIMEOUT >/dev/null; then
		echo "typed-$$" >&7
	fi
	wait $pid
	rc=$?
	exec 7>&-

	pattern main $PATTERN_MB > "$W/pattern"
	if [ $rc = 0 ] && head -c $((PATTERN_MB * 1048576)) "$W/disk1" |
			 cmp -s - "$W/pattern"; then
		ktap_test_pass disk_write
	else
		ktap_test_fail "disk_write: launcher status $rc, or the file differs"
	fi
	check disk_ro "$log"
	if cmp -s "$W/disk2" "$W/disk2.orig"; then
		ktap_test_pass disk_ro_file_unchanged
	else
		ktap_test_fail disk_ro_file_unchanged
	fi
	check rng "$log"
	check ping_host "$log"
	tcp_check tcp_guest_to_host "$(hash_of "$log" to_host)" \
		"$(hash_in "$W/from_guest")"
	tcp_check tcp_host_to_guest_server "$(hash_in "$W/to_guest")" \
		"$(hash_of "$log" from_host)"
	if grep -q "^LGDEV console got:typed-$$" "$log"; then
		ktap_test_pass console
	else
		ktap_test_fail "console: no echo of our line"
	fi
}

# The ext4 root disk boots, sees the first disk's data, and is clean.
test_root() {
	log=$W/root.log
	cp "$ROOT_DISK" "$W/root.ext4"
	launch "$log" --block="$W/root.ext4" --block="$W/disk1" 128M "$KERNEL" \
		$GUEST_ARGS root=/dev/vda rw init=/init guest=devices lgdev=readback
	exec 7>&-
	wait $LAUNCHED
	rc=$?
	check disk_readback "$log"
	check rootfs "$log"
	if [ $rc = 0 ] && e2fsck -n -f "$W/root.ext4" > "$W/fsck" 2>&1; then
		ktap_test_pass rootfs_fsck_clean
	else
		why="launcher status $rc, e2fsck: $(tail -3 "$W/fsck")"
		ktap_test_fail "rootfs_fsck_clean: $why"
	fi
}

# Data the guest fsync()ed survives a SIGKILL of the launcher.
test_kill() {
	truncate -s 64M "$W/disk3"
	ok=0
	i=0
	while [ $i -lt "$KILLS" ]; do
		log=$W/kill$i.log
		launch "$log" --block="$W/disk3" --initrd="$INITRD" 128M "$KERNEL" \
			$GUEST_ARGS guest=devices lgdev=kill,$i
		exec 7>&-
		wait_for "$log" "^LGDEV synced $i" $TIMEOUT >/dev/null
		kill -KILL $LAUNCHED
		wait $LAUNCHED
		pattern "kill-$i" 1 > "$W/block"
		dd if="$W/disk3" bs=64k skip=$((i * 16)) count=16 2>/dev/null |
			cmp -s - "$W/block" || break
		ok=$((ok + 1))
		i=$((i + 1))
	done
	if [ $ok = "$KILLS" ]; then
		ktap_test_pass "fsync_then_sigkill_keeps_data ($KILLS times)"
	else
		ktap_test_fail "fsync_then_sigkill_keeps_data: lost at round $i"
	fi
}

# Two guests, each on a bridge of TAP devices (eth0) and on a direct
# launcher-to-launcher link over a UNIX socket (eth1).
test_pair() {
	# The bridge itself sends nothing: no address, and no IPv6, whose
	# router solicitations from a timer would make lockdep see the
	# bridge's per-CPU counters (in softirq) and the TAP devices' (in the
	# launchers' read()) as one lock taken both ways.
	brctl addbr lgbr0
	echo 1 2>/dev/null > /proc/sys/net/ipv6/conf/lgbr0/disable_ipv6
	ip link set lgbr0 up
	launch "$W/a.log" --net=tap:lga --net=socket:listen:"$W/link" \
		--initrd="$INITRD" 128M "$KERNEL" $GUEST_ARGS guest=devices \
		lgdev=pair-a lgnet=10.0.4.2/24,10.0.5.2/24
	a=$LAUNCHED
	exec 7>&-
	sleep 1
	launch "$W/b.log" --net=tap:lgb --net=socket:connect:"$W/link" \
		--initrd="$INITRD" 128M "$KERNEL" $GUEST_ARGS guest=devices \
		lgdev=pair-b lgnet=10.0.4.3/24,10.0.5.3/24
	b=$LAUNCHED
	exec 7>&-
	for t in lga lgb; do
		wait_for /proc/net/dev "^ *$t:" 30 >/dev/null &&
			brctl addif lgbr0 "$t" && ip link set "$t" up
	done
	wait $a
	wait $b
	check ping_bridge "$W/a.log"
	check ping_link "$W/a.log"
	check ping_bridge "$W/b.log"
	tcp_check tcp_bridge_between_guests "$(hash_of "$W/b.log" bridge)" \
		"$(hash_of "$W/a.log" bridge)"
	tcp_check tcp_link_between_guests "$(hash_of "$W/b.log" link)" \
		"$(hash_of "$W/a.log" link)"
}

ktap_print_header
ktap_set_plan 17
if [ ! -c /dev/lguest ] || ! command -v "$LAUNCHER" >/dev/null ||
   [ ! -f "$KERNEL" ] || [ ! -f "$INITRD" ]; then
	ktap_skip_all "no /dev/lguest, launcher, kernel or initrd"
	exit "$KSFT_SKIP"
fi
test_main
test_root
test_kill
test_pair
ktap_finished
