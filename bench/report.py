#!/usr/bin/env python3
"""Render what compare.sh measured as Markdown: per data set, per phase, the median of the runs
with the range, Cradle's ratios to each peer, and the issue's targets met or not.

    report.py [--compact] MEASUREMENTS.tsv WORK_DIR SET...

--compact: per set only the phase × tool tables of wall, CPU and loopback bytes, then the targets.

MEASUREMENTS.tsv has a header line and one row per (set, run, phase, tool); "-" means not
applicable. WORK_DIR holds compare.sh's per-set notes (SET.desc.txt, SET.summary.txt,
SET.change.txt, SET.limits.md).
"""
import csv
import os
import statistics
import sys

PHASES = [("first", "First backup"), ("unchanged", "Unchanged re-run"), ("changed", "Backup after the change"),
          ("restore", "Restore of the latest into an empty file system")]
TOOLS = {"cradle": "Cradle", "cradle-wire": "Cradle over the wire (device restore)", "rsync": "rsync",
         "rsync-fsync": "rsync --fsync", "rsync-z": "rsync -z", "restic": "restic"}
MIB = 1048576


def num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def med(rows, key):
    vals = [num(r[key]) for r in rows if num(r[key]) is not None]
    return (statistics.median(vals), min(vals), max(vals), len(vals)) if vals else None


def fmt(m, scale=1.0, digits=2):
    if m is None:
        return "—"
    v, lo, hi, n = (x / scale if i < 3 else x for i, x in enumerate(m))
    if n == 1 or abs(hi - lo) < 10 ** -digits:
        return f"{v:.{digits}f}"
    return f"{v:.{digits}f} ({lo:.{digits}f}–{hi:.{digits}f})"


def mib(m):
    if m is None:
        return "—"
    return fmt(m, MIB, 1 if m[0] >= MIB / 10 else 3)


def ratio(a, b):
    if a is None or b is None or b[0] == 0:
        return None
    return a[0] / b[0]


def rx(r):
    return "—" if r is None else f"{r:.2f}×"


def rss_max(rows, key):
    vals = [num(r[key]) for r in rows if num(r[key]) is not None]
    return max(vals) / 1024 if vals else None


def phase_table(out, rows, phase, title, tools):
    out.append(f"#### {title}\n")
    out.append("| tool | runs ok | wall s | CPU s client + server | peak RSS MiB client / server (largest) | wire MiB | lo MiB | repo MiB | client state MiB | notes (last run) |")
    out.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for tool in tools:
        rs = [r for r in rows if r["phase"] == phase and r["tool"] == tool]
        if not rs:
            continue
        ok = sum(r["status"] == "ok" for r in rs)
        cpu = fmt(med(rs, "cpu"))
        cc, cs = med(rs, "cpu_client"), med(rs, "cpu_server")
        if cs is not None:
            cpu += f" = {cc[0]:.2f} + {cs[0]:.2f}"
        rc, rsv = rss_max(rs, "rss_client"), rss_max(rs, "rss_server")
        rss = "—" if rc is None else f"{rc:.0f}" + ("" if rsv is None else f" / {rsv:.0f}")
        bad = [r["status"] for r in rs if r["status"] != "ok"]
        out.append(f"| {TOOLS.get(tool, tool)} | {ok}/{len(rs)}{' ' + ', '.join(bad) if bad else ''} | {fmt(med(rs, 'wall'))} | {cpu} | {rss} | "
                   f"{mib(med(rs, 'wire'))} | {mib(med(rs, 'lo'))} | {mib(med(rs, 'repo'))} | {mib(med(rs, 'client_state'))} | {rs[-1]['note'] if rs[-1]['note'] != '-' else ''} |")
    out.append("")


