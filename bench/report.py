#!/usr/bin/env python3
"""Render the measurements that compare.sh wrote as Markdown tables.

    report.py MEASUREMENTS.tsv DATA_BYTES DATA_BYTES_AFTER_CHANGE

MEASUREMENTS.tsv has a header line and one row per (phase, tool); "-" means not applicable.
"""
import csv
import sys

PHASES = [("first", "First backup"), ("unchanged", "Unchanged re-run"),
          ("changed", "Backup after the change"), ("restore", "Restore of the latest to an empty folder")]
TOOLS = [("cradle", "Cradle"), ("rsync", "rsync"), ("rsync-z", "rsync -z"), ("restic", "restic")]
PEERS = [t for t in TOOLS if t[0] != "cradle"]


def num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def mib(v):
    x = num(v)
    return "—" if x is None else (f"{x / 1048576:.1f}" if x >= 104857.6 else f"{x / 1048576:.3f}")


def sec(v):
    x = num(v)
    return "—" if x is None else f"{x:.2f}"


def kib_mib(v):
    x = num(v)
    return "—" if x is None else f"{x / 1024:.0f}"


def rss_max(row):
    vals = [num(row[k]) for k in ("rss_client", "rss_server") if num(row[k]) is not None]
    return max(vals) if vals else None


def ratio(a, b):
    if a is None or b is None or b == 0:
        return "—"
    return f"{a / b:.2f}×"


def main():
    rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
    size = {"first": num(sys.argv[2]), "restore": num(sys.argv[3])}
    by = {(r["phase"], r["tool"]): r for r in rows}
    out = []
    w = out.append
    w("## Figures\n")
    w("Wall: the client command's elapsed time. CPU: user+sys of every process of the tool on both sides "
      "(Cradle: device + host; rsync: client + daemon with its forks; restic: one process). "
      "Peak RSS: per process, client side / server side. Wire: the tool's own count (Cradle's "
      "wireBytesSent+wireBytesReceived, rsync's --stats sent+received). lo: bytes the loopback interface "
      "transmitted during the command (all traffic on the machine). Repo: `du -sb` of the repository after "
      "the command. Client state: the device's state folder (Cradle) or restic's cache. MB/s (first backup and "
      "restore): the data set's size / wall.\n")
    for phase, title in PHASES:
        w(f"### {title}\n")
        w("| tool | status | wall s | MB/s | CPU s (client + server) | peak RSS MiB (client / server) | wire MiB | lo MiB | repo MiB | client state MiB | notes |")
        w("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
        for tool, name in TOOLS:
            r = by.get((phase, tool))
            if not r:
                continue
            cpu = sec(r["cpu"])
            if num(r["cpu_server"]) is not None:
                cpu += f" ({sec(r['cpu_client'])} + {sec(r['cpu_server'])})"
            rss = kib_mib(r["rss_client"]) + ("" if num(r["rss_server"]) is None else " / " + kib_mib(r["rss_server"]))
            mbs = "—" if size.get(phase) is None or not num(r["wall"]) else f"{size[phase] / num(r['wall']) / 1e6:.0f}"
            w(f"| {name} | {r['status']} | {sec(r['wall'])} | {mbs} | {cpu} | {rss} | {mib(r['wire'])} | {mib(r['lo'])} | "
              f"{mib(r['repo'])} | {mib(r['client_state'])} | {r['note'] if r['note'] != '-' else ''} |")
        w("")
    w("## Ratios Cradle / peer\n")
    w("Below 1 means Cradle used less. RSS: the largest single process of each tool. Wire: the tools' own counts "
      "(restic writes a local repository: no wire). Repo: the repository size after the phase.\n")
    w("| phase | peer | wall | CPU | peak RSS | wire | repo |")
    w("|---|---|---:|---:|---:|---:|---:|")
    for phase, title in PHASES:
        c = by.get((phase, "cradle"))
        if not c:
            continue
        for tool, name in PEERS:
            p = by.get((phase, tool))
            if not p:
                continue
            w(f"| {title} | {name} | {ratio(num(c['wall']), num(p['wall']))} | {ratio(num(c['cpu']), num(p['cpu']))} | "
              f"{ratio(rss_max(c), rss_max(p))} | {ratio(num(c['wire']), num(p['wire']))} | "
              f"{ratio(num(c['repo']), num(p['repo']))} |")
    w("")
    print("\n".join(out))


if __name__ == "__main__":
    main()
