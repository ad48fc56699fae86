#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Remake a staged diff after the final versions of its files changed.

A staged diff (e.g. drivers-lguest/staged/run-guests.diff) takes the first
version of some files, which an earlier patch adds, to their final version,
which is what the repository holds.  When a final file is edited, the diff
no longer applies.  Given a git revision at which the diff still matched
the repository, this rebuilds the first versions from that revision, and
writes the diff from them to today's files:

    scripts/restage.py drivers-lguest/staged/run-guests.diff REV

Repository paths of kernel files come from the "add" lines of series/*.spec.
"""
import glob
import os
import subprocess
import sys
import tempfile

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def git(*args, cwd=TOP, **kw):
    return subprocess.run(["git", *args], cwd=cwd, check=True,
                          capture_output=True, **kw).stdout


def repo_paths():
    """Kernel path -> repository path, from the specs' add lines."""
    paths = {}
    for spec in sorted(glob.glob(os.path.join(TOP, "series", "*.spec"))):
        body = open(spec).read().split("\n---\n", 1)[1]
        for line in body.splitlines():
            words = line.split()
            if len(words) == 3 and words[0] == "add":
                paths[words[2]] = words[1]
    return paths


def diff_files(diff):
    return [line.split()[3][2:] for line in open(diff)
            if line.startswith("diff --git ")]


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    diff, rev = os.path.abspath(sys.argv[1]), sys.argv[2]
    paths = repo_paths()
    files = diff_files(diff)
    missing = [f for f in files if f not in paths]
    if missing:
        sys.exit("no add line for: " + " ".join(missing))
    with tempfile.TemporaryDirectory() as tmp:
        git("init", "-q", cwd=tmp)
        for f in files:
            os.makedirs(os.path.join(tmp, os.path.dirname(f)), exist_ok=True)
            with open(os.path.join(tmp, f), "wb") as out:
                out.write(git("show", f"{rev}:{paths[f]}"))
        git("apply", "-R", diff, cwd=tmp)
        git("add", "-A", cwd=tmp)
        for f in files:
            with open(os.path.join(tmp, f), "wb") as out:
                out.write(open(os.path.join(TOP, paths[f]), "rb").read())
        new = git("diff", "--no-prefix", "--src-prefix=a/",
                  "--dst-prefix=b/", cwd=tmp)
    with open(diff, "wb") as out:
        out.write(new)


if __name__ == "__main__":
    main()
