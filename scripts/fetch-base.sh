#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Fetch the pinned Debian kernel source once and keep it as a pristine git
# repository in $BASE_REPO, with a single commit tagged "base".
. "$(dirname "$0")/lib.sh"

if git -C "$BASE_REPO" rev-parse -q --verify base >/dev/null 2>&1; then
	exit 0
fi

dl=$CACHE/download
rm -rf "$dl" "$BASE_REPO"
mkdir -p "$dl"
cd "$dl"
if ! apt-get download "$BASE_PKG=$BASE_VERSION"; then
	log "WARNING: pinned $BASE_PKG=$BASE_VERSION is not available;"
	log "WARNING: falling back to the newest $BASE_PKG. The series may not apply."
	apt-get update -q || true
	apt-get download "$BASE_PKG"
fi
deb=$(ls ./*.deb)
log "unpacking $deb"
dpkg-deb --fsys-tarfile "$deb" | tar -x --wildcards '*/linux-source-6.12.tar.xz'
mkdir -p "$BASE_REPO"
tar -C "$BASE_REPO" --strip-components=1 -xf usr/src/linux-source-6.12/linux-source-6.12.tar.xz 2>/dev/null ||
	tar -C "$BASE_REPO" --strip-components=1 -xf "$(find . -name 'linux-source-6.12.tar.xz')"
cd "$BASE_REPO"
git init -q -b master
# Debian's tree ignores every top-level path ("/*"), so force the add.
git add -f -A
git commit -q -m "Linux from Debian $BASE_PKG $BASE_VERSION"
git tag base
rm -rf "$dl"
log "base tree ready: $BASE_REPO ($(git rev-parse --short base))"
