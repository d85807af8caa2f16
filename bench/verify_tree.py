#!/usr/bin/env python3
"""Compare a restored tree with its source: the same folders (with the same mtime to the
second) and files, and for each file the same size, the same mtime to the second and the
same SHA-256 of the content.

    verify_tree.py SRC DST

Prints a one-line summary; exits 0 when the trees match, 1 (listing up to 20 differences)
when they do not, 2 on bad usage.
"""
import hashlib
import os
import sys


def walk(root):
    dirs, files = {}, {}
    for d, ds, fs in os.walk(root):
        rel = os.path.relpath(d, root)
        if rel != ".":
            dirs[rel] = int(os.lstat(d).st_mtime)
        for f in fs:
            p = os.path.join(d, f)
            st = os.lstat(p)
            files[os.path.normpath(os.path.join(rel, f))] = (p, st)
    return dirs, files


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(1 << 20)
            if not b:
                return h.hexdigest()
            h.update(b)


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    src, dst = sys.argv[1], sys.argv[2]
    if not os.path.isdir(dst):
        print(f"verify: {dst} is not a folder")
        return 1
    sdirs, sfiles = walk(src)
    ddirs, dfiles = walk(dst)
    problems = []
    problems += [f"folder missing: {d}" for d in sorted(sdirs.keys() - ddirs.keys())]
    problems += [f"extra folder: {d}" for d in sorted(ddirs.keys() - sdirs.keys())]
    problems += [f"folder mtime differs: {d}: {sdirs[d]} != {ddirs[d]}" for d in sorted(sdirs.keys() & ddirs.keys()) if sdirs[d] != ddirs[d]]
    problems += [f"file missing: {f}" for f in sorted(sfiles.keys() - dfiles.keys())]
    problems += [f"extra file: {f}" for f in sorted(dfiles.keys() - sfiles.keys())]
    total = 0
    for rel in sorted(sfiles.keys() & dfiles.keys()):
        (sp, ss), (dp, ds) = sfiles[rel], dfiles[rel]
        total += ss.st_size
        if not os.path.isfile(dp) or os.path.islink(dp):
            problems.append(f"not a regular file: {rel}")
        elif ss.st_size != ds.st_size:
            problems.append(f"size differs: {rel}: {ss.st_size} != {ds.st_size}")
        elif int(ss.st_mtime) != int(ds.st_mtime):
            problems.append(f"mtime differs: {rel}: {int(ss.st_mtime)} != {int(ds.st_mtime)}")
        elif sha256(sp) != sha256(dp):
            problems.append(f"content differs: {rel}")
    if problems:
        print(f"verify: {len(problems)} differences between {src} and {dst}")
        for p in problems[:20]:
            print("  " + p)
        return 1
    print(f"verify: {dst} matches {src}: {len(sfiles)} files, {len(sdirs)} folders, {total} bytes (sizes, mtimes, sha256)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
