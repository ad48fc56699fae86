#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# tap-summary.sh LOG QEMU_STATUS: count the kselftest results in the serial
# log of a test VM, print "N passed, N failed", and exit non-zero unless
# the VM reported a clean run through isa-debug-exit (status 1).
log=$1 rc=$2

# kselftest prints each test case as "# ok N name" (or "not ok"), nested
# one level under the line for its test program.
pass=$(grep -cE '^# ok [0-9]+ ' "$log")
fail=$(grep -cE '^# not ok [0-9]+ ' "$log")
skip=$(grep -cE '^# ok [0-9]+ .*# SKIP' "$log")
progs_failed=$(grep -cE '^not ok [0-9]+ selftests: ' "$log")
pass=$((pass - skip))

verdict=ok
case $rc in
1) ;;
124|137) echo "VM timed out"; verdict=failed ;;
*) echo "VM exited with status $rc (no clean verdict)"; verdict=failed ;;
esac
grep -q '^RIG-VERDICT: ok' "$log" || verdict=failed
[ "$progs_failed" -eq 0 ] || verdict=failed
[ $((pass + fail)) -gt 0 ] || { echo "no test ran"; verdict=failed; }
[ "$fail" -eq 0 ] || verdict=failed

echo "lguest: $pass passed, $fail failed, $skip skipped"
[ $verdict = ok ]
