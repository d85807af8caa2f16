"""Data-set shapes for bench/: what handhelds keep, drawn from a seed (make_dataset.py writes them,
change_dataset.py applies one day of use to them). Not a program; imported by those two.

Three shapes, none of them the "mix" Cradle was first tuned on:
  handheld  ~3,000 files in ~950 folders, ~500 MiB at scale 1: per-app logs in day folders (three
            log formats), SQLite-like databases of 4 KiB b-tree pages, camera photos, CSV and XML
            exports, app caches and settings
  small     ~50,000 files of 0.3-12 KiB in ~1,150 folders, ~130 MiB: queued JSON records, XML
            forms, signature images (incompressible), short logs
  large     9 files, ~515 MiB: two videos, a map package (a database of image tiles), three large
            databases, an audit log, a firmware image, a PDF manual
--scale F multiplies the file counts and the sizes of the large files (databases, videos).

Every byte and every mtime comes from random.Random seeded with a string naming the seed and the
file, so a tree depends only on (shape, seed, scale) and Python 3.9+.
"""
import os
import random
import struct

KIB = 1024
MIB = 1024 * 1024
PAGE = 4096
BASE_TIME = 1735689600  # 2025-01-01T00:00:00Z
DAY = 86400
CHANGE_TIME = BASE_TIME + 200 * DAY  # newer than every generated mtime

APPS = ["inventory", "picking", "routes", "pod", "timeclock", "scanner", "printer", "mdm", "mail", "forms",
        "maps", "telematics", "camera", "launcher", "keyboard", "updater", "vpn", "wifi", "bluetooth",
        "payments", "returns", "audit", "chat", "browser"]
DB_APPS = ["inventory", "picking", "routes", "pod", "timeclock", "mail", "forms", "maps", "telematics",
           "payments", "returns", "audit"]
WORDS = ("pallet carton tote shelf aisle dock bay order pick pack ship receive count move damaged returned "
         "hold released priority standard express north south east west signed refused partial complete "
         "driver depot customer invoice credit cash card voucher").split()
STATUSES = [b"open", b"picked", b"packed", b"loaded", b"delivered", b"refused", b"returned", b"cancelled"]
TAGS = ["I", "I", "I", "I", "D", "D", "W", "E", "V"]
CLASSES = ["ScanService", "SyncAdapter", "RouteManager", "PrinterBridge", "DbHelper", "LocationClient",
           "UploadWorker", "FormRenderer", "BatteryMonitor", "WifiWatchdog", "PushReceiver", "AuthSession"]
EVENTS = ["scan", "upload", "stop_confirmed", "label_printed", "sync_start", "sync_end", "gps_fix",
          "battery", "form_saved", "login", "logout", "retry", "heartbeat"]


def fmt_ts(t, ms):
    days, rem = divmod(int(t) - BASE_TIME, DAY)
    h, rem = divmod(rem, 3600)
    m, s = divmod(rem, 60)
    month, day = divmod(days, 30)
    return f"2025-{1 + month % 12:02d}-{1 + day:02d} {h:02d}:{m:02d}:{s:02d}.{ms:03d}"


