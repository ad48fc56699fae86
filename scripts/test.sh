#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Everything CI does, from a fresh Debian 12 machine: install packages,
# fetch the pinned base, check that patches/ is up to date, apply it with
# git am, build, run the kselftests in QEMU, and check the series.
#   test.sh            all of it
#   test.sh --quick    skip the per-patch series checks
. "$(dirname "$0")/lib.sh"

quick=
[ "${1:-}" = --quick ] && quick=1

step "install packages" "$TOP/scripts/deps.sh"
step "fetch base tree" "$TOP/scripts/fetch-base.sh"
step "check patches/ is generated" "$TOP/scripts/gen-series.py" --check
step "apply series" "$TOP/scripts/apply-series.sh"
step "build" "$TOP/scripts/build.sh"
step "kselftests in QEMU" "$TOP/scripts/qemu-run.sh" test
[ -n "$quick" ] || step "series checks" "$TOP/scripts/check-series.sh"
