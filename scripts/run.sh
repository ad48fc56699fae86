#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The main job: build everything and boot the patched host kernel in QEMU
# with lg.ko loaded and /dev/lguest answering, then give a shell.
. "$(dirname "$0")/lib.sh"

"$TOP/scripts/deps.sh"
"$TOP/scripts/fetch-base.sh"
"$TOP/scripts/apply-series.sh"
"$TOP/scripts/build.sh"
exec "$TOP/scripts/qemu-run.sh" demo
