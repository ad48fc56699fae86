#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The main job: build everything, boot the patched kernel in QEMU as the
# lguest host, and boot the same kernel under lguest as a guest from an
# ext4 root disk, with a network to the host and a busybox shell on its
# virtio console.  "poweroff -f" in the guest ends it all, with status 0.
#   run.sh                 interactive guest shell
#   run.sh -- CMD [ARG..]  run CMD in the guest instead, print its output,
#                          and exit with its status
. "$(dirname "$0")/lib.sh"

cmd=
if [ "${1:-}" = -- ]; then
	shift
	[ $# -gt 0 ] || die "usage: run.sh [-- COMMAND [ARG...]]"
	# The guest's kernel command line carries it, so no spaces or quotes:
	# base64, without the padding the command line would not mind anyway.
	cmd=$(printf '%s' "$*" | base64 -w0)
elif [ $# -gt 0 ]; then
	die "usage: run.sh [-- COMMAND [ARG...]]"
fi

"$TOP/scripts/deps.sh"
"$TOP/scripts/fetch-base.sh"
"$TOP/scripts/apply-series.sh"
"$TOP/scripts/build.sh"
if [ -n "$cmd" ]; then
	LGUEST_RIG_ARGS="lguest_args=\"guest=cmd lguest_cmd=$cmd\"" \
		exec "$TOP/scripts/qemu-run.sh" cmd
fi
exec "$TOP/scripts/qemu-run.sh" demo
