#!/usr/bin/env python3
"""Write a deterministic data tree for the benchmarks.

    make_dataset.py SEED DIR [--shape mix|handheld|small|large] [--scale F] [--small-files N]

The same SEED, shape, F and N give the same tree, byte for byte and mtime for mtime, on any
machine with Python 3.9+. DIR must not exist or be empty. change_dataset.py applies one day of
use to a tree of the same shape.

--shape handheld, small and large are bench/shapes.py's (its doc describes them): a handheld's
~3,000 files in ~950 folders (~500 MiB), ~50,000 small files (~130 MiB), and 9 large media and
database files (~515 MiB). compare.sh, links.sh and serial.sh measure those three.

The default shape, mix (scale 1: about 3,000 files in about 150 folders, about 500 MB), is the
set Cradle's earlier figures were taken on (docs/BENCHMARKS.md):
  Logs/YYYY-MM-DD/*.log          text logs, 1-50 KiB (compressible)
  Exports/route-NNN/*.csv        CSV exports, 1-50 KiB (compressible)
  Config/, Forms/*.xml           XML documents, 1-50 KiB (compressible)
  Settings/*.ini, *.json         tiny settings files
  Databases/*.db                 SQLite-like files of 4 KiB pages, 1-20 MiB (about 3x compressible)
  Databases/Backup/*.db.bak      exact copies of some databases (duplicated data)
  DCIM/1NNMEDIA/*.jpg            JPEG-like incompressible photos, 50-700 KiB
  Video/*.mp4                    video-like incompressible files (100 MiB and 30 MiB)
--scale F multiplies the file counts and the largest sizes (0.1 gives about 50 MB), for every shape.
--small-files N writes N small text files (0.5-8 KiB) in folders of 100 instead of the mix.
"""
import argparse
import math
import os
import random
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the repository
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import shapes  # noqa: E402

KIB = 1024
MIB = 1024 * 1024
BASE_TIME = 1704067200  # 2024-01-01T00:00:00Z: every mtime is BASE_TIME + a seeded offset
YEAR = 365 * 86400

COMPONENTS = ["scanner", "wlan", "battery", "sync", "ui", "printer", "gps", "keypad", "db", "app.route"]
LEVELS = ["INFO"] * 8 + ["DEBUG"] * 4 + ["WARN"] * 2 + ["ERROR"]
MESSAGES = [
    "scanned barcode {b} qty {q} at bin {l}",
    "signal strength {n} dBm on channel {c}",
    "battery at {p}% ({v} mV, {t} C)",
    "uploaded batch {b} with {q} records in {n} ms",
    "screen {l} opened by operator {o}",
    "label printed for order {b}, {q} copies",
    "position fix {f} sats, hdop {h}",
    "key {c} pressed {q} times",
    "query on table picks returned {q} rows in {n} ms",
    "route {l} stop {q} confirmed by operator {o}",
]
WORDS = ("pallet carton tote shelf aisle dock bay order pick pack ship receive count move "
         "damaged returned hold released priority standard express north south east west").split()


def log_uniform(rng, lo, hi):
    return int(math.exp(rng.uniform(math.log(lo), math.log(hi))))


def fmt_time(t):
    # a cheap, deterministic timestamp without the time module's locale or zone
    days, rem = divmod(int(t), 86400)
    h, rem = divmod(rem, 3600)
    m, s = divmod(rem, 60)
    return f"2024-{1 + (days // 28) % 12:02d}-{1 + days % 28:02d}T{h:02d}:{m:02d}:{s:02d}"


def log_text(rng, size, start):
    parts, n, t = [], 0, start
    while n < size:
        t += rng.randint(0, 40)
        msg = rng.choice(MESSAGES).format(
            b=f"{rng.randint(0, 10**12):012d}", q=rng.randint(1, 99), l=f"{rng.choice('ABCDEFGH')}{rng.randint(1, 40):02d}",
            n=rng.randint(-95, 900), c=rng.randint(1, 13), p=rng.randint(3, 100), v=rng.randint(3300, 4200),
            t=rng.randint(-20, 45), o=f"op{rng.randint(1, 60):03d}", f=rng.randint(3, 14), h=f"{rng.uniform(0.5, 9):.1f}")
        line = f"{fmt_time(t)} {rng.choice(LEVELS):5} [{rng.choice(COMPONENTS)}] {msg}\n"
        parts.append(line)
        n += len(line)
    return "".join(parts).encode()[:size]


