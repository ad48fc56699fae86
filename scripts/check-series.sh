#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The reviewer's checks on patches/: checkpatch --strict on every patch,
# every patch builds when applied in order (bisectability), and our code
# is clean under sparse and coccicheck.  Leaves $TREE with the whole series.
. "$(dirname "$0")/lib.sh"

export ARCH=i386
# checkpatch's helpers (spdxcheck.py and its python3-ply) are Debian's.
export PATH=/usr/bin:/bin:$PATH
OURS=(drivers/lguest)
fail=0
bad() { log "FAIL: $*"; fail=1; }

shopt -s nullglob
patches=("$TOP"/patches/*.patch)
n=${#patches[@]}

# "Does MAINTAINERS need updating?" is answered by gen-series.py, which
# fails unless every added file is covered by the lguest MAINTAINERS entry.
cd "$BASE_REPO"
for p in "${patches[@]}"; do
	# User-space tools call zlib and name ELF types: their CamelCase is
	# not ours to change.
	ignore=FILE_PATH_CHANGES
	grep '^+++ b/' "$p" |
		grep -vq -e '^+++ b/tools/lguest/' -e '^+++ b/MAINTAINERS' ||
		ignore=$ignore,CAMELCASE
	out=$(scripts/checkpatch.pl --strict --quiet --show-types \
		--ignore "$ignore" "$p" 2>&1) ||
		bad "checkpatch: $(basename "$p")"
	[ -z "$out" ] || { echo "$out"; bad "checkpatch: $(basename "$p")"; }
done

# A patch that changes nothing outside Documentation/ cannot break a build.
docs_only() {
	! grep '^+++ b/' "$1" | grep -qv '^+++ b/Documentation/'
}

for i in $(seq 1 "$n"); do
	p=${patches[$((i - 1))]}
	if docs_only "$p"; then
		log "patch $i/$n changes only Documentation/: $(basename "$p")"
		continue
	fi
	"$TOP/scripts/apply-series.sh" -n "$i"
	log "build after patch $i/$n: $(basename "$p")"
	LGUEST_NO_KERNEL_SELFTESTS=1 \
	"$TOP/scripts/build.sh" >/dev/null 2>"$CACHE/build-$i.log" ||
		{ cat "$CACHE/build-$i.log"; bad "build after patch $i"; }
	# Warnings in our files are errors too.
	! grep -E "(${OURS[*]// /|}|selftests/lguest).*warning:" "$CACHE/build-$i.log" ||
		bad "compiler warnings after patch $i"
done
# The whole series, whatever the last patch was, for sparse and coccicheck.
"$TOP/scripts/apply-series.sh" -n "$n"

make -s -C "$TREE" O="$OUT" C=2 CC="ccache gcc" "${OURS[@]/%//}" 2>"$CACHE/sparse.log" >/dev/null ||
	bad "sparse build"
! grep -E 'warning:|error:' "$CACHE/sparse.log" || bad "sparse"

for d in "${OURS[@]}"; do
	make -s -C "$TREE" O="$OUT" coccicheck MODE=report M="$d" \
		>"$CACHE/cocci.log" 2>&1 || bad "coccicheck run"
	! grep -vE '^(Please check|warning: coccicheck|Warning: .* is not|$)' "$CACHE/cocci.log" | grep -E ':[0-9]+:' ||
		bad "coccicheck $d"
done

[ $fail = 0 ] || die "series checks failed"
log "series checks passed: $n patches"
