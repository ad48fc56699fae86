#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build the i386 kernel in $TREE into the reused $OUT directory: bzImage,
# modules (lg.ko) and the uapi headers.  The configuration is tinyconfig
# plus config/*.config; every option asked for must really be set.
. "$(dirname "$0")/lib.sh"

export ARCH=i386
export CCACHE_DIR=${CCACHE_DIR:-$CACHE/ccache}
MAKE=(make -C "$TREE" O="$OUT" -j"$JOBS" CC="ccache gcc" HOSTCC="ccache gcc")
FRAGS=("$TOP"/config/host.config "$TOP"/config/debug.config)

configure() {
	mkdir -p "$OUT"
	"${MAKE[@]}" -s tinyconfig
	KCONFIG_CONFIG="$OUT/.config" "$TREE"/scripts/kconfig/merge_config.sh \
		-m -O "$OUT" "$OUT/.config" "${FRAGS[@]}" >/dev/null
	"${MAKE[@]}" -s olddefconfig
	# merge_config only warns; a silently dropped option is a broken rig.
	local bad=0 line
	while read -r line; do
		# Symbols a later patch of the series adds are not there yet.
		sym=$(sed -E 's/^(# )?CONFIG_([A-Z0-9_]+).*/\2/' <<<"$line")
		git -C "$TREE" grep -qE "^(menu)?config $sym\$" -- '*Kconfig*' ||
			continue
		grep -qxF -- "$line" "$OUT/.config" || {
			log "config: '$line' did not stick"
			bad=1
		}
	done < <(grep -h '^CONFIG_\|^# CONFIG_.* is not set' "${FRAGS[@]}")
	[ $bad = 0 ] || die "configuration incomplete"
}

# Every time: the tree may have changed under $OUT (a per-patch build of the
# series, say) and with it the symbols that exist.  An unchanged result
# rebuilds nothing.
configure
"${MAKE[@]}" -s bzImage modules
"${MAKE[@]}" -s headers_install INSTALL_HDR_PATH="$OUT/usr"
log "kernel: $OUT/arch/x86/boot/bzImage"

# User-space pieces for the test VM, all static i386 binaries.
mkdir -p "$TOOLS_OUT"
gcc -m32 -static -O2 -Wall -o "$TOOLS_OUT/qemu-exit" "$TOP/scripts/rig/qemu-exit.c"
if [ -d "$TREE/tools/lguest" ]; then
	make -s -C "$TREE/tools/lguest" OUTPUT="$TOOLS_OUT/" \
		KHDR_INCLUDES="-isystem $OUT/usr/include"
	log "launcher: $TOOLS_OUT/lguest"
fi
rm -rf "$TOOLS_OUT/kselftest"
[ -d "$TREE/tools/testing/selftests/lguest" ] || exit 0	# before that patch
make -s -C "$TREE/tools/testing/selftests" TARGETS=lguest \
	O="$TOOLS_OUT/kselftest-build" CC="gcc -m32 -static" \
	KHDR_INCLUDES="-isystem $OUT/usr/include" \
	INSTALL_PATH="$TOOLS_OUT/kselftest" install >/dev/null
log "kselftests: $TOOLS_OUT/kselftest"

# The kernel's own selftests that the rig runs natively and in a guest, to
# compare (see "Fidelity" in Documentation/virt/lguest/guest.rst): i386
# static, from the same tree and uapi headers, one directory per suite.
# The series does not touch them: its per-patch builds skip them
# (LGUEST_NO_KERNEL_SELFTESTS=1, scripts/check-series.sh).
[ -z "${LGUEST_NO_KERNEL_SELFTESTS:-}" ] || exit 0
kself() {
	local suite=$1
	shift
	mkdir -p "$TOOLS_OUT/selftests/$suite"
	make -s -C "$TREE/tools/testing/selftests/$suite" \
		OUTPUT="$TOOLS_OUT/selftests/$suite" \
		KHDR_INCLUDES="-isystem $OUT/usr/include" "$@" \
		>"$TOOLS_OUT/selftests-$suite.log" 2>&1 || {
		grep -i error "$TOOLS_OUT/selftests-$suite.log" >&2
		die "building the $suite selftests failed"
	}
}
rm -rf "$TOOLS_OUT/selftests"
kself x86 CC="gcc -static" all_32
kself sigaltstack CC="gcc -m32 -static"
kself ptrace CC="gcc -m32 -static"
kself breakpoints CC="gcc -m32 -static" ARCH=x86 \
	"$TOOLS_OUT/selftests/breakpoints/breakpoint_test"
mm=(map_fixed_noreplace mremap_dontunmap mremap_test mlock2-tests
    mrelease_test madv_populate map_populate mdwe_test mseal_test mkdirty
    seal_elf)
kself mm CC="gcc -m32 -static" "${mm[@]/#/$TOOLS_OUT/selftests/mm/}"
find "$TOOLS_OUT/selftests" -type f ! -perm -u+x -delete
log "kernel selftests: $TOOLS_OUT/selftests"
