#!/usr/bin/env python3
"""The report of bench/activesync.sh: medians and ranges per case from its results.tsv.

    activesync_report.py RESULTS.tsv REVISION

Rows: kind rate_mbit delay_ms mode run seconds_from_connection seconds_from_interface_up bytes peak_rss_kib
"""
import statistics
import sys
from collections import defaultdict

rows = [line.rstrip("\n").split("\t") for line in open(sys.argv[1]) if line.strip()]
cases = defaultdict(list)
for kind, rate, delay, mode, run, seconds, from_up, size, rss in rows:
    cases[(kind, int(rate), int(delay), mode)].append((float(seconds), float(from_up), int(size), int(rss)))


def med_range(values, fmt):
    return f"{fmt(statistics.median(values))} ({fmt(min(values))}-{fmt(max(values))})"


print(f"# ActiveSync benchmark (cradle {sys.argv[2]})\n")
print("| case | link | reply time | runs | from the device's connection, s | from the interface up, s | rate, % of the link | peak RSS, MiB |")
print("|---|---|---|---|---|---|---|---|")
names = {"first": "first backup, 100 MiB", "many-first": "first backup, 5,000 files", "rerun": "unchanged re-run, 5,000 files"}
for (kind, rate, delay, mode), values in sorted(cases.items(), key=lambda c: (["first", "many-first", "rerun"].index(c[0][0]), c[0][3], c[0][1])):
    seconds = [v[0] for v in values]
    from_up = [v[1] for v in values]
    rates = [v[2] * 8 / v[0] / (rate * 1e6) * 100 for v in values]
    rss = [v[3] / 1024 for v in values]
    pct = med_range(rates, lambda x: f"{x:.1f}") if kind != "rerun" else "-"
    print(f"| {names[kind]} | {rate} Mbit/s | {delay} ms ({mode}) | {len(values)} | {med_range(seconds, lambda x: f'{x:.2f}')} "
          f"| {med_range(from_up, lambda x: f'{x:.2f}')} | {pct} | {med_range(rss, lambda x: f'{x:.0f}')} |")