def csv_text(rng, size):
    parts = ["order,line,sku,barcode,qty,bin,operator,status,weight_kg\n"]
    n, row = len(parts[0]), 0
    while n < size:
        row += 1
        line = (f"{rng.randint(100000, 999999)},{row},SKU-{rng.randint(1, 40000):05d},{rng.randint(0, 10**13):013d},"
                f"{rng.randint(1, 250)},{rng.choice('ABCDEFGH')}{rng.randint(1, 40):02d}-{rng.randint(1, 9)},"
                f"op{rng.randint(1, 60):03d},{rng.choice(WORDS)},{rng.uniform(0.1, 40):.2f}\n")
        parts.append(line)
        n += len(line)
    return "".join(parts).encode()[:size]


def xml_text(rng, size):
    parts = ['<?xml version="1.0" encoding="utf-8"?>\n<form xmlns="urn:cradle:bench:form">\n']
    n = len(parts[0])
    while n < size:
        item = (f'  <field id="f{rng.randint(1, 9999)}" type="{rng.choice(["text", "number", "barcode", "choice", "signature"])}"'
                f' required="{rng.choice(["true", "false"])}">\n'
                f'    <label>{" ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 4)))}</label>\n'
                f'    <value>{rng.randint(0, 10**9)}</value>\n  </field>\n')
        parts.append(item)
        n += len(item)
    parts.append("</form>\n")
    return "".join(parts).encode()


def small_text(rng, size, kind):
    if kind == 0:
        return log_text(rng, size, rng.randrange(YEAR))
    return csv_text(rng, size) if kind == 1 else xml_text(rng, size)