def app_log(rng, size, t, app, style):
    """Log text of about `size` bytes in one of three formats (an app keeps to one)."""
    parts, n = [], 0
    pid = rng.randint(800, 32000)
    while n < size:
        t += rng.random() * 20
        bits = rng.getrandbits(64)
        ms = bits % 1000
        if style == 0:  # classic: time, level, tag, message
            line = (f"{fmt_ts(t, ms)} {TAGS[(bits >> 10) % 9]}/{CLASSES[(bits >> 14) % 12]}({pid:5d}): "
                    f"{EVENTS[(bits >> 18) % 13]} {WORDS[(bits >> 22) % 36]} {(bits >> 28) % 100000} "
                    f"in {(bits >> 45) % 900} ms\n")
        elif style == 1:  # JSON lines
            line = (f'{{"ts":"{fmt_ts(t, ms)}","lvl":"{TAGS[(bits >> 10) % 9]}","app":"{app}",'
                    f'"evt":"{EVENTS[(bits >> 18) % 13]}","route":"R-{(bits >> 22) % 300:03d}",'
                    f'"stop":{(bits >> 31) % 60},"lat":{52 + ((bits >> 37) % 100000) / 1e5:.5f},'
                    f'"lon":{4 + ((bits >> 20) % 100000) / 1e5:.5f},"ok":{"true" if bits & 1 else "false"}}}\n')
        else:  # logcat
            line = (f"{fmt_ts(t, ms)[5:]} {pid:5d} {pid + (bits >> 50) % 40:5d} {TAGS[(bits >> 10) % 9]} "
                    f"{CLASSES[(bits >> 14) % 12]}: {WORDS[(bits >> 22) % 36]} id={(bits >> 28):x}\n")
        parts.append(line)
        n += len(line)
    return "".join(parts).encode()[:size]


def csv_export(rng, size, kind):
    header = ["order,line,sku,ean,qty,bin,driver,status,kg,signed_at\n",
              "stop,route,customer,street,postcode,arrived,left,pieces,status,note\n",
              "count_id,location,sku,expected,counted,diff,operator,ts\n"][kind]
    parts, n, row = [header], len(header), 0
    while n < size:
        row += 1
        b = rng.getrandbits(64)
        if kind == 0:
            line = (f"{b % 900000 + 100000},{row},SKU-{(b >> 20) % 40000:05d},{(b >> 10) % 10**13:013d},{(b >> 40) % 250},"
                    f"{'ABCDEFGH'[(b >> 48) % 8]}{(b >> 51) % 40:02d},drv{(b >> 57) % 60:03d},"
                    f"{STATUSES[(b >> 3) % 8].decode()},{((b >> 30) % 4000) / 100:.2f},{BASE_TIME + (b % 15000000)}\n")
        elif kind == 1:
            line = (f"{row},R-{(b >> 5) % 300:03d},C{(b >> 15) % 90000:05d},{WORDS[(b >> 32) % 36].title()} "
                    f"{(b >> 38) % 200}, {1000 + (b >> 46) % 9000}AB,{BASE_TIME + b % 9000000},"
                    f"{BASE_TIME + b % 9000000 + (b >> 20) % 900},{(b >> 8) % 30},{STATUSES[(b >> 3) % 8].decode()},"
                    f"{WORDS[(b >> 26) % 36] if b & 3 else ''}\n")
        else:
            line = (f"{b % 10**6},{'ABCDEFGH'[(b >> 48) % 8]}{(b >> 51) % 40:02d}-{(b >> 7) % 9},SKU-{(b >> 20) % 40000:05d},"
                    f"{(b >> 40) % 500},{(b >> 40) % 500 - (b >> 61)},{-(b >> 61)},op{(b >> 30) % 60:03d},{BASE_TIME + b % 9000000}\n")
        parts.append(line)
        n += len(line)
    return "".join(parts).encode()[:size]


def xml_form(rng, size):
    parts = ['<?xml version="1.0" encoding="utf-8"?>\n<form xmlns="urn:example:handheld:form" version="3">\n']
    n = len(parts[0])
    while n < size:
        b = rng.getrandbits(64)
        item = (f'  <field name="{WORDS[b % 36]}_{(b >> 6) % 200}" type="{["text", "number", "barcode", "choice", "photo", "signature"][(b >> 14) % 6]}">'
                f'<value>{(b >> 20) % 10**9}</value><by>op{(b >> 50) % 60:03d}</by></field>\n')
        parts.append(item)
        n += len(item)
    parts.append("</form>\n")
    return "".join(parts).encode()


