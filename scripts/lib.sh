# SPDX-License-Identifier: GPL-2.0
# Shared settings for the lguest scripts; source it, don't run it.

set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BASE_PKG=linux-source-6.12
BASE_VERSION=${LGUEST_BASE_VERSION:-6.12.117-1~deb12u1}
CACHE=${LGUEST_CACHE:-$HOME/.cache/lguest}
BASE_REPO=$CACHE/base		# pristine kernel tree as a git repo
TREE=${LGUEST_TREE:-$CACHE/linux}	# base + patches/ applied with git am
OUT=${LGUEST_OUT:-$CACHE/build}	# O= build directory, reused between runs
TOOLS_OUT=${LGUEST_TOOLS_OUT:-$CACHE/tools}	# launcher, selftests, helpers (i386, static)
JOBS=${JOBS:-$(($(nproc) + 1))}

# Fixed identity and date so that generated commits (and so patches/) are
# byte-for-byte reproducible.
export GIT_AUTHOR_NAME="lguest developers"
export GIT_AUTHOR_EMAIL="lguest@lists.example.org"
export GIT_COMMITTER_NAME="$GIT_AUTHOR_NAME"
export GIT_COMMITTER_EMAIL="$GIT_AUTHOR_EMAIL"
export GIT_AUTHOR_DATE="2026-11-28T00:00:00+0000"
export GIT_COMMITTER_DATE="$GIT_AUTHOR_DATE"

log() { printf '>>> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Time a step and record it, so CI logs show where the minutes go.
step() {
	local name=$1 t0=$SECONDS
	shift
	log "$name"
	"$@"
	log "$name: $((SECONDS - t0)) s"
}