def db_pages(rng, size):
    """An SQLite-like file: a header page, then 4 KiB pages of binary fields, record text and free space."""
    pages = max(1, size // (4 * KIB))
    pool = csv_text(rng, 1 * MIB).split(b"\n")[1:-1]  # record payloads; each page draws its own rows
    out = bytearray()
    header = bytearray(4 * KIB)
    header[0:16] = b"SQLite format 3\x00"
    header[16:18] = (4096).to_bytes(2, "big")
    header[28:32] = pages.to_bytes(4, "big")
    out += header
    rowid = 0
    for p in range(2, pages + 1):
        page = bytearray(4 * KIB)
        page[0] = 0x0D  # table leaf
        page[1:5] = p.to_bytes(4, "big")
        page[8:808] = rng.randbytes(800)  # cell pointers, integer columns, overflow pointers
        rows = []
        n = 0
        fill = rng.randint(1600, 2700)
        while n < fill:
            rowid += 1
            row = b"%d|%s" % (rowid, rng.choice(pool))
            rows.append(row)
            n += len(row) + 1
        text = b"\n".join(rows)[:fill]
        page[808:808 + len(text)] = text
        out += page  # the rest: free space (zeros)
    return bytes(out)


def jpeg_like(rng, size):
    head = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    return head + rng.randbytes(max(0, size - len(head) - 2)) + b"\xff\xd9"


def video_like(rng, size):
    head = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"
    return head + rng.randbytes(max(0, size - len(head)))


class Writer:
    def __init__(self, root, seed):
        self.root, self.seed = root, seed
        self.files = 0
        self.bytes = 0
        self.kinds = {}

    def rng(self, rel):
        return random.Random(f"{self.seed}:{rel}")

    def write(self, rel, data, kind, mtime=None):
        path = os.path.join(self.root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        t = BASE_TIME + self.rng(rel + ":mtime").randrange(YEAR) if mtime is None else int(mtime)
        os.utime(path, (t, t))
        self.files += 1
        self.bytes += len(data)
        k = self.kinds.setdefault(kind, [0, 0])
        k[0] += 1
        k[1] += len(data)


def mix(w, scale):
    def count(n, least):
        return max(least, int(round(n * scale)))

    rng = random.Random(f"{w.seed}:plan")
    n_logs = count(1500, 20)
    for i in range(n_logs):
        day = i // 25
        rel = f"Logs/2024-{1 + (day // 28) % 12:02d}-{1 + day % 28:02d}/{rng.choice(COMPONENTS)}-{i:05d}.log"
        r = w.rng(rel)
        w.write(rel, log_text(r, log_uniform(r, 1 * KIB, 50 * KIB), r.randrange(YEAR)), "log")
    for i in range(count(600, 10)):
        rel = f"Exports/route-{i // 20:03d}/export-{i:05d}.csv"
        r = w.rng(rel)
        w.write(rel, csv_text(r, log_uniform(r, 1 * KIB, 50 * KIB)), "csv")
    for i in range(count(400, 10)):
        rel = f"{'Forms' if i % 3 else 'Config'}/set-{i // 25:02d}/doc-{i:05d}.xml"
        r = w.rng(rel)
        w.write(rel, xml_text(r, log_uniform(r, 1 * KIB, 50 * KIB)), "xml")
    for i in range(count(180, 8)):
        ext = "ini" if i % 2 else "json"
        rel = f"Settings/app-{i // 30:02d}/setting-{i:04d}.{ext}"
        r = w.rng(rel)
        body = "".join(f"{r.choice(WORDS)}_{k} = {r.randint(0, 9999)}\n" for k in range(r.randint(5, 150)))
        w.write(rel, body.encode(), "settings")
    n_db = count(16, 4)
    db_max = max(4, int(20 * scale)) * MIB
    dbs = []
    for i in range(n_db):
        rel = f"Databases/{['picks', 'orders', 'inventory', 'routes', 'customers', 'audit'][i % 6]}-{i:02d}.db"
        r = w.rng(rel)
        data = db_pages(r, r.randint(1 * MIB, db_max) // (4 * KIB) * 4 * KIB)
        w.write(rel, data, "db")
        dbs.append((rel, data))
    for rel, data in rng.sample(dbs, count(5, 2)):
        w.write("Databases/Backup/" + os.path.basename(rel) + ".bak", data, "db.bak")
    for i in range(count(300, 20)):
        rel = f"DCIM/{100 + i // 50}MEDIA/IMG_{i:05d}.jpg"
        r = w.rng(rel)
        w.write(rel, jpeg_like(r, r.randint(50 * KIB, 700 * KIB)), "jpg")
    for i, mib in enumerate((100, 30)):
        rel = f"Video/VID_{i:04d}.mp4"
        w.write(rel, video_like(w.rng(rel), max(1 * MIB, int(mib * MIB * scale))), "video")


def small_files(w, n):
    for i in range(n):
        rel = f"Small/d{i // 10000:02d}/d{(i // 100) % 100:02d}/f{i:06d}.{('log', 'csv', 'xml')[i % 3]}"
        r = w.rng(rel)
        w.write(rel, small_text(r, log_uniform(r, 512, 8 * KIB), i % 3), "small")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("seed", type=int)
    ap.add_argument("dir")
    ap.add_argument("--shape", choices=["mix"] + sorted(shapes.SHAPES), default="mix", help="which kind of tree (default mix)")
    ap.add_argument("--scale", type=float, default=1.0, help="multiply file counts and largest sizes (default 1)")
    ap.add_argument("--small-files", type=int, default=0, metavar="N", help="write N small files instead of the mix")
    a = ap.parse_args()
    if os.path.exists(a.dir) and os.listdir(a.dir):
        sys.exit(f"make_dataset: {a.dir} exists and is not empty")
    os.makedirs(a.dir, exist_ok=True)
    w = Writer(a.dir, a.seed)
    if a.small_files > 0:
        if a.shape != "mix":
            sys.exit("make_dataset: --small-files is a variant of the mix; it takes no --shape")
        small_files(w, a.small_files)
    elif a.shape == "mix":
        mix(w, a.scale)
    else:
        shapes.SHAPES[a.shape](w, a.scale)
    folders = sum(len(ds) for _, ds, _ in os.walk(a.dir))
    for kind, (n, b) in sorted(w.kinds.items()):
        print(f"  {kind:9} {n:7d} files {b / MIB:9.1f} MiB")
    print(f"  total     {w.files:7d} files {w.bytes / MIB:9.1f} MiB ({w.bytes} bytes) in {folders} folders")


if __name__ == "__main__":
    main()
