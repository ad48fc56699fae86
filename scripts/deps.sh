#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Install the Debian packages the build, boot and checks need.
. "$(dirname "$0")/lib.sh"

PKGS=(build-essential gcc-multilib lib32z1-dev bc flex bison libelf-dev libssl-dev
      cpio xz-utils zstd kmod file rsync git ccache python3 perl e2fsprogs
      qemu-system-x86 sparse coccinelle ocaml-nox
      python3-ply python3-git)

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
log "installing: ${missing[*]}"
$SUDO apt-get update -q || log "apt-get update reported errors; trying anyway"
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