def compact(out, rows, parallel_phase):
    """Phase × tool tables of the medians (ranges in brackets): wall, CPU, bytes on the wire."""
    phases = PHASES + [(parallel_phase, f"{parallel_phase[7:]} restores at once")]
    tools = [t for t in TOOLS if any(r["tool"] == t for r in rows)]
    for key, what, conv in (("wall", "wall s", lambda m: fmt(m)), ("cpu", "CPU s (client + server, all processes)", lambda m: fmt(m)),
                            ("lo", "bytes on the loopback, MiB (the namespace's lo: the tool's own traffic)", mib)):
        out.append(f"{what}, median of the runs (range):\n")
        out.append("| phase | " + " | ".join(TOOLS[t] for t in tools) + " |")
        out.append("|---|" + "---:|" * len(tools))
        for phase, title in phases:
            cells = []
            for t in tools:
                rs = [r for r in rows if r["phase"] == phase and r["tool"] == t and r["status"] == "ok"]
                m = med(rs, key) if rs else None
                cells.append("" if m is None or (key == "lo" and m[0] == 0) else conv(m))
            if any(cells):
                out.append(f"| {title} | " + " | ".join(cells) + " |")
        out.append("")


def targets(rows, parallel_phase):
    """The issue's loopback targets: (what, measured, met) for one set."""
    def m(phase, tool, key="wall"):
        return med([r for r in rows if r["phase"] == phase and r["tool"] == tool and r["status"] == "ok"], key)

    t = []

    def add(what, a, b, limit, extra=""):
        r = ratio(a, b)
        t.append((what, f"{rx(r)} ({a[0]:.2f} vs {b[0]:.2f} s){extra}" if r is not None else "—",
                  "—" if r is None else ("**yes**" if r <= limit else "no")))

    add("first backup ≤ 0.6× restic", m("first", "cradle"), m("first", "restic"), 0.6)
    add("first backup ≤ 0.5× rsync --fsync", m("first", "cradle"), m("first", "rsync-fsync"), 0.5)
    add("unchanged re-run ≤ 1.0× rsync", m("unchanged", "cradle"), m("unchanged", "rsync"), 1.0)
    add("after a change ≤ 1.0× rsync", m("changed", "cradle"), m("changed", "rsync"), 1.0)
    cw, zw = m("changed", "cradle", "wire"), m("changed", "rsync-z", "wire")
    r = ratio(cw, zw)
    t.append(("after a change: wire ≤ rsync -z", "—" if r is None else f"{rx(r)} ({cw[0] / MIB:.2f} vs {zw[0] / MIB:.2f} MiB)",
              "—" if r is None else ("**yes**" if r <= 1 else "no")))
    add("restore ≤ 0.5× restic", m("restore", "cradle"), m("restore", "restic"), 0.5)
    add(f"{parallel_phase[7:]} restores at once ≤ 0.5× restic", m(parallel_phase, "cradle"), m(parallel_phase, "restic"), 0.5)
    add(f"{parallel_phase[7:]} restores at once over the wire, against {parallel_phase[7:]} restics", m(parallel_phase, "cradle-wire"), m(parallel_phase, "restic"), 0.5)
    add("restore over the wire to a device ≤ 0.5× restic", m("restore", "cradle-wire"), m("restore", "restic"), 0.5,
        "" if m("restore", "rsync-fsync") is None else f"; {rx(ratio(m('restore', 'cradle-wire'), m('restore', 'rsync-fsync')))} rsync --fsync's pull")
    cr, rr = m("changed", "cradle", "repo"), m("changed", "restic", "repo")
    r = ratio(cr, rr)
    t.append(("repository ≤ restic (after the third backup)", "—" if r is None else f"{rx(r)} ({cr[0] / MIB:.1f} vs {rr[0] / MIB:.1f} MiB)",
              "—" if r is None else ("**yes**" if r <= 1 else "no")))
    dev = rss_max([r for r in rows if r["tool"] == "cradle" and r["phase"] in ("first", "unchanged", "changed")], "rss_client")
    dev_r = rss_max([r for r in rows if r["tool"] == "cradle-wire"], "rss_client")
    host = max(x for x in [rss_max([r for r in rows if r["tool"] in ("cradle", "cradle-wire")], "rss_server"),
                           rss_max([r for r in rows if r["tool"] == "cradle" and r["phase"].startswith("restore")], "rss_client"), 0] if x is not None)
    t.append(("device peak RSS ≤ 80 MiB", f"{dev or 0:.0f} MiB backing up, {dev_r or 0:.0f} MiB restoring", "**yes**" if max(dev or 0, dev_r or 0) <= 80 else "no"))
    t.append(("host peak RSS ≤ 150 MiB", f"{host:.0f} MiB (host run in every phase, host restore)", "**yes**" if host <= 150 else "no"))
    return t


