#!/usr/bin/env python3
"""Sample an interface's transmitted bytes and the machine's CPU every INTERVAL seconds until
SIGTERM or SIGINT, to see when a link sits idle during a backup and what the CPUs do then.

    link_sampler.py IFACE INTERVAL OUT      (run inside the interface's namespace)
    link_sampler.py --summary OUT RATE_BPS  summarise a finished sample file

OUT gets one line per sample: "seconds tx_bytes cpu_busy_jiffies cpu_all_jiffies".
"""
import signal
import sys
import time


def cpu():
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def sample(iface, interval, out):
    path = f"/sys/class/net/{iface}/statistics/tx_bytes"
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    t0 = time.perf_counter()
    with open(out, "w") as o, open(path) as counter:
        while not stop:
            counter.seek(0)
            tx = int(counter.read())
            busy, total = cpu()
            o.write(f"{time.perf_counter() - t0:.4f} {tx} {busy} {total}\n")
            time.sleep(interval)


def summary(out, rate_bps):
    rows = [tuple(float(x) for x in line.split()) for line in open(out)]
    # the backup: from the first interval that moved bytes to the last
    steps = [(b[0] - a[0], b[1] - a[1], b[2] - a[2], b[3] - a[3]) for a, b in zip(rows, rows[1:])]
    moving = [i for i, s in enumerate(steps) if s[1] > 0]
    if not moving:
        print("no bytes moved")
        return
    steps = steps[moving[0]:moving[-1] + 1]
    span = sum(s[0] for s in steps)
    full = rate_bps / 8
    buckets = {"idle (< 10 % of the rate)": [], "partly used (10-80 %)": [], "busy (≥ 80 %)": []}
    for s in steps:
        use = s[1] / s[0] / full if s[0] > 0 else 0
        key = "idle (< 10 % of the rate)" if use < 0.1 else "partly used (10-80 %)" if use < 0.8 else "busy (≥ 80 %)"
        buckets[key].append(s)
    print(f"{len(steps)} samples over {span:.2f} s, {sum(s[1] for s in steps) / 1e6:.1f} MB transmitted")
    for name, ss in buckets.items():
        t = sum(s[0] for s in ss)
        busy = sum(s[2] for s in ss)
        total = sum(s[3] for s in ss)
        cpu_use = f"{busy / total * 100:.0f} %" if total else "—"
        print(f"  link {name}: {t:.2f} s ({t / span * 100:.0f} %), machine CPU busy {cpu_use}")
    print("timeline (0.5 s buckets from the first byte): link MB/s, machine CPU busy")
    bucket, t, acc = 0.5, 0.0, [0.0, 0.0, 0.0, 0.0]
    for s in steps:
        acc = [a + b for a, b in zip(acc, s)]
        t += s[0]
        if acc[0] >= bucket or s is steps[-1]:
            print(f"  {t - acc[0]:5.1f}-{t:4.1f} s {acc[1] / acc[0] / 1e6:6.1f} MB/s  CPU {acc[2] / acc[3] * 100 if acc[3] else 0:3.0f} %")
            acc = [0.0, 0.0, 0.0, 0.0]


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--summary":
        summary(sys.argv[2], float(sys.argv[3]))
    elif len(sys.argv) == 4:
        sample(sys.argv[1], float(sys.argv[2]), sys.argv[3])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
