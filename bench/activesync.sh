#!/usr/bin/env bash
# ActiveSync devices (Windows CE / Windows Mobile, nothing of ours on them) backed up by the real
# `cradle host run --activesync IFACE`: the emulated device (tests/Cradle.ActiveSync.Emulator) in
# a network namespace of its own, joined to the host's namespace by a veth pair shaped with
# `tc tbf` to USB 1.1 RNDIS's rate (8 Mbit/s) and USB 2.0's (100 Mbit/s), every RAPI call answered
# after an added reply time. Issue 24's targets: the first backup of a 100 MB device at >= 90 % of
# the link rate; an unchanged re-run of a 5,000-file device in <= 2 s on the fast link; the host's
# peak memory (RSS) <= 100 MiB.
#
#   sudo bench/activesync.sh [--rates LIST] [--delays LIST] [--modes LIST] [--runs N] [--only WHAT]
#
#   --rates LIST    comma-separated link rates in Mbit/s (default 8,100)
#   --delays LIST   comma-separated reply times added to every RAPI call, ms (default 50)
#   --modes LIST    how the emulator adds them (default work,latency):
#                     work     the device works that long on each call; a RAPI session serves one
#                              call at a time (the strict case: only several sessions overlap)
#                     latency  the reply is that much late on its way back; the device goes on
#                              reading the next requests (replies keep their order)
#   --runs N        runs per case (default 3): medians and ranges
#   --only WHAT     first (the 100 MB first backups), rerun (the 5,000-file device), or all (default)
#
# Environment: BENCH_DIR (default /tmp/cradle-bench; data sets in BENCH_DIR/activesync/data, this
# run in BENCH_DIR/activesync/run, its report BENCH_DIR/activesync/run/results.md), CRADLE_BIN /
# CRADLE_REF (the native AOT cradle, as for compare.sh), EMULATOR_BIN (the emulator executable;
# default: published from this tree), CRADLE_CPU_LOCK.
#
# Needs root. Makes, and deletes on exit: namespaces cradle-ah<pid> (host) and cradle-ad<pid>
# (device), each with lo up; the veth pair cah<pid> (host end, 169.254.2.2/24) and cad<pid>
# (device end, 169.254.2.1/24); on both ends `tc qdisc replace dev IFACE root tbf rate RATEmbit
# burst B latency 50ms` (B: 1/100 s of the rate, at least 16 KiB); a loop-mounted file system per
# run for the host's folder.
#
# Data sets (seeded, incompressible, written once): big: 100 MiB in 440 files (40 of 2 MiB, 400 of
# 50 KiB) in 10 folders; many: 5,000 files of 256 B - 8 KiB in 100 folders (10 x 10).
#
# Per case (the CPU lock held for all runs of one link and reply time, 3-7 minutes): a fresh host
# folder, the emulator started in the device namespace (it connects when the host triggers it),
# `cradle host run --data DIR --listen 127.0.0.1:0 --http off --name depot --activesync cahPID` in
# the host namespace, every output line stamped with the time it arrived. Measured:
#   first    from the device's connection (log 3001 "connected (") to "snapshot 1 committed";
#            the rate is the device's file bytes over that time, against the link's rate (tbf's
#            Mbit/s, Ethernet + IP + TCP headers included, so ~95 % is the most a TCP payload
#            gets). Also the time from the host seeing the interface up (log 1200).
#   rerun    the 5,000-file device backed up once, then the cable pulled and plugged again
#            (`ip link set down/up` on the host end) N times: from the device's connection to
#            "nothing changed since snapshot 1" each time.
#   memory   the host's VmHWM (peak RSS) at the end of each case.
set -euo pipefail
export LC_ALL=C DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$here")"
rates="8,100"
delays="50"
modes="work,latency"
runs=3
only=all
while [[ $# -gt 0 ]]; do
  case "$1" in
    --rates) rates=${2:?}; shift ;;
    --delays) delays=${2:?}; shift ;;
    --modes) modes=${2:?}; shift ;;
    --runs) runs=${2:?}; shift ;;
    --only) only=${2:?}; shift ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "activesync.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
