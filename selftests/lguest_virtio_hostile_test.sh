#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Hostile device use, under the real launcher: lguest_virtio_guest, a tiny
# guest at ring 1 that the launcher boots as if it were a kernel, drives
# a virtio disk by hand and breaks the rules of the split virtqueue one at
# a time (descriptors outside memory or in the switcher, loops, zero and
# huge lengths, indices that run ahead or out of range, bad indirect
# tables, rings outside memory, a bad queue size).  The launcher must
# report each, stop the device until the guest resets it, serve it again
# after the reset and power off cleanly at the end.  Then a write above
# memory in no device window, and an instruction the host cannot decode
# on a device register: the host must kill the guest, with a reason.
# The disk file is only read from, or not at all.  (The rig checks the
# host's dmesg after all the tests.)
#
# The guest reports "HOSTILE <case> ok|fail: <why>" lines on the
# hypercall console, the launcher's stdout.  $LGUEST_LAUNCHER as for
# lguest_linux_test.
. "$(dirname "$0")/../kselftest/ktap_helpers.sh"

LAUNCHER=${LGUEST_LAUNCHER:-lguest}
GUEST=$(dirname "$0")/lguest_virtio_guest
TIMEOUT=300		# one guest; it gives up on a silent device by itself
MEM=32			# MiB
BAD=$(printf '0x%x' $((MEM * 1048576 + 65536)))	# the guest's BAD_OFFSET
W=$(mktemp -d /tmp/lghostile.XXXXXX)

# Each case, and what the launcher says about it: "vda: device error:
# queue 0: WHAT; stopped until ..." (none: nothing it must refuse).
CASES="desc_outside_memory:buffer $BAD+512 outside guest memory
desc_in_switcher:buffer 0xffc00000+512 outside guest memory
desc_wraps:buffer 0x300000+4294967295 outside guest memory
zero_length:
desc_loop:chain longer than 8 descriptors (a loop?)
next_out_of_range:next descriptor 200 of 8
head_out_of_range:head descriptor 200 of 8
avail_runs_ahead:avail index 10 runs 9 ahead of 1
indirect_outside:indirect table $BAD+48 outside guest memory
indirect_nested:nested indirect table
rings_outside_memory:rings outside guest memory
queue_size_bad:size 3
recovery:"
NR_CASES=13
NR_REFUSED=11		# the cases with a phrase

cleanup() {
	# shellcheck disable=SC2046 # one word per job
	kill $(jobs -p) 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT

# watchdog PID: SIGKILL it if it runs longer than $TIMEOUT seconds.
watchdog() {
	t=0
	while [ $t -lt $TIMEOUT ] && kill -0 "$1" 2>/dev/null; do
		sleep 1
		t=$((t + 1))
	done
	[ $t -lt $TIMEOUT ] || kill -KILL "$1" 2>/dev/null
}

# run MODE: the guest in MODE; its console in $W/MODE.out, the launcher's
# messages in $W/MODE.err, the launcher's status in $RC.
run() {
	"$LAUNCHER" --block="$W/disk" "${MEM}M" "$GUEST" "hostile=$1" \
		< /dev/null > "$W/$1.out" 2> "$W/$1.err" &
	pid=$!
	watchdog $pid > /dev/null 2>&1 &
	dog=$!
	wait $pid
	RC=$?
	kill $dog 2>/dev/null
	wait $dog 2>/dev/null
	tr -d '\r' < "$W/$1.out" > "$W/$1.log"
}

show() {	# show FILE: its end, as KTAP comments
	tail -5 "$1" | sed 's/^/# /'
}

# check NAME PHRASE: the guest's verdict on NAME, and the launcher's
# report if there must be one.
check() {
	res=$(grep -m1 "^HOSTILE $1 " "$W/virtq.log")
	case "$res" in
	"HOSTILE $1 ok"*) ;;
	"")
		ktap_test_fail "$1: no verdict from the guest"
		return ;;
	*)
		ktap_test_fail "$1: ${res#"HOSTILE $1 "}"
		return ;;
	esac
	if [ -n "$2" ] &&
	   ! grep -qF "vda: device error: queue 0: $2;" "$W/virtq.err"; then
		ktap_test_fail "$1: the launcher did not report it"
		echo "# expected: vda: device error: queue 0: $2"
		show "$W/virtq.err"
		return
	fi
	ktap_test_pass "$1"
}

test_virtq() {
	run virtq
	# Not a pipe: the results must be counted in this shell.
	while IFS=: read -r name phrase; do
		check "$name" "$phrase"
	done <<-EOF
	$CASES
	EOF

	if [ $RC = 0 ] && grep -q "^HOSTILE done$" "$W/virtq.log"; then
		ktap_test_pass launcher_survived
	else
		ktap_test_fail "launcher_survived: status $RC"
		show "$W/virtq.log"
		show "$W/virtq.err"
	fi

	# One report per refused case, and none for good requests.
	want=$NR_REFUSED
	grep -q "^HOSTILE zero_length ok: refused" "$W/virtq.log" &&
		want=$((want + 1))
	got=$(grep -c ": device error: " "$W/virtq.err")
	if [ "$got" = $want ]; then
		ktap_test_pass "device_errors_reported ($got)"
	else
		ktap_test_fail "device_errors_reported: $got, expected $want"
		show "$W/virtq.err"
	fi
}

# killed MODE REASON: the host kills the guest for the access it says it
# makes ("HOSTILE MODE ready at ADDR"), with REASON.
killed() {
	run "$1"
	addr=$(sed -n "s/^HOSTILE $1 ready at \(0x[0-9a-f]*\)$/\1/p" \
		"$W/$1.log" | head -1)
	# LG_STATUS_KILLED, and the reason of drivers/lguest/mmio.c.
	if [ $RC = 3 ] && [ -n "$addr" ] &&
	   grep -q "guest killed by the host: $2 at 0x[0-9a-f]* (guest-physical $addr," \
		"$W/$1.err"; then
		ktap_test_pass "$1"
	else
		ktap_test_fail "$1: status $RC, access at '$addr'"
		show "$W/$1.log"
		show "$W/$1.err"
	fi
}

ktap_print_header
ktap_set_plan $((NR_CASES + 5))
if [ ! -c /dev/lguest ] || ! command -v "$LAUNCHER" >/dev/null ||
   [ ! -f "$GUEST" ]; then
	ktap_skip_all "no /dev/lguest, launcher or lguest_virtio_guest"
	exit "$KSFT_SKIP"
fi
printf 'lguest hostile disk' > "$W/disk"	# the guest's DISK_MAGIC
truncate -s 1M "$W/disk"
cp "$W/disk" "$W/disk.orig"

test_virtq
killed stray "access beyond guest memory, outside every device window"
killed insn "undecodable instruction accessing a device"
if cmp -s "$W/disk" "$W/disk.orig"; then
	ktap_test_pass disk_file_unchanged
else
	ktap_test_fail disk_file_unchanged
fi
ktap_finished