def json_record(rng, size, n):
    parts = [f'{{"id":"{rng.getrandbits(64):016x}","seq":{n},"items":[']
    total = len(parts[0])
    while total < size:
        b = rng.getrandbits(64)
        item = (f'{{"sku":"SKU-{b % 40000:05d}","qty":{(b >> 16) % 50},"bin":"{"ABCDEFGH"[(b >> 24) % 8]}{(b >> 27) % 40:02d}",'
                f'"status":"{STATUSES[(b >> 33) % 8].decode()}","ts":{BASE_TIME + (b >> 36) % 15000000}}},')
        parts.append(item)
        total += len(item)
    return ("".join(parts).rstrip(",") + "]}\n").encode()


def jpeg_like(rng, size, when):
    """A photo: SOI, an EXIF segment with text, fixed tables, then entropy-coded (incompressible) data."""
    exif = (f"Exif\x00\x00Make=Zebra\x00Model=TC{rng.randint(21, 78)}\x00DateTime={fmt_ts(when, 0)}\x00"
            f"GPS={52 + rng.random():.6f},{4 + rng.random():.6f}\x00Software=Camera 11.2\x00").encode()
    exif = exif + bytes(max(0, 512 - len(exif)))
    head = b"\xff\xd8\xff\xe1" + struct.pack(">H", len(exif) + 2) + exif + JPEG_TABLES
    return head + rng.randbytes(max(0, size - len(head) - 2)) + b"\xff\xd9"


JPEG_TABLES = (b"\xff\xdb\x00\x43\x00" + bytes(range(1, 65)) + b"\xff\xc0\x00\x11\x08\x0b\x40\x0f\x00\x03\x01\x22\x00\x02\x11\x01\x03\x11\x01"
               + b"\xff\xc4\x00\x1f\x00" + bytes([0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0]) + bytes(range(12))
               + b"\xff\xda\x00\x0c\x03\x01\x00\x02\x11\x03\x11\x00\x3f\x00")


def media_like(rng, size, magic):
    return magic + rng.randbytes(max(0, size - len(magic)))


def varint(v):
    if v < 0x80:
        return bytes([v])
    if v < 0x4000:
        return bytes([0x80 | (v >> 7), v & 0x7F])
    return bytes([0x80 | (v >> 14), 0x80 | ((v >> 7) & 0x7F), v & 0x7F])


