#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Shadow paging against a real workload: lguest_mm_stress (which changes
# a process's mappings by every path Linux has and checks each change
# after a context switch) in a Linux guest, under each way the host can
# keep its shadows (Documentation/virt/lguest/switcher.rst, "Shadow
# paging"):
#   default        shared kernel shadows, user shadows kept across switches
#   tiny_cache     lg.shadow_pgdirs=2: directories evicted all the time
#   debug_pagealloc  the guest unmaps freed pages from its kernel mapping,
#                  so stale kernel shadows fault rather than read garbage
#   simple         lg.shadow_simple=1: the old behaviour, the baseline
# After each guest, every page the host pinned for it has been unpinned
# (/proc/vmstat's nr_foll_pin_acquired and nr_foll_pin_released agree).
#
# $LGUEST_LAUNCHER, $LGUEST_KERNEL and $LGUEST_INITRD as for
# lguest_linux_test; $LGUEST_MM_STRESS "ROUNDS WORKERS" for the stress
# (default "6 4"; scripts/bench.sh runs longer).
. "$(dirname "$0")/../kselftest/ktap_helpers.sh"

LAUNCHER=${LGUEST_LAUNCHER:-lguest}
KERNEL=${LGUEST_KERNEL:-/boot/bzImage}
INITRD=${LGUEST_INITRD:-/boot/guest.cpio.gz}
STRESS=${LGUEST_MM_STRESS:-6 4}
PARAMS=/sys/module/lg/parameters
TIMEOUT=600
W=$(mktemp -d /tmp/lgmm.XXXXXX)

saved_pgdirs=$(cat $PARAMS/shadow_pgdirs 2>/dev/null)
saved_simple=$(cat $PARAMS/shadow_simple 2>/dev/null)
cleanup() {
	[ -n "$saved_pgdirs" ] && echo "$saved_pgdirs" > $PARAMS/shadow_pgdirs
	[ -n "$saved_simple" ] && echo "$saved_simple" > $PARAMS/shadow_simple
	rm -rf "$W"
}
trap cleanup EXIT

# Pages pinned and not yet unpinned, with the per-CPU counts folded in.
pins() {
	echo 1 > /proc/sys/vm/stat_refresh 2>/dev/null
	echo $(( $(sed -n 's/^nr_foll_pin_acquired //p' /proc/vmstat) -
		 $(sed -n 's/^nr_foll_pin_released //p' /proc/vmstat) ))
}

# run NAME PGDIRS SIMPLE GUEST_ARGS...: one guest running the stress.
run() {
	name=$1 log=$W/$1.log
	echo "$2" > $PARAMS/shadow_pgdirs && echo "$3" > $PARAMS/shadow_simple ||
		{ ktap_test_fail "$name: cannot set the module parameters"; return; }
	shift 3
	before=$(pins)
	cmd=$(printf 'lguest_mm_stress %s' "$STRESS" | base64 -w0)
	timeout -s KILL $TIMEOUT "$LAUNCHER" --initrd="$INITRD" 128M "$KERNEL" \
		slub_debug=- "$@" guest=cmd lguest_cmd="$cmd" \
		< /dev/null > "$log" 2>&1
	rc=$?
	after=$(pins)
	if [ $rc = 0 ] && grep -q '^# PASS' "$log" &&
	   grep -q '^GUEST-STATUS: 0' "$log"; then
		ktap_test_pass "$name"
	else
		ktap_test_fail "$name: launcher status $rc"
		grep -E '^(not ok|# )|GUEST-STATUS|lguest:' "$log" | tail -20 |
			sed 's/^/# /'
	fi
	if [ "$after" = "$before" ]; then
		ktap_test_pass "$name: pins balanced"
	else
		ktap_test_fail "$name: $((after - before)) pages left pinned"
	fi
}

ktap_print_header
ktap_set_plan 8
if [ ! -c /dev/lguest ] || [ ! -d $PARAMS ] ||
   ! command -v "$LAUNCHER" >/dev/null || [ ! -f "$KERNEL" ] ||
   [ ! -f "$INITRD" ]; then
	ktap_skip_all "no /dev/lguest, launcher, kernel or initrd"
	exit "$KSFT_SKIP"
fi
run default 16 0 debug_pagealloc=off
run tiny_cache 2 0 debug_pagealloc=off
run debug_pagealloc 16 0 debug_pagealloc=on
run simple 16 1 debug_pagealloc=off
ktap_finished
