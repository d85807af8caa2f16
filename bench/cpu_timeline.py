#!/usr/bin/env python3
"""Sample the CPU time of named processes every INTERVAL seconds until SIGTERM/SIGINT, to see
whether a device and a host keep both cores busy or take turns.

    cpu_timeline.py OUT INTERVAL NAME=PATTERN...   sample; a process whose command line holds
                                                   PATTERN is NAME (the first one seen)
    cpu_timeline.py --summary OUT                  summarise a finished sample file

OUT gets one line per sample: "seconds machine_busy_jiffies machine_all_jiffies NAME=jiffies ...";
OUT.pids a line "NAME=PID" for each process as it is found.
The summary gives, per process, its CPU seconds and share of the wall, and how the wall splits
into stretches when both, one or none of the named processes ran at least half a core.
"""
import os
import signal
import sys
import time


def machine():
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    return sum(fields) - fields[3] - fields[4], sum(fields)


def jiffies(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            parts = f.read().rsplit(")", 1)[1].split()
        return int(parts[11]) + int(parts[12])
    except (OSError, IndexError, ValueError):
        return None


def find(pattern, taken):
    me = os.getpid()
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) in taken or int(d) == me:
            continue
        try:
            with open(f"/proc/{d}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if pattern in cmd and "cpu_timeline.py" not in cmd and not cmd.startswith(("perf ", "/usr/bin/time", "ip netns")):
            return int(d)
    return None


def sample(out, interval, specs):
    names = [s.split("=", 1) for s in specs]
    pids, last = {}, {}
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    t0 = time.perf_counter()
    with open(out, "w") as o:
        while not stop:
            for name, pattern in names:
                if name not in pids:
                    pid = find(pattern, set(pids.values()))
                    if pid:
                        pids[name] = pid
                        with open(out + ".pids", "a") as p:
                            p.write(f"{name}={pid}\n")
                j = jiffies(pids[name]) if name in pids else None
                if j is not None:
                    last[name] = j
            busy, total = machine()
            o.write(f"{time.perf_counter() - t0:.4f} {busy} {total} " + " ".join(f"{n}={last.get(n, 0)}" for n, _ in names) + "\n")
            o.flush()
            time.sleep(interval)


def summary(out):
    hz = os.sysconf("SC_CLK_TCK")
    rows = []
    for line in open(out):
        parts = line.split()
        rows.append((float(parts[0]), int(parts[1]), int(parts[2]), dict(p.split("=") for p in parts[3:])))
    if len(rows) < 2:
        print("too few samples")
        return
    names = list(rows[0][3])
    # Only the stretch in which some named process ran: from its first CPU tick to its last.
    first = next(i for i in range(1, len(rows)) if any(int(rows[i][3][n]) > int(rows[0][3][n]) for n in names))
    last = max(i for i in range(1, len(rows)) if any(int(rows[i][3][n]) > int(rows[i - 1][3][n]) for n in names))
    span = rows[first - 1: last + 1]
    wall = span[-1][0] - span[0][0]
    both = one = none = 0.0
    alone = {n: 0.0 for n in names}
    for a, b in zip(span, span[1:]):
        dt = b[0] - a[0]
        busy = [n for n in names if (int(b[3][n]) - int(a[3][n])) / hz / dt >= 0.5]
        if len(busy) >= 2:
            both += dt
        elif len(busy) == 1:
            one += dt
            alone[busy[0]] += dt
        else:
            none += dt
    machine_cpu = (span[-1][1] - span[0][1]) / hz
    print(f"wall {wall:.2f} s (from the first to the last CPU tick of {', '.join(names)}); machine CPU {machine_cpu:.2f} s "
          f"= {machine_cpu / wall:.2f} of its {os.cpu_count()} cores on average")
    for n in names:
        cpu = (int(span[-1][3][n]) - int(span[0][3][n])) / hz
        print(f"  {n}: {cpu:.2f} CPU s = {cpu / wall:.2f} of a core on average; the only one of them at >= half a core for {alone[n]:.2f} s")
    print(f"  both (or more) at >= half a core: {both:.2f} s ({both / wall * 100:.0f} %); one: {one:.2f} s ({one / wall * 100:.0f} %); "
          f"neither: {none:.2f} s ({none / wall * 100:.0f} %)")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--summary":
        summary(sys.argv[2])
    elif len(sys.argv) >= 4:
        sample(sys.argv[1], float(sys.argv[2]), sys.argv[3:])
    else:
        sys.exit(__doc__)