[[ $only =~ ^(first|rerun|all)$ ]] || { echo "activesync.sh: --only first, rerun or all" >&2; exit 2; }
[[ $(id -u) -eq 0 ]] || { echo "activesync.sh: needs root (network namespaces, loop mounts)" >&2; exit 2; }

W=""
LOGS=""
# shellcheck source=bench/links_common.sh
source "$here/links_common.sh"
bench_dir_checked
W="$BENCH_DIR/activesync/run"
rm -rf "$W"
mkdir -p "$W/logs"
LOGS="$W/logs"
RESULTS="$W/results.tsv"
: >"$RESULTS"

HNS="cradle-ah$$"; DNS="cradle-ad$$"; HIF="cah$$"; DIF="cad$$"
HOST_PID=""; EMU_PID=""; EMU_FD=""
cleanup() {
  stop_pid "$HOST_PID"
  stop_emulator
  ip netns del "$HNS" 2>/dev/null || true
  ip netns del "$DNS" 2>/dev/null || true
  drop_all_fs
  cpu_unlock
}
trap cleanup EXIT
trap 'exit 130' INT TERM

apt_need ip:iproute2 tc:iproute2 mkfs.ext4:e2fsprogs python3:python3
cradle_binary
if [[ -n "${EMULATOR_BIN:-}" ]]; then
  EMULATOR="$(realpath "$EMULATOR_BIN")"
else
  source_tree
  say "building the emulator in $W/build"
  flock "$CPU_LOCK" dotnet publish "$W/build/src/tests/Cradle.ActiveSync.Emulator" -c Release -o "$W/build/emulator" >"$LOGS/publish-emulator.log" 2>&1 \
    || { tail -30 "$LOGS/publish-emulator.log" >&2; die "dotnet publish of the emulator"; }
  EMULATOR="$W/build/emulator/Cradle.ActiveSync.Emulator"
fi
[[ -x "$EMULATOR" ]] || die "no emulator executable at $EMULATOR"

