#!/usr/bin/env python3
"""Apply one deterministic "day of use" to a tree written by make_dataset.py.

    change_dataset.py SEED DIR [--shape mix|handheld|small|large]

--shape names the shape the tree was made with (default mix); handheld, small and large get
bench/shapes.py's changes:
  handheld  appends to 5% of the logs, adds 16 logs in a new day folder, rewrites scattered 4 KiB
            pages and the header page (its change counter) of 5 databases, two of them growing by
            16 pages, adds up to 12 photos, deletes 10 files, renames 5 leaf folders, adds 20 exports
  small     rewrites 1% of the JSON records, adds 0.8% new ones and a few signatures in a new day
            folder, deletes 50 files, renames 3 leaf folders
  large     rewrites scattered pages (1 in 150) and the header page of each database, grows the
            largest by 2%, appends 2% to the audit log, adds a video of 1/12 of the others' size
The mix's change: appends lines to 5% of the *.log files, rewrites three 4 KiB pages in the middle of three
*.db files (same size, new mtime), deletes 10 files, renames 5 leaf folders and adds 20
files. Every changed or added file gets a fixed mtime, so the result depends only on SEED
and the tree. Apply it once: a second run changes the tree again.
"""
import os
import random
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the repository
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import shapes  # noqa: E402
from make_dataset import BASE_TIME, KIB, YEAR, csv_text, log_text  # noqa: E402

CHANGE_TIME = BASE_TIME + YEAR + 86400  # 2025-01-02: newer than every generated mtime


def main():
    args = sys.argv[1:]
    shape = "mix"
    if len(args) == 4 and args[2] == "--shape" and args[3] in ["mix"] + sorted(shapes.SHAPES):
        shape = args[3]
        args = args[:2]
    if len(args) != 2 or not args[0].lstrip("-").isdigit():
        sys.exit(__doc__)
    seed, root = int(args[0]), args[1]
    if shape != "mix":
        print("  " + shapes.CHANGES[shape](shapes.Change(seed, root, shape)))
        return
    rng = random.Random(f"{seed}:change")
    files = sorted(os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root) for f in fs)
    stamp = [CHANGE_TIME]

    def touch(rel):
        stamp[0] += 7
        os.utime(os.path.join(root, rel), (stamp[0], stamp[0]))

    touched = set()
    logs = [f for f in files if f.endswith(".log")]
    appended = rng.sample(logs, max(1, round(len(logs) * 0.05))) if logs else []
    for rel in appended:
        with open(os.path.join(root, rel), "ab") as f:
            f.write(log_text(rng, rng.randint(200, 8 * KIB), YEAR))
        touch(rel)
        touched.add(rel)

    dbs = [f for f in files if f.endswith(".db")]
    pages_rewritten = 0
    for rel in rng.sample(dbs, min(3, len(dbs))):
        path = os.path.join(root, rel)
        pages = os.path.getsize(path) // (4 * KIB)
        with open(path, "r+b") as f:
            for p in sorted(rng.sample(range(pages // 3, max(pages // 3 + 3, 2 * pages // 3)), 3)):
                if p >= pages:
                    continue
                f.seek(p * 4 * KIB)
                f.write(bytes([0x0D]) + (p + 1).to_bytes(4, "big") + rng.randbytes(4 * KIB - 5))
                pages_rewritten += 1
        touch(rel)
        touched.add(rel)

    candidates = [f for f in files if f not in touched and not f.endswith((".db", ".bak"))]
    deleted = rng.sample(candidates, min(10, len(candidates)))
    for rel in deleted:
        os.remove(os.path.join(root, rel))

    leaves = sorted(os.path.relpath(d, root) for d, ds, fs in os.walk(root) if not ds and fs and d != root)
    leaves = [d for d in leaves if os.sep in d]  # not a top-level folder
    renamed = rng.sample(leaves, min(5, len(leaves)))
    for rel in renamed:
        os.rename(os.path.join(root, rel), os.path.join(root, rel + "-done"))

    added = []
    for i in range(20):
        rel = f"Inbox/2025-01-02/scan-{i:03d}.log" if i < 10 else f"Exports/route-new/export-{i:03d}.csv"
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(log_text(rng, rng.randint(KIB, 50 * KIB), YEAR) if i < 10 else csv_text(rng, rng.randint(KIB, 50 * KIB)))
        touch(rel)
        added.append(rel)

    print(f"  appended to {len(appended)} logs, rewrote {pages_rewritten} pages in {min(3, len(dbs))} databases, "
          f"deleted {len(deleted)} files, renamed {len(renamed)} folders ({', '.join(renamed)}), added {len(added)} files")


if __name__ == "__main__":
    main()