class SqliteLike:
    """Pages of an SQLite-like file (4 KiB): table and index b-tree leaves with records written from
    the end of the page down, interior pages, overflow pages of blobs, free pages. A page is drawn from
    its own seed, so rewriting one (a change) leaves the others byte for byte."""

    def __init__(self, name, seed, blob_share=0.0):
        self.name, self.seed, self.blob_share = name, seed, blob_share

    def header_page(self, pages, counter):
        page = bytearray(PAGE)
        page[0:16] = b"SQLite format 3\x00"
        page[16:18] = struct.pack(">H", PAGE)
        page[18:24] = bytes([1, 1, 0, 64, 32, 32])
        page[24:28] = struct.pack(">I", counter)
        page[28:32] = struct.pack(">I", pages)
        page[44:48] = struct.pack(">I", 4)
        page[56:60] = struct.pack(">I", 1)
        page[92:100] = struct.pack(">II", counter, 3045000)
        page[100] = 0x0D
        sql = (f"CREATE TABLE {self.name}(id INTEGER PRIMARY KEY, sku TEXT, qty INTEGER, ts INTEGER, status TEXT, "
               f"who TEXT, kg REAL, note TEXT);CREATE INDEX {self.name}_ts ON {self.name}(ts);").encode()
        page[PAGE - len(sql):] = sql
        return bytes(page)

    def page(self, p, version=0):
        rng = random.Random(f"{self.seed}:{self.name}:{p}:{version}")
        kind = rng.random()
        page = bytearray(PAGE)
        if kind < self.blob_share:  # overflow page: next pointer, then blob bytes (a tile, a photo)
            page[0:4] = struct.pack(">I", p + 1)
            page[4:] = rng.randbytes(PAGE - 4)
            return bytes(page)
        if kind < self.blob_share + 0.02:
            return bytes(page)  # a free page
        interior = kind > 0.97
        index = not interior and kind > 0.78
        page[0] = 0x05 if interior else (0x0A if index else 0x0D)
        top = PAGE
        pointers = []
        fill = int(PAGE * rng.uniform(0.55, 0.95))
        rowid = p * 40
        while PAGE - top < fill:
            rowid += 1 + rng.getrandbits(2)
            b = rng.getrandbits(64)
            if interior:
                cell = struct.pack(">I", (b % 100000) + 2) + varint(rowid & 0x1FFFFF)
            elif index:
                cell = varint(18) + bytes([4, 0x1F, 4]) + struct.pack(">IQ", BASE_TIME + b % 9000000, rowid)[:-1] + b"SKU"
            else:
                who = WORDS[(b >> 40) % 36].encode()
                note = WORDS[(b >> 46) % 36].encode() if b & 1 else b""
                sku = b"SKU-%05d" % ((b >> 8) % 40000)
                status = STATUSES[(b >> 3) % 8]
                rec = (bytes([8, 0, 13 + 2 * len(sku), 1, 4, 13 + 2 * len(status), 13 + 2 * len(who), 7, 13 + 2 * len(note)])
                       + sku + bytes([(b >> 24) % 250]) + struct.pack(">I", BASE_TIME + (b >> 20) % 9000000)
                       + status + who + struct.pack(">d", ((b >> 30) % 4000) / 100) + note)
                cell = varint(len(rec)) + varint(rowid & 0x1FFFFF) + rec
            if top - len(cell) < 8 + 2 * (len(pointers) + 1) + 12:
                break
            top -= len(cell)
            page[top:top + len(cell)] = cell
            pointers.append(top)
        page[1:8] = struct.pack(">HHHB", 0, len(pointers), top, 0)
        for i, ptr in enumerate(pointers):
            page[8 + 2 * i:10 + 2 * i] = struct.pack(">H", ptr)
        gap_start = 8 + 2 * len(pointers)
        if rng.random() < 0.3 and top - gap_start > 64:  # stale bytes of deleted rows in the free space
            stale = page[top:min(PAGE, top + (top - gap_start) // 2)]
            page[gap_start:gap_start + len(stale)] = stale
        return bytes(page)

    def build(self, pages, counter=1):
        return b"".join([self.header_page(pages, counter)] + [self.page(p) for p in range(2, pages + 1)])


def db_pages_for(size):
    return max(4, size // PAGE)


def when(w, rel, start, span):
    return start + w.rng(rel + ":when").randrange(span)


# ---------------------------------------------------------------- the shapes

def _root(scale):
    return max(0.0, scale) ** 0.5


def make_handheld(w, scale):
    """~3,000 files in ~950 folders, ~500 MiB at scale 1 (see the module's doc)."""
    r = _root(scale)
    plan = random.Random(f"{w.seed}:handheld:plan")
    apps = APPS[:max(2, min(len(APPS), round(len(APPS) * r)))]
    days = max(1, round(25 * r))
    for a, app in enumerate(apps):
        style = a % 3
        for d in range(days):
            day = 1 + (a * 7 + d * 5) % 180
            folder = f"Apps/{app}/logs/2025/{1 + day // 30:02d}-{1 + day % 30:02d}"
            for k in range(plan.randint(1, 3)):
                rel = f"{folder}/{app}-{d:03d}-{k}.log"
                rng = w.rng(rel)
                t = BASE_TIME + day * DAY + rng.randrange(DAY // 2)
                w.write(rel, app_log(rng, log_uniform(rng, 1 * KIB, 80 * KIB), t, app, style), "log", t + DAY // 2)
        for k in range(max(1, round(10 * r))):
            rel = f"Apps/{app}/cache/{w.rng(app + str(k)).getrandbits(40):010x}.bin"
            rng = w.rng(rel)
            w.write(rel, media_like(rng, log_uniform(rng, 4 * KIB, 48 * KIB), b"RIFF\x00\x00\x00\x00WEBPVP8 "), "cache",
                    when(w, rel, BASE_TIME, 180 * DAY))
        for k in range(max(1, round(5 * r))):
            ext = ("xml", "json", "ini")[k % 3]
            rel = f"Apps/{app}/config/settings-{k}.{ext}"
            rng = w.rng(rel)
            body = "".join(f"{rng.choice(WORDS)}.{app}.{i} = {rng.randint(0, 99999)}\n" for i in range(rng.randint(10, 150)))
            w.write(rel, body.encode(), "config", when(w, rel, BASE_TIME, 180 * DAY))
    db_apps = [a for a in apps if a in DB_APPS] or apps[:1]
    # Sizes spread 1:28 but always 300 MiB in all (at scale 1), whatever the seed draws.
    sizes = [log_uniform(plan, 2, 56) for _ in range(max(1, round(16 * r)))]
    for i, share in enumerate(sizes):
        app = db_apps[i % len(db_apps)]
        name = f"{app}{'' if i < len(db_apps) else '_archive'}"
        rel = f"Apps/{app}/db/{name}.db"
        rng = w.rng(rel)
        size = max(16 * KIB, int(300 * MIB * scale * share / sum(sizes)))
        db = SqliteLike(name.replace("-", "_"), f"{w.seed}:{rel}")
        w.write(rel, db.build(max(4, size // PAGE), counter=rng.randint(10, 5000)), "sqlite", when(w, rel, BASE_TIME + 150 * DAY, 30 * DAY))
    for d in range(max(1, round(60 * r))):
        day = (d * 3) % 180
        folder = f"DCIM/Camera/2025{1 + day // 30:02d}{1 + day % 30:02d}"
        for k in range(max(1, round(7 * r))):
            rel = f"{folder}/IMG_{d:03d}{k:02d}.jpg"
            rng = w.rng(rel)
            t = BASE_TIME + day * DAY + rng.randrange(DAY)
            w.write(rel, jpeg_like(rng, log_uniform(rng, 120 * KIB, 900 * KIB), t), "jpg", t)
    for route in range(max(1, round(120 * r))):
        for k in range(max(1, round(5 * r))):
            rel = f"Documents/Exports/R-{route:03d}/export-{k:02d}.csv"
            rng = w.rng(rel)
            w.write(rel, csv_export(rng, log_uniform(rng, 1 * KIB, 120 * KIB), (route + k) % 3), "csv", when(w, rel, BASE_TIME, 180 * DAY))
    for form in range(max(1, round(30 * r))):
        for k in range(max(1, round(14 * r))):
            rel = f"Documents/Forms/{WORDS[form % len(WORDS)]}-{form:02d}/form-{k:03d}.xml"
            rng = w.rng(rel)
            w.write(rel, xml_form(rng, log_uniform(rng, 2 * KIB, 40 * KIB)), "xml", when(w, rel, BASE_TIME, 180 * DAY))


def make_small(w, scale):
    """~50,000 files of 0.3-12 KiB in ~1,150 folders, ~130 MiB at scale 1."""
    r = _root(scale)
    days, hours = max(1, round(40 * r)), max(1, round(24 * r))
    n = max(1, round(30000 * scale))
    per = max(1, -(-n // (days * hours)))
    for i in range(n):
        f = i // per
        rel = f"Outbox/2025-{1 + (f // hours) // 28 % 12:02d}-{1 + (f // hours) % 28:02d}/{f % hours:02d}/rec-{i:06d}.json"
        rng = w.rng(rel)
        w.write(rel, json_record(rng, log_uniform(rng, 300, 4 * KIB), i), "json", when(w, rel, BASE_TIME, 180 * DAY))
    types, months = max(1, round(10 * r)), max(1, round(12 * r))
    for i in range(max(1, round(10000 * scale))):
        rel = f"Forms/{WORDS[i % types]}/2025-{1 + (i // types) % months:02d}/form-{i:06d}.xml"
        rng = w.rng(rel)
        w.write(rel, xml_form(rng, log_uniform(rng, 1 * KIB, 8 * KIB)), "xml", when(w, rel, BASE_TIME, 180 * DAY))
    for i in range(max(1, round(7500 * scale))):
        rel = f"Signatures/2025-{1 + (i % days) // 28 % 12:02d}-{1 + (i % days) % 28:02d}/sig-{i:06d}.png"
        rng = w.rng(rel)
        w.write(rel, media_like(rng, log_uniform(rng, 2 * KIB, 12 * KIB), b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), "png",
                when(w, rel, BASE_TIME, 180 * DAY))
    apps = APPS[:max(1, round(len(APPS) * r))]
    for i in range(max(1, round(2500 * scale))):
        app = apps[i % len(apps)]
        rel = f"Logs/{app}/{app}-{i:05d}.log"
        rng = w.rng(rel)
        t = when(w, rel, BASE_TIME, 180 * DAY)
        w.write(rel, app_log(rng, log_uniform(rng, 512, 6 * KIB), t, app, i % 3), "log", t)


def make_large(w, scale):
    """9 large files, ~515 MiB at scale 1: media, a map package, databases, a log, a firmware image."""
    def size(mib):
        return max(16 * KIB, int(mib * MIB * scale)) // PAGE * PAGE

    for rel, mib, magic in (("Video/VID_20250611_0930.mp4", 180, b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"),
                            ("Video/VID_20250612_1415.mp4", 70, b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom")):
        w.write(rel, media_like(w.rng(rel), size(mib), magic), "video", when(w, rel, BASE_TIME + 160 * DAY, DAY))
    tiles = SqliteLike("tiles", f"{w.seed}:Maps/region.mbtiles", blob_share=0.9)
    w.write("Maps/region.mbtiles", tiles.build(size(60) // PAGE), "mbtiles", BASE_TIME + 20 * DAY)
    for rel, mib in (("Databases/telemetry.db", 90), ("Databases/orders.db", 50), ("Databases/inventory.db", 25)):
        db = SqliteLike(os.path.basename(rel)[:-3], f"{w.seed}:{rel}")
        w.write(rel, db.build(size(mib) // PAGE, counter=w.rng(rel).randint(100, 90000)), "sqlite", when(w, rel, BASE_TIME + 170 * DAY, DAY))
    rel = "Logs/audit.log"
    rng = w.rng(rel)
    w.write(rel, app_log(rng, size(15), BASE_TIME, "audit", 0), "log", BASE_TIME + 175 * DAY)
    rel = "Firmware/update-2025.06.img"
    rng = w.rng(rel)
    parts, n, total = [], 0, size(20)
    while n < total:  # partitions: compressed payloads, zero padding, a text manifest
        k = rng.random()
        piece = (rng.randbytes(rng.randint(64, 512) * KIB) if k < 0.6 else bytes(rng.randint(16, 256) * KIB) if k < 0.9
                 else app_log(rng, rng.randint(8, 64) * KIB, BASE_TIME, "updater", 2))
        parts.append(piece)
        n += len(piece)
    w.write(rel, b"".join(parts)[:total], "firmware", BASE_TIME + 150 * DAY)
    rel = "Documents/manual.pdf"
    rng = w.rng(rel)
    pdf, n = [b"%PDF-1.7\n"], 9
    while n < size(5):
        obj = (b"%d 0 obj\n<< /Length %d /Filter /FlateDecode >>\nstream\n" % (len(pdf), 2048) + rng.randbytes(rng.randint(2, 40) * KIB)
               + b"\nendstream\nendobj\n")
        pdf.append(obj)
        n += len(obj)
    w.write(rel, b"".join(pdf)[:size(5)], "pdf", BASE_TIME + 10 * DAY)


def log_uniform(rng, lo, hi):
    import math
    return int(math.exp(rng.uniform(math.log(lo), math.log(hi))))


SHAPES = {"handheld": make_handheld, "small": make_small, "large": make_large}


# ---------------------------------------------------------------- one day of use, per shape

class Change:
    """A change being applied to the tree at `root`: every file it touches gets a fixed, rising mtime."""

    def __init__(self, seed, root, shape):
        self.rng = random.Random(f"{seed}:{shape}:change")
        self.seed, self.root = seed, root
        self.files = sorted(os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root) for f in fs)
        self.stamp = CHANGE_TIME
        self.done = []

    def path(self, rel):
        return os.path.join(self.root, rel)

    def touch(self, rel):
        self.stamp += 7
        os.utime(self.path(rel), (self.stamp, self.stamp))

    def write(self, rel, data):
        os.makedirs(os.path.dirname(self.path(rel)), exist_ok=True)
        with open(self.path(rel), "wb") as f:
            f.write(data)
        self.touch(rel)

    def append(self, rel, data):
        with open(self.path(rel), "ab") as f:
            f.write(data)
        self.touch(rel)

    def rewrite_pages(self, rel, count, grow=0):
        """An SQLite transaction: the header's change counter, `count` scattered pages rewritten in
        place, `grow` pages added at the end."""
        path = self.path(rel)
        pages = os.path.getsize(path) // PAGE
        db = SqliteLike(os.path.basename(rel).split(".")[0], f"{self.seed}:change:{rel}")
        with open(path, "r+b") as f:
            head = bytearray(f.read(PAGE))
            counter = struct.unpack(">I", head[24:28])[0] + 1
            f.seek(0)
            f.write(db.header_page(pages + grow, counter))
            chosen = sorted(self.rng.sample(range(2, pages + 1), min(count, pages - 1))) if pages > 1 else []
            for p in chosen:
                f.seek((p - 1) * PAGE)
                f.write(db.page(p, version=1))
            f.seek(pages * PAGE)
            for p in range(pages + 1, pages + grow + 1):
                f.write(db.page(p, version=1))
        self.touch(rel)
        return len(chosen)

    def delete(self, candidates, n):
        gone = self.rng.sample(candidates, min(n, len(candidates)))
        for rel in gone:
            os.remove(self.path(rel))
        return len(gone)

    def rename_leaves(self, n, suffix="-old"):
        leaves = sorted(os.path.relpath(d, self.root) for d, ds, fs in os.walk(self.root) if not ds and fs and d != self.root)
        leaves = [d for d in leaves if os.sep in d]
        renamed = self.rng.sample(leaves, min(n, len(leaves)))
        for rel in renamed:
            os.rename(self.path(rel), self.path(rel + suffix))
        return renamed


def change_handheld(c):
    logs = [f for f in c.files if f.endswith(".log")]
    appended = c.rng.sample(logs, max(1, round(len(logs) * 0.05)))
    for rel in appended:
        c.append(rel, app_log(c.rng, c.rng.randint(200, 8 * KIB), c.stamp, "app", APPS.index(rel.split("/")[1]) % 3 if rel.split("/")[1] in APPS else 0))
    apps = sorted({f.split("/")[1] for f in logs if f.startswith("Apps/")})
    new_logs = 0
    for app in apps[:8]:
        for k in range(2):
            c.write(f"Apps/{app}/logs/2025/07-20/{app}-new-{k}.log", app_log(c.rng, c.rng.randint(2 * KIB, 40 * KIB), CHANGE_TIME, app, APPS.index(app) % 3))
            new_logs += 1
    dbs = [f for f in c.files if f.endswith(".db")]
    pages = 0
    for i, rel in enumerate(c.rng.sample(dbs, min(5, len(dbs)))):
        total = os.path.getsize(c.path(rel)) // PAGE
        pages += c.rewrite_pages(rel, max(2, min(40, total // 100)), grow=16 if i < 2 else 0)
    photos = max(1, min(12, len([f for f in c.files if f.endswith(".jpg")]) // 30))
    for k in range(photos):
        c.write(f"DCIM/Camera/20250720/IMG_new{k:02d}.jpg", jpeg_like(c.rng, c.rng.randint(150 * KIB, 700 * KIB), CHANGE_TIME))
    deleted = c.delete([f for f in c.files if f.endswith((".log", ".csv", ".xml")) and f not in appended], 10)
    renamed = c.rename_leaves(5)
    for k in range(20):
        c.write(f"Documents/Exports/R-new/export-{k:02d}.csv", csv_export(c.rng, c.rng.randint(KIB, 50 * KIB), k % 3))
    return (f"appended to {len(appended)} logs, {new_logs} new logs, rewrote {pages} pages (and the header page) in "
            f"{min(5, len(dbs))} databases, {photos} new photos, deleted {deleted} files, renamed {len(renamed)} folders "
            f"({', '.join(renamed)}), added 20 exports")


def change_small(c):
    records = [f for f in c.files if f.endswith(".json")]
    rewritten = c.rng.sample(records, max(1, len(records) // 100))
    for rel in rewritten:
        c.write(rel, json_record(c.rng, c.rng.randint(300, 4 * KIB), 0))
    added = max(1, len(records) // 125)
    for i in range(added):
        c.write(f"Outbox/2025-07-20/{i % 24:02d}/rec-new-{i:05d}.json", json_record(c.rng, c.rng.randint(300, 4 * KIB), i))
    sigs = max(1, len([f for f in c.files if f.endswith(".png")]) // 75)
    for i in range(sigs):
        c.write(f"Signatures/2025-07-20/sig-new-{i:05d}.png", media_like(c.rng, c.rng.randint(2 * KIB, 12 * KIB), b"\x89PNG\r\n\x1a\n"))
    deleted = c.delete([f for f in c.files if f not in rewritten], 50)
    renamed = c.rename_leaves(3)
    return (f"rewrote {len(rewritten)} records, added {added} records and {sigs} signatures, deleted {deleted} files, "
            f"renamed {len(renamed)} folders ({', '.join(renamed)})")


def change_large(c):
    dbs = [f for f in c.files if f.endswith(".db")]
    sizes = {f: os.path.getsize(c.path(f)) // PAGE for f in dbs}
    biggest = max(dbs, key=lambda f: sizes[f]) if dbs else None
    pages = 0
    for rel in dbs:
        pages += c.rewrite_pages(rel, max(2, sizes[rel] // 150), grow=sizes[rel] // 50 if rel == biggest else 0)
    logs = [f for f in c.files if f.endswith(".log")]
    for rel in logs:
        c.append(rel, app_log(c.rng, max(4 * KIB, os.path.getsize(c.path(rel)) // 50), CHANGE_TIME, "audit", 0))
    videos = [f for f in c.files if f.endswith(".mp4")]
    new_video = max(16 * KIB, sum(os.path.getsize(c.path(f)) for f in videos) // 12)
    c.write("Video/VID_20250720_0800.mp4", media_like(c.rng, new_video, b"\x00\x00\x00\x18ftypmp42"))
    return (f"rewrote {pages} pages (and the header page) in {len(dbs)} databases, grew {biggest} by 2 %, appended 2 % to "
            f"{len(logs)} log, added a {new_video / MIB:.1f} MiB video")


CHANGES = {"handheld": change_handheld, "small": change_small, "large": change_large}
