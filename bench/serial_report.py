#!/usr/bin/env python3
"""Render serial.sh's data-set runs: per set, Cradle against rsync -z through the same serial line
(medians of the runs, ranges in brackets), goodput against the line rate, bytes on the line.

    serial_report.py SETS.tsv WORK_DIR BAUD
"""
import csv
import os
import statistics
import sys


def med(vals):
    vals = [v for v in vals if v is not None]
    return (statistics.median(vals), min(vals), max(vals)) if vals else None


def fmt(m, digits=1):
    if m is None:
        return "—"
    v, lo, hi = m
    return f"{v:,.{digits}f}" if abs(hi - lo) < 10 ** -digits else f"{v:,.{digits}f} ({lo:,.{digits}f}–{hi:,.{digits}f})"


def f(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def main():
    rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
    work, baud = sys.argv[2], int(sys.argv[3])
    line = baud / 10
    out = [f"## Data sets over the serial line ({baud} baud, {line:,.0f} bytes/s each way)\n",
           "wall: the command (Cradle: `device connect --once` with process start, offer, TLS, partnership, scan, upload, commit; "
           "rsync: the host's `rsync -az` pull through socat, the line and socat). goodput: the set's bytes (after the change: "
           "the bytes of the files that changed are not known to both tools alike, so only wall and line bytes) / wall. "
           "line: bytes the relay carried device → host / host → device.\n"]
    ratios = []
    for s in dict.fromkeys(r["set"] for r in rows):
        p = os.path.join(work, f"{s}.desc.txt")
        out.append(f"### `{s}`: {open(p).read().strip() if os.path.exists(p) else ''}\n")
        p = os.path.join(work, f"{s}.change.txt")
        if os.path.exists(p):
            out.append(f"The change: {open(p).read().strip()}\n")
        out.append("| phase | tool | runs ok | wall s | goodput B/s | × line rate | line d→h bytes | line h→d bytes | tool's own count | notes (last run) |")
        out.append("|---|---|---|---:|---:|---:|---:|---:|---:|---|")
        for phase, title in (("first", "first backup"), ("changed", "after the change")):
            walls = {}
            for tool, name in (("cradle", "Cradle"), ("rsync-z", "rsync -z")):
                rs = [r for r in rows if r["set"] == s and r["phase"] == phase and r["tool"] == tool]
                if not rs:
                    continue
                ok = [r for r in rs if r["rc"] == "0"]
                wall = med([f(r["wall"]) for r in ok])
                walls[tool] = (wall, med([f(r["dev_to_host"]) for r in ok]))
                good = med([f(r["bytes"]) / f(r["wall"]) for r in ok]) if phase == "first" else None
                out.append(f"| {title} | {name} | {len(ok)}/{len(rs)} | {fmt(wall)} | {fmt(good, 0)} | "
                           f"{'—' if good is None else f'{good[0] / line:.2f}×'} | {fmt(med([f(r['dev_to_host']) for r in ok]), 0)} | "
                           f"{fmt(med([f(r['host_to_dev']) for r in ok]), 0)} | {fmt(med([f(r['wire']) for r in ok]), 0)} | {rs[-1]['note']} |")
            if all(t in walls and walls[t][0] for t in ("cradle", "rsync-z")):
                ratios.append((s, title, walls["cradle"][0][0] / walls["rsync-z"][0][0],
                               walls["cradle"][1][0] / walls["rsync-z"][1][0] if walls["rsync-z"][1] and walls["rsync-z"][1][0] else None))
        out.append("")
    out.append("| set | phase | Cradle ÷ rsync -z, wall (medians) | Cradle ÷ rsync -z, line bytes device → host |")
    out.append("|---|---|---:|---:|")
    for s, title, r, b in ratios:
        out.append(f"| `{s}` | {title} | {r:.2f}× | {'—' if b is None else f'{b:.2f}×'} |")
    out.append("")
    print("\n".join(out))


if __name__ == "__main__":
    main()
