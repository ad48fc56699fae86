#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Make $TREE the pristine base with patches/ applied by "git am", exactly
# as a user would.  With -n N, apply only the first N patches.  Files the
# series does not change keep their timestamps, so builds stay incremental.
. "$(dirname "$0")/lib.sh"

count=
[ "${1:-}" = -n ] && count=$2

if [ ! -d "$TREE/.git" ]; then
	log "creating work tree $TREE"
	git clone -q --shared "$BASE_REPO" "$TREE"
fi
cd "$TREE"
git am --abort >/dev/null 2>&1 || true
git checkout -q -f -B series base
git clean -q -f -d -x

shopt -s nullglob
patches=("$TOP"/patches/*.patch)
[ -n "$count" ] && patches=("${patches[@]:0:$count}")
[ ${#patches[@]} -gt 0 ] || exit 0
git am -q --whitespace=error-all "${patches[@]}"
log "applied ${#patches[@]} patches on $(git rev-parse --short base)"