# ---------------------------------------------------------------- data sets
DATA_DIR="$BENCH_DIR/activesync/data"
make_set() {
  local name=$1 dir="$DATA_DIR/$1"
  [[ -f "$dir.done" ]] && return 0
  rm -rf "$dir"
  say "writing the data set $name"
  python3 - "$name" "$dir" <<'EOF'
import os, random, sys
name, root = sys.argv[1], sys.argv[2]
rng = random.Random(24)
when = 1709543730  # 2024-03-04 09:15:30 UTC
def write(rel, size):
    path = os.path.join(root, "My Documents", rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(rng.randbytes(size))
    os.utime(path, (when, when))
if name == "big":
    for i in range(40):
        write(f"scans{i % 10}/scan{i:03}.bin", 2 * 1024 * 1024)
    for i in range(400):
        write(f"forms{i % 10}/form{i:03}.dat", 50 * 1024)
else:
    for i in range(5000):
        write(f"route{i % 10}/stop{(i // 10) % 10}/order{i:04}.txt", rng.randint(256, 8192))
EOF
  touch "$dir.done"
}
set_bytes() { find "$DATA_DIR/$1" -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }'; }

# ---------------------------------------------------------------- the cable
make_cable() {
  local rate=$1 burst_kb
  ip netns add "$HNS"; ip netns add "$DNS"
  ip link add "$HIF" type veth peer name "$DIF"
  ip link set "$HIF" netns "$HNS"; ip link set "$DIF" netns "$DNS"
  ip -n "$HNS" addr add 169.254.2.2/24 dev "$HIF"
  ip -n "$DNS" addr add 169.254.2.1/24 dev "$DIF"
  ip -n "$HNS" link set lo up; ip -n "$DNS" link set lo up
  ip -n "$DNS" link set "$DIF" up; ip -n "$HNS" link set "$HIF" up
  burst_kb=$(( rate * 1000000 / 8 / 100 / 1024 ))
  [[ $burst_kb -ge 16 ]] || burst_kb=16
  ip netns exec "$HNS" tc qdisc replace dev "$HIF" root tbf rate "${rate}mbit" burst "${burst_kb}kb" latency 50ms
  ip netns exec "$DNS" tc qdisc replace dev "$DIF" root tbf rate "${rate}mbit" burst "${burst_kb}kb" latency 50ms
}
drop_cable() { ip netns del "$HNS" 2>/dev/null || true; ip netns del "$DNS" 2>/dev/null || true; }

# ---------------------------------------------------------------- the device and the host
# start_emulator SET DELAY MODE LOG: the emulator in the device namespace, its stdin a fifo this
# script holds open (closing it stops the emulator).
start_emulator() {
  local set=$1 delay=$2 mode=$3 log=$4 config="$W/emulator.json" latency=false
  [[ $mode == latency ]] && latency=true
  rm -f "$W/registry.json" "$W/emulator.fifo"
  cat >"$config" <<EOF
{"filesRoot":"$DATA_DIR/$set","registryFile":"$W/registry.json","name":"MX7_BENCH","hostAddress":"169.254.2.2","hostPort":990,
 "triggerAddress":"169.254.2.1","triggerPort":5679,"carrierInterface":"$DIF","faults":{"replyDelayMs":$delay,"delayIsLatency":$latency}}
EOF
  mkfifo "$W/emulator.fifo"
  exec {EMU_FD}<>"$W/emulator.fifo"
  ip netns exec "$DNS" "$EMULATOR" --config "$config" <"$W/emulator.fifo" >"$log" 2>&1 &
  EMU_PID=$!
  local i
  for i in $(seq 1 100); do grep -q '"ready":true' "$log" && return 0; sleep 0.1; done
  cat "$log" >&2; die "the emulator did not start"
}
stop_emulator() {
  [[ -n "$EMU_FD" ]] && { echo quit >&"$EMU_FD" 2>/dev/null || true; }
  stop_pid "$EMU_PID"; EMU_PID=""
  [[ -n "$EMU_FD" ]] && exec {EMU_FD}>&-
  EMU_FD=""
}

# start_host DATA LOG: the native cradle in the host namespace; every line stamped (monotonic seconds).
start_host() {
  local data=$1 log=$2
  ip netns exec "$HNS" "$CRADLE" host run --data "$data" --listen 127.0.0.1:0 --http off --name depot --activesync "$HIF" \
    > >(python3 -u -c 'import sys, time
for line in sys.stdin: print(f"{time.monotonic():.3f} {line}", end="", flush=True)' >"$log") 2>&1 &
  HOST_PID=$!
}
# wait_line LOG TEXT N TIMEOUT: waits for the Nth line holding TEXT; prints its stamp. The texts
# name the log event id: other events repeat the words ("backed up: nothing changed since ...").
wait_line() {
  local log=$1 text=$2 n=$3 timeout=$4 i stamp
  for i in $(seq 1 $((timeout * 20))); do
    stamp=$({ grep -F -- "$text" "$log" || true; } | sed -n "${n}p" | awk '{ print $1 }')
    [[ -n "$stamp" ]] && { echo "$stamp"; return 0; }
    kill -0 "$HOST_PID" 2>/dev/null || { tail -20 "$log" >&2; die "the host stopped (log: $log)"; }
    sleep 0.05
  done
  tail -20 "$log" >&2
  die "no line '$text' (#$n) within ${timeout}s (log: $log)"
}
peak_rss_kib() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"; }
record() { printf '%s\n' "$*" | tr ' ' '\t' >>"$RESULTS"; }

# case_run WHAT RATE DELAY MODE RUN
case_run() {
  local what=$1 rate=$2 delay=$3 mode=$4 run=$5 set log data bytes up connected done rss n
  set=$([[ $what == first ]] && echo big || echo many)
  log="$LOGS/$what-$rate-$delay-$mode-$run.log"
  bytes=$(set_bytes "$set")
  make_cable "$rate"
  fresh_fs "host" "$(fs_size_for "$bytes" 2 5000)" 40000
  data="$FS/host"
  start_emulator "$set" "$delay" "$mode" "$log.emulator"
  start_host "$data" "$log"
  up=$(wait_line "$log" "cradle.host[1200] ActiveSync: $HIF is up" 1 60)
  connected=$(wait_line "$log" "cradle.host[3001] ActiveSync: 169.254.2.1:" 1 60)
  done=$(wait_line "$log" "cradle.host[1005] MX7_BENCH: snapshot 1 committed" 1 900)
  if [[ $what == first ]]; then
    rss=$(peak_rss_kib "$HOST_PID")
    record first "$rate" "$delay" "$mode" "$run" "$(elapsed "$connected" "$done")" "$(elapsed "$up" "$done")" "$bytes" "$rss"
    say "first backup, $rate Mbit/s, $delay ms ($mode), run $run: $(elapsed "$connected" "$done") s from the device's connection ($(awk -v b="$bytes" -v s="$(elapsed "$connected" "$done")" -v r="$rate" 'BEGIN { printf "%.1f %% of the link", b * 8 / s / (r * 1e6) * 100 }')), peak RSS $((rss / 1024)) MiB"
  else
    record many-first "$rate" "$delay" "$mode" "$run" "$(elapsed "$connected" "$done")" "$(elapsed "$up" "$done")" "$bytes" "$(peak_rss_kib "$HOST_PID")"
    for n in 1 2 3; do
      ip -n "$HNS" link set "$HIF" down
      wait_line "$log" "cradle.host[1201] ActiveSync: $HIF went down" "$n" 30 >/dev/null
      sleep 1
      ip -n "$HNS" link set "$HIF" up
      up=$(wait_line "$log" "cradle.host[1200] ActiveSync: $HIF is up" $((n + 1)) 60)
      connected=$(wait_line "$log" "cradle.host[3001] ActiveSync: 169.254.2.1:" $((n + 1)) 60)
      done=$(wait_line "$log" "cradle.host[1042] MX7_BENCH: nothing changed since snapshot 1" "$n" 120)
      rss=$(peak_rss_kib "$HOST_PID")
      record rerun "$rate" "$delay" "$mode" "$run.$n" "$(elapsed "$connected" "$done")" "$(elapsed "$up" "$done")" "$bytes" "$rss"
      say "unchanged re-run, $rate Mbit/s, $delay ms ($mode), run $run.$n: $(elapsed "$connected" "$done") s from the device's connection, peak RSS $((rss / 1024)) MiB"
    done
  fi
  stop_pid "$HOST_PID"; HOST_PID=""
  stop_emulator
  drop_cable
  drop_fs "$FS"
}

say "cradle: $CRADLE ($CRADLE_REV); emulator: $EMULATOR"
IFS=, read -r -a rate_list <<<"$rates"
IFS=, read -r -a delay_list <<<"$delays"
IFS=, read -r -a mode_list <<<"$modes"
[[ $only != rerun ]] && make_set big
[[ $only != first ]] && make_set many
for mode in "${mode_list[@]}"; do
  for delay in "${delay_list[@]}"; do
    for rate in "${rate_list[@]}"; do
      # One hold of the CPU lock per link and reply time (all its runs: a few minutes).
      cpu_lock
      for run in $(seq 1 "$runs"); do
        [[ $only != rerun ]] && case_run first "$rate" "$delay" "$mode" "$run"
        # The re-run target is on the fast link; one first backup of the set gives three re-runs.
        if [[ $only != first && $rate -ge 100 ]]; then case_run many "$rate" "$delay" "$mode" "$run"; fi
      done
      cpu_unlock
    done
  done
done

python3 "$here/activesync_report.py" "$RESULTS" "$CRADLE_REV" >"$W/results.md"
cat "$W/results.md"
say "report: $W/results.md"
