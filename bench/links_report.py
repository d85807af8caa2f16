#!/usr/bin/env python3
"""Render what links.sh measured: per link rate and data set, Cradle against rsync -z (medians
of the runs, ranges in brackets), the bytes each put on the link, and the issue's target
(first backup and after-change ≤ 0.8× rsync -z's time).

    links_report.py MEASUREMENTS.tsv WORK_DIR
"""
import csv
import os
import statistics
import sys

MIB = 1048576


def med(rows, key):
    vals = [float(r[key]) for r in rows if r[key] not in ("", "-")]
    return (statistics.median(vals), min(vals), max(vals)) if vals else None


def fmt(m, scale=1.0, digits=2):
    if m is None:
        return "—"
    v, lo, hi = (x / scale for x in m)
    return f"{v:.{digits}f}" if abs(hi - lo) < 10 ** -digits else f"{v:.{digits}f} ({lo:.{digits}f}–{hi:.{digits}f})"


def main():
    meas, work = sys.argv[1], sys.argv[2]
    rows = list(csv.DictReader(open(meas), delimiter="\t"))
    shapes = {}
    for line in open(os.path.join(work, "shapes.tsv")):
        rate, desc, scale = line.rstrip("\n").split("\t")
        shapes[rate] = (desc, scale)
    out = []
    targets = []
    for rate in shapes:
        desc, scale = shapes[rate]
        out.append(f"## {rate} Mbit/s (`{desc}` on both ends of the veth; data sets at scale {scale})\n")
        sets = list(dict.fromkeys(r["set"] for r in rows if r["rate"] == rate))
        for s in sets:
            p = os.path.join(work, f"{s}-{rate}.desc.txt")
            out.append(f"### `{s}`: {open(p).read().strip() if os.path.exists(p) else ''}\n")
            p = os.path.join(work, f"{s}-{rate}.change.txt")
            if os.path.exists(p):
                out.append(f"The change: {open(p).read().strip()}\n")
            out.append("| phase | tool | runs ok | wall s | link bytes device → host MiB | host → device MiB | tool's own count MiB | "
                       "CPU s device + host | peak RSS MiB device / host | notes (last run) |")
            out.append("|---|---|---|---:|---:|---:|---:|---:|---:|---|")
            for phase, title in (("first", "first backup"), ("changed", "after the change")):
                walls = {}
                for tool, name in (("cradle", "Cradle"), ("rsync-z", "rsync -z")):
                    rs = [r for r in rows if r["rate"] == rate and r["set"] == s and r["phase"] == phase and r["tool"] == tool]
                    if not rs:
                        continue
                    ok = [r for r in rs if r["status"] == "ok"]
                    walls[tool] = (med(ok, "wall"), med(ok, "link_d2h"))
                    cd, ch = med(ok, "cpu_device"), med(ok, "cpu_host")
                    rss = f"{max(float(r['rss_device']) for r in ok) / 1024:.0f} / {max(float(r['rss_host']) for r in ok) / 1024:.0f}" if ok else "—"
                    out.append(f"| {title} | {name} | {len(ok)}/{len(rs)} | {fmt(med(ok, 'wall'))} | {fmt(med(ok, 'link_d2h'), MIB, 2)} | "
                               f"{fmt(med(ok, 'link_h2d'), MIB, 3)} | {fmt(med(ok, 'wire_tool'), MIB, 2)} | "
                               f"{'—' if cd is None else f'{cd[0]:.2f} + {ch[0]:.2f}'} | {rss} | {rs[-1]['note']} |")
                if "cradle" in walls and "rsync-z" in walls and walls["cradle"][0] and walls["rsync-z"][0]:
                    r = walls["cradle"][0][0] / walls["rsync-z"][0][0]
                    b = walls["cradle"][1][0] / walls["rsync-z"][1][0]
                    targets.append((rate, s, title, r, b))
            out.append("")
    out.append("## Against the issue's target: first backup and after-change ≤ 0.8× rsync -z's time\n")
    out.append("| link | set | phase | Cradle ÷ rsync -z, wall (medians) | Cradle ÷ rsync -z, bytes device → host | met? |")
    out.append("|---|---|---|---:|---:|---|")
    for rate, s, title, r, b in targets:
        out.append(f"| {rate} Mbit/s | `{s}` | {title} | {r:.2f}× | {b:.2f}× | {'**yes**' if r <= 0.8 else 'no'} |")
    out.append("")
    print("\n".join(out))


if __name__ == "__main__":
    main()
