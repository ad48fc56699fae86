#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Generate patches/ from the source folders and series/*.spec.

Each series/NNNN-name.spec describes one patch: the commit message, a line
"---", then one instruction per line:

    add SRC DST     copy the repo file SRC to DST in the kernel tree
    apply DIFF      apply the repo diff DIFF to the kernel tree
    unapply DIFF    apply DIFF in reverse: how a patch adds only the first
                    version of a file that a later patch ("apply DIFF")
                    grows; the repo keeps the final version
    maintainers SNIPPET PATTERN...
                    put the MAINTAINERS section in SNIPPET in its
                    alphabetical place, with the "F:" lines for PATTERN...
                    and those named by earlier patches

The patches are built as commits on top of the pristine base (tag "base"
in the cached base repository) with git plumbing and a private index, so
no work tree is touched, and exported with git format-patch.  Author and
dates are fixed (scripts/lib.sh), so the output is byte-for-byte
reproducible.

usage: gen-series.py [--check]
  --check   generate into a scratch folder and fail if patches/ differs
"""

import filecmp
import glob
import os
import subprocess
import sys
import tempfile

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# Fixed identity and dates, and no user configuration, for reproducibility.
FIXED = {
    "GIT_AUTHOR_NAME": "lguest developers",
    "GIT_AUTHOR_EMAIL": "lguest@lists.example.org",
    "GIT_AUTHOR_DATE": "2026-11-28T00:00:00+0000",
    "GIT_COMMITTER_NAME": "lguest developers",
    "GIT_COMMITTER_EMAIL": "lguest@lists.example.org",
    "GIT_COMMITTER_DATE": "2026-11-28T00:00:00+0000",
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git(repo, *args, env=None, data=None):
    env = dict(env or os.environ, **FIXED)
    return subprocess.run(["git", "-C", repo, *args], env=env, input=data,
                          check=True, capture_output=True,
                          text=True).stdout.strip()


def parse_spec(path):
    with open(path) as f:
        text = f.read()
    msg, sep, body = text.partition("\n---\n")
    if not sep:
        sys.exit(f"{path}: no '---' line between message and contents")
    steps = []
    for n, line in enumerate(body.splitlines(), 1):
        line = line.split("#", 1)[0].split()
        if not line:
            continue
        if line[0] == "add" and len(line) == 3:
            steps.append(("add", line[1], line[2]))
        elif line[0] in ("apply", "unapply") and len(line) == 2:
            steps.append((line[0], line[1]))
        elif line[0] == "maintainers" and len(line) >= 3:
            steps.append(("maintainers", line[1], line[2:]))
        else:
            sys.exit(f"{path}: bad instruction: {' '.join(line)}")
    return msg.strip() + "\n", steps


def add_file(repo, env, src, dst):
    path = os.path.join(TOP, src)
    if not os.path.isfile(path):
        sys.exit(f"missing source file {src}")
    mode = "100755" if os.access(path, os.X_OK) else "100644"
    sha = git(repo, "hash-object", "-w", path)
    git(repo, "update-index", "--add", "--cacheinfo",
        f"{mode},{sha},{dst}", env=env)


def apply_diff(repo, env, diff, reverse=False):
    with open(os.path.join(TOP, diff)) as f:
        try:
            git(repo, "apply", "--cached", "--whitespace=error-all",
                *(["--reverse"] if reverse else []), env=env,
                data=f.read())
        except subprocess.CalledProcessError as e:
            sys.exit(f"{diff}{' (reversed)' if reverse else ''} does not "
                     f"apply:\n{e.stderr}")


def add_maintainers(repo, env, snippet, patterns, enabled):
    """(Re)insert the MAINTAINERS section of SNIPPET, with the F: lines
    for PATTERNS added to those of earlier patches, so each patch lists
    the files it adds."""
    with open(os.path.join(TOP, snippet)) as f:
        lines = f.read().rstrip("\n").split("\n")
    for p in patterns:
        if "F:\t" + p not in lines:
            sys.exit(f"{snippet}: no line 'F:\t{p}'")
        enabled.add("F:\t" + p)
    section = [ln for ln in lines if not ln.startswith("F:\t") or ln in enabled]
    title = section[0].upper()
    text = git(repo, "show", ":MAINTAINERS", env=env).split("\n")
    if section[0] in text:  # drop the version of an earlier patch
        i = text.index(section[0])
        j = text.index("", i)
        del text[i:j + 1]
    start = text.index("Maintainers List")
    # A section heading is a line after a blank one, followed by "X:\t".
    for i in range(start, len(text) - 1):
        if (not text[i - 1] and text[i] and text[i + 1][1:3] == ":\t"
                and text[i].upper() > title):
            break
    else:
        sys.exit("MAINTAINERS: no place found for " + title)
    text[i:i] = section + [""]
    sha = git(repo, "hash-object", "-w", "--stdin", data="\n".join(text) + "\n")
    git(repo, "update-index", "--cacheinfo", f"100644,{sha},MAINTAINERS",
        env=env)


def check_maintained(spec, added, enabled):
    """Every file a patch adds must be covered by the MAINTAINERS entry as
    it stands after that patch.  This is what checkpatch's "does
    MAINTAINERS need updating?" asks, which check-series.sh therefore
    ignores for patches that add files under directories already listed."""
    for path in added:
        if not any(path == f[3:] or (f.endswith("/") and
                                     path.startswith(f[3:]))
                   for f in enabled):
            sys.exit(f"{os.path.basename(spec)}: {path} is in no "
                     "MAINTAINERS F: line")


# Every file in these folders must go into some patch, except the diffs
# (which are applied, not added) and editor or build leftovers.
SOURCE_DIRS = ("arch-x86-lguest", "drivers-lguest", "tools-lguest",
               "selftests", "Documentation")


def check_all_used(used):
    """Every file git tracks in the source folders goes into some patch."""
    tracked = subprocess.run(["git", "-C", TOP, "ls-files", *SOURCE_DIRS],
                             check=True, capture_output=True,
                             text=True).stdout.split()
    missing = [f for f in tracked if f not in used]
    if missing:
        sys.exit("files in no patch: " + " ".join(sorted(missing)))


def generate(repo, outdir):
    parent = git(repo, "rev-parse", "base^{commit}")
    specs = sorted(glob.glob(os.path.join(TOP, "series", "*.spec")))
    if not specs:
        sys.exit("no series/*.spec")

    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, GIT_INDEX_FILE=os.path.join(tmp, "index"))
        git(repo, "read-tree", parent, env=env)
        used, enabled = set(), set()
        for spec in specs:
            msg, steps = parse_spec(spec)
            added = [step[2] for step in steps if step[0] == "add"]
            for step in steps:
                used.add(step[1])
                if step[0] == "add":
                    add_file(repo, env, step[1], step[2])
                elif step[0] in ("apply", "unapply"):
                    apply_diff(repo, env, step[1], step[0] == "unapply")
                else:
                    add_maintainers(repo, env, step[1], step[2], enabled)
            check_maintained(spec, added, enabled)
            tree = git(repo, "write-tree", env=env)
            parent = git(repo, "commit-tree", tree, "-p", parent, data=msg)
        git(repo, "update-ref", "refs/lguest/series", parent)
    check_all_used(used)

    for old in glob.glob(os.path.join(outdir, "*.patch")):
        os.unlink(old)
    git(repo, "format-patch", "-q", "--no-signature", "--zero-commit",
        "--full-index", "-n", "-o", os.path.abspath(outdir),
        "base..refs/lguest/series")


def main():
    cache = os.environ.get("LGUEST_CACHE",
                           os.path.expanduser("~/.cache/lguest"))
    repo = os.path.join(cache, "base")
    patches = os.path.join(TOP, "patches")
    if sys.argv[1:] == ["--check"]:
        with tempfile.TemporaryDirectory() as tmp:
            generate(repo, tmp)
            new = sorted(os.listdir(tmp))
            old = sorted(f for f in os.listdir(patches)
                         if f.endswith(".patch"))
            _, diff, err = filecmp.cmpfiles(tmp, patches, new, shallow=False)
            if new != old or diff or err:
                sys.exit("patches/ is stale: run scripts/gen-series.py")
        print("patches/ is up to date")
    elif sys.argv[1:]:
        sys.exit(__doc__.split("\n\n")[-1])
    else:
        os.makedirs(patches, exist_ok=True)
        generate(repo, patches)


if __name__ == "__main__":
    main()