def main():
    only_compact = "--compact" in sys.argv
    args = [a for a in sys.argv[1:] if a != "--compact"]
    meas, work, sets = args[0], args[1], args[2:]
    rows = list(csv.DictReader(open(meas), delimiter="\t"))
    out = []
    summary = {}
    for s in sets:
        rs = [r for r in rows if r["set"] == s]
        if not rs:
            continue
        runs = sorted({r["run"] for r in rs})
        parallel_phase = next((r["phase"] for r in rs if r["phase"].startswith("restore") and r["phase"] != "restore"), "restore?")

        def note(name):
            p = os.path.join(work, f"{s}.{name}")
            return open(p).read().strip("\n").rstrip() if os.path.exists(p) else "—"

        out.append(f"## Set `{s}`\n")
        out.append(f"{note('desc.txt')}. {len(runs)} run(s); figures are medians with the range over the runs in brackets.\n")
        out.append("```\n" + note("summary.txt") + "\n```\n")
        out.append(f"The change (bench/change_dataset.py --shape {s}): {note('change.txt')}\n")
        out.append("The machine's limits on this set:\n")
        out.append(note("limits.md") + "\n")
        compact(out, rs, parallel_phase)
        if only_compact:
            summary[s] = targets(rs, parallel_phase)
            continue
        for phase, title in PHASES:
            phase_table(out, rs, phase, title, list(TOOLS))
        phase_table(out, rs, parallel_phase, f"{parallel_phase[7:]} restores at once (each into its own folder of one new file system)",
                    ["cradle", "cradle-wire", "restic", "rsync"])
        out.append("#### Cradle ÷ peer (medians)\n")
        out.append("| phase | peer | wall | CPU | wire | repo |")
        out.append("|---|---|---:|---:|---:|---:|")
        for phase, title in PHASES[:3]:
            c = [r for r in rs if r["phase"] == phase and r["tool"] == "cradle"]
            for peer in ("rsync", "rsync-fsync", "rsync-z", "restic"):
                p = [r for r in rs if r["phase"] == phase and r["tool"] == peer]
                if c and p:
                    out.append(f"| {title} | {TOOLS[peer]} | {rx(ratio(med(c, 'wall'), med(p, 'wall')))} | {rx(ratio(med(c, 'cpu'), med(p, 'cpu')))} | "
                               f"{rx(ratio(med(c, 'wire'), med(p, 'wire')))} | {rx(ratio(med(c, 'repo'), med(p, 'repo')))} |")
        for phase in ("restore", parallel_phase):
            for tool in ("cradle", "cradle-wire"):
                c = [r for r in rs if r["phase"] == phase and r["tool"] == tool]
                for peer in ("restic", "rsync", "rsync-fsync", "rsync-z"):
                    p = [r for r in rs if r["phase"] == phase and r["tool"] == peer]
                    if c and p:
                        out.append(f"| {phase} ({TOOLS[tool]}) | {TOOLS[peer]} | {rx(ratio(med(c, 'wall'), med(p, 'wall')))} | "
                                   f"{rx(ratio(med(c, 'cpu'), med(p, 'cpu')))} | — | — |")
        out.append("")
        summary[s] = targets(rs, parallel_phase)
        out.append("#### Against the issue's targets\n")
        out.append("| target | measured (medians) | met? |")
        out.append("|---|---|---|")
        for what, got, met in summary[s]:
            out.append(f"| {what} | {got} | {met} |")
        out.append("")
    if len(summary) > 1:
        out.append("## Targets on every set\n")
        names = list(summary)
        out.append("| target | " + " | ".join(f"`{n}`" for n in names) + " |")
        out.append("|---|" + "---|" * len(names))
        for i, (what, _, _) in enumerate(summary[names[0]]):
            out.append(f"| {what} | " + " | ".join(f"{summary[n][i][1]}: {summary[n][i][2]}" for n in names) + " |")
        out.append("")
    print("\n".join(out))


if __name__ == "__main__":
    main()
