#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Benchmark: in one QEMU run, the null-hypercall round trip through the
# switcher next to a native getpid() on the same host, as a ratio, with
# exits per operation from the guest's debugfs counters; then system calls,
# fork, exec, pipe round trips, page faults and boot time natively and in
# a Linux guest (scripts/rig/vbench), as guest/native ratios; then the
# long runs of the fuzzers (a million /dev/lguest requests, a thousand
# tiny guests) and of the kill stress (a thousand launchers).  The
# guest's devices against the same work done natively (scripts/rig/devbench).
# LGUEST_RIG_ARGS=rig_bench=hcall|vbench|devbench|fuzz runs one part.
. "$(dirname "$0")/lib.sh"

"$TOP/scripts/deps.sh"
"$TOP/scripts/fetch-base.sh"
"$TOP/scripts/apply-series.sh"
"$TOP/scripts/build.sh"
"$TOP/scripts/qemu-run.sh" bench | grep -E '^(v|dev)?bench:'
