#!/usr/bin/env python3
"""The device agent on its own: start-up, peak memory and a small round trip (docs/BENCHMARKS.md).

    device_agent.py --host CRADLE --device 'CMD [WORDS]' --work DIR [--data DIR] [--only PART,...]

--host: an all-in-one `cradle` (native AOT) that runs `host run` on loopback.
--device: the agent's command line, split on spaces: "/path/cradle-device" (after), "/path/cradle
  device" (before: main's all-in-one), "qemu-aarch64-static -L /usr/aarch64-linux-gnu /path/cradle-device"
  (the arm64 agent under emulation).
--data: the folder of the big first backup (make_dataset.py 1 DIR: ~500 MB, mix); without it that
  part is skipped. --work: a scratch folder (emptied).
Parts (default all): status, idle, big, roundtrip.
  status     `status --state S` of an initialised device, 30 runs: median and max wall ms, peak RSS
  idle       `connect` (staying connected) with a 2 MB folder: VmRSS and VmHWM (peak) once idle for 10 s
  big        `connect --once` of --data, a first backup: wall s and peak RSS (wait4's ru_maxrss), and
             the largest anonymous memory seen in smaps_rollup sampled every 20 ms
  roundtrip  a 7 MB folder: init, first backup, unchanged re-run, restore onto the device: wall s
Peak RSS is the kernel's high-water mark of the agent process itself (qemu's own, under emulation).
Run it holding the machine's CPU lock: flock /tmp/cradle-cpu.lock bench/device_agent.py ...
"""
import argparse
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time

ENV = dict(os.environ, CRADLE_DEVICE__ACCEPTNEWHOST="any")


def run(cmd, check=True):
    """Runs to the end; returns (wall seconds, stdout); exits on failure when check."""
    start = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV)
    out, err = p.communicate()
    wall = time.perf_counter() - start
    if check and p.returncode != 0:
        sys.exit(f"{' '.join(cmd)}: exit {p.returncode}\n{out.decode()}\n{err.decode()}")
    return wall, out.decode()


def run_rss(cmd):
    """Runs to the end; returns (wall seconds, this child's peak RSS in KiB)."""
    start = time.perf_counter()
    pid = os.posix_spawnp(cmd[0], cmd, ENV, file_actions=[
        (os.POSIX_SPAWN_OPEN, 1, "/dev/null", os.O_WRONLY, 0), (os.POSIX_SPAWN_OPEN, 2, "/dev/null", os.O_WRONLY, 0)])
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{' '.join(cmd)}: exit {os.waitstatus_to_exitcode(status)}")
    return wall, usage.ru_maxrss


def rollup(pid):
    """The process's resident memory now (smaps_rollup), KiB: Rss, Anonymous, and the file-backed rest."""
    with open(f"/proc/{pid}/smaps_rollup") as f:
        kv = {k: int(v.split()[0]) for k, v in (line.split(":", 1) for line in f if ":" in line and line.split(":", 1)[1].strip().endswith("kB"))}
    return kv["Rss"], kv["Anonymous"], kv["Rss"] - kv["Anonymous"]


def by_mapping(pid):
    """Resident KiB per mapped file (and '[anon]' for the rest), largest first."""
    sizes, name = {}, "[anon]"
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            head = line.split()
            if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
                name = os.path.basename(head[5]) if len(head) > 5 and head[5].startswith("/") else "[anon]"
            elif head[0] == "Rss:":
                sizes[name] = sizes.get(name, 0) + int(head[1])
    return sorted(sizes.items(), key=lambda kv: -kv[1])


def run_sampled(cmd, interval=0.02):
    """Like run_rss, sampling smaps_rollup meanwhile: (wall s, ru_maxrss KiB, peak anonymous KiB, file-backed KiB at that peak)."""
    start = time.perf_counter()
    pid = os.posix_spawnp(cmd[0], cmd, ENV, file_actions=[
        (os.POSIX_SPAWN_OPEN, 1, "/dev/null", os.O_WRONLY, 0), (os.POSIX_SPAWN_OPEN, 2, "/dev/null", os.O_WRONLY, 0)])
    peak_anon, file_at_peak = 0, 0
    while True:
        done, status, usage = os.wait4(pid, os.WNOHANG)
        if done:
            break
        try:
            _, anon, mapped = rollup(pid)
            if anon > peak_anon:
                peak_anon, file_at_peak = anon, mapped
        except (OSError, KeyError, ValueError):
            pass
        time.sleep(interval)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{' '.join(cmd)}: exit {os.waitstatus_to_exitcode(status)}")
    return wall, usage.ru_maxrss, peak_anon, file_at_peak


def fill(folder, size, seed):
    """Deterministic incompressible files: size bytes in files of 256 KiB, one of a quarter of it."""
    os.makedirs(folder, exist_ok=True)
    import random
    r = random.Random(seed)
    big = size // 4
    with open(os.path.join(folder, "big.dat"), "wb") as f:
        f.write(r.randbytes(big))
    left, i = size - big, 0
    while left > 0:
        n = min(left, 256 * 1024)
        with open(os.path.join(folder, f"file-{i:03d}.bin"), "wb") as f:
            f.write(r.randbytes(n))
        left, i = left - n, i + 1


