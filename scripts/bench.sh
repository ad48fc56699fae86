#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Benchmark: in one QEMU run, the null-hypercall round trip through the
# switcher next to a native getpid() on the same host, as a ratio, with
# exits per operation from the guest's debugfs counters.
. "$(dirname "$0")/lib.sh"

"$TOP/scripts/deps.sh"
"$TOP/scripts/fetch-base.sh"
"$TOP/scripts/apply-series.sh"
"$TOP/scripts/build.sh"
"$TOP/scripts/qemu-run.sh" bench | grep '^bench:'