class Host:
    def __init__(self, cradle, folder):
        self.log = open(os.path.join(folder, "host.log"), "w+")
        self.p = subprocess.Popen([cradle, "host", "run", "--data", os.path.join(folder, "host"), "--listen", "127.0.0.1:0",
                                   "--http", "off", "--auto-approve"], stdout=self.log, stderr=subprocess.STDOUT)
        for _ in range(200):
            self.log.seek(0)
            m = re.search(r"^listening on (\S+)", self.log.read(), re.M)
            if m:
                self.address = m.group(1)
                return
            time.sleep(0.05)
        sys.exit("the host did not start listening")

    def stop(self):
        # SIGTERM, which cradle handles as Ctrl-C: a script started in the background without job
        # control ignores SIGINT, and so do its children.
        self.p.send_signal(signal.SIGTERM)
        try:
            self.p.wait(30)
        except subprocess.TimeoutExpired:
            print("the host did not stop within 30 s of SIGTERM: killed", file=sys.stderr)
            self.p.kill()
            self.p.wait()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--host", required=True)
    ap.add_argument("--device", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--data")
    ap.add_argument("--only", default="status,idle,big,roundtrip")
    a = ap.parse_args()
    dev = a.device.split()
    parts = a.only.split(",")
    shutil.rmtree(a.work, ignore_errors=True)
    os.makedirs(a.work)
    host = Host(a.host, a.work)
    try:
        if "status" in parts:
            state, data = os.path.join(a.work, "s-status"), os.path.join(a.work, "d-status")
            fill(data, 64 * 1024, 1)
            run(dev + ["init", "--name", "BENCH-S", "--folder", data, "--state", state])
            run(dev + ["status", "--state", state])  # the page cache holds the executable from here on
            samples = [run_rss(dev + ["status", "--state", state]) for _ in range(30)]
            walls = [w * 1000 for w, _ in samples]
            print(f"status: median {statistics.median(walls):.1f} ms, max {max(walls):.1f} ms, peak RSS {max(r for _, r in samples) / 1024:.1f} MiB (30 runs)")
        if "idle" in parts:
            state, data = os.path.join(a.work, "s-idle"), os.path.join(a.work, "d-idle")
            fill(data, 2 * 1024 * 1024, 2)
            run(dev + ["init", "--name", "BENCH-I", "--folder", data, "--state", state])
            agent = subprocess.Popen(dev + ["connect", "--host", host.address, "--state", state], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV)
            deadline = time.time() + 120
            while time.time() < deadline:
                _, out = run(dev + ["status", "--json", "--state", state], check=False)
                if '"lastBackup":{' in out.replace(" ", ""):
                    break
                time.sleep(0.5)
            else:
                sys.exit("the idle agent never finished its backup")
            time.sleep(10)
            with open(f"/proc/{agent.pid}/status") as f:
                st = dict(line.split(":", 1) for line in f)
            rss, hwm, anon, mapped = (int(st[k].split()[0]) / 1024 for k in ("VmRSS", "VmHWM", "RssAnon", "RssFile"))
            top = ", ".join(f"{n} {k / 1024:.1f}" for n, k in by_mapping(agent.pid)[:6])
            run(dev + ["disconnect", "--state", state], check=False)
            try:
                agent.wait(30)
            except subprocess.TimeoutExpired:
                agent.kill()
                agent.wait()
            print(f"idle-connected (2 MB folder, 10 s after its backup): VmRSS {rss:.1f} MiB (anonymous {anon:.1f}, file-backed {mapped:.1f}), peak (VmHWM) {hwm:.1f} MiB")
            print(f"  resident by mapping (MiB): {top}")
        if "big" in parts and a.data:
            state = os.path.join(a.work, "s-big")
            run(dev + ["init", "--name", "BENCH-B", "--folder", a.data, "--state", state])
            wall, rss, anon, mapped = run_sampled(dev + ["connect", "--host", host.address, "--once", "--state", state])
            size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(a.data) for f in fs)
            print(f"first backup of {size / 1e6:.0f} MB: {wall:.1f} s, peak RSS {rss / 1024:.1f} MiB (sampled every 20 ms: anonymous at most {anon / 1024:.1f}, file-backed then {mapped / 1024:.1f})")
        if "roundtrip" in parts:
            state, data = os.path.join(a.work, "s-rt"), os.path.join(a.work, "d-rt")
            fill(data, 7 * 1024 * 1024, 3)
            start = time.perf_counter()
            run(dev + ["init", "--name", "BENCH-R", "--folder", data, "--state", state])
            run(dev + ["connect", "--host", host.address, "--once", "--state", state])
            run(dev + ["connect", "--host", host.address, "--once", "--state", state])
            os.rename(data, data + ".orig")
            os.makedirs(data)
            run(dev + ["restore", "--host", host.address, "--state", state])
            wall = time.perf_counter() - start
            same = subprocess.run(["diff", "-r", "-q", data + ".orig", data], capture_output=True).returncode == 0
            print(f"round trip of 7 MB (init, first backup, unchanged re-run, restore): {wall:.1f} s, restored {'identical' if same else 'DIFFERENT'}")
    finally:
        host.stop()


if __name__ == "__main__":
    main()
