#!/usr/bin/env bash
# Where Cradle's time goes, per data set: `perf record` of the whole machine (both cores, every
# process, the kernel) during a first backup, the backup after the change, a local restore, a
# restore over the wire and several restores over the wire at once, with the device's and the
# host's CPU sampled every 20 ms (bench/cpu_timeline.py: do both sides work at once, or take
# turns?). The native AOT executable's symbols come from its cradle.dbg beside it.
#
#   sudo bench/profile.sh [--sets LIST] [--scale F] [--seed N] [--parallel K] [--freq HZ] [--link MBIT]
#
#   --sets LIST    data sets (bench/shapes.py; default handheld,small,large)
#   --scale F      their scale (default 1)
#   --seed N       the sets' seed (default 42; the change uses N+1)
#   --parallel K   restores over the wire at once (default 3)
#   --freq HZ      perf's sampling rate per CPU (default 999)
#   --link MBIT    profile the first backup and the backup after the change over a veth shaped
#                  to MBIT Mbit/s with tbf, as bench/links.sh makes it (device and host each in a
#                  namespace of their own, `--usb`), instead of the loopback phases
#   --report DIR   record nothing: write DIR/results.md again from the perf.data and timelines an
#                  earlier run left in DIR (e.g. after bench/perf_summary.py learned more)
#
# Environment: BENCH_DIR (default /tmp/cradle-bench; this run in BENCH_DIR/profile, deleted
# first; the report in BENCH_DIR/profile/results.md, the perf.data files beside it),
# CRADLE_BIN, CRADLE_REF, CRADLE_CPU_LOCK (as for compare.sh).
#
# Needs root (perf of every process, loop mounts, a network namespace); installs linux-perf,
# e2fsprogs and iproute2 with apt-get when missing. As compare.sh: new file systems for the data,
# the host's folder and every restore; every cradle process in a namespace of this script's own;
# the CPU lock held through each set. Profiling slows what it measures by a few per cent: the
# times here are not the benchmark's (compare.sh's are).
set -euo pipefail
export LC_ALL=C DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$here")"
sets="handheld,small,large"
scale=1
seed=42
parallel=3
freq=999
report_dir=""
link=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --sets) sets=${2:?}; shift ;;
    --scale) scale=${2:?}; shift ;;
    --seed) seed=${2:?}; shift ;;
    --parallel) parallel=${2:?}; shift ;;
    --freq) freq=${2:?}; shift ;;
    --report) report_dir=${2:?}; shift ;;
    --link) link=${2:?}; shift ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "profile.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
[[ $(id -u) -eq 0 ]] || { echo "profile.sh: needs root (perf, loop mounts, a network namespace)" >&2; exit 2; }
IFS=, read -r -a set_list <<<"$sets"

# shellcheck source=bench/links_common.sh
source "$here/links_common.sh"
if [[ -n "$report_dir" ]]; then
  W=$(realpath "$report_dir")
  LOGS="$W/logs"
else
  bench_dir_checked
  W="$BENCH_DIR/profile"
  rm -rf "$W"
  mkdir -p "$W/logs"
  LOGS="$W/logs"
fi
apt_need perf:linux-perf mkfs.ext4:e2fsprogs ip:iproute2 python3:python3

host_pid=""
perf_pid=""
timeline_pid=""
NS=""
DEV_NS=""
HOST_NS=""
made_ns=()
cleanup() {
  [[ -n "$perf_pid" ]] && kill -INT "$perf_pid" 2>/dev/null && wait "$perf_pid" 2>/dev/null
  stop_pid "$timeline_pid"
  stop_pid "$host_pid"
  drop_all_fs
  [[ -n "$NS" ]] && ip netns delete "$NS" 2>/dev/null
  local ns
  for ns in "${made_ns[@]}"; do ip netns delete "$ns" 2>/dev/null; done
  return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

REPORT="$W/results.md"

host_start() { # DATA NAME (on the shaped link: listening on the host end of the veth too)
  local usb=(); [[ -z "$link" ]] || usb=(--usb "$HIF")
  ip netns exec "$HOST_NS" "$CRADLE" host run --data "$1" --listen 127.0.0.1:0 --http off --auto-approve "${usb[@]}" >"$LOGS/$2.host.log" 2>&1 &
  host_pid=$!
  wait_listening "$LOGS/$2.host.log" "$host_pid"
  addr=${LISTEN%% *}
}
host_stop() { local p=$host_pid; host_pid=""; stop_pid "$p"; }

# profiled NAME TIMELINE-SPECS -- CMD...: CMD in the namespace while perf records the whole
# machine and cpu_timeline.py samples the named processes; then the summaries into the report.
profiled() {
  local name=$1 specs=() pid t0 wall
  shift
  while [[ $1 != -- ]]; do specs+=("$1"); shift; done
  shift
  sync
  python3 "$here/cpu_timeline.py" "$W/$name.timeline" 0.02 "${specs[@]}" &
  timeline_pid=$!
  perf record -F "$freq" -a -g -o "$W/$name.perf.data" >"$LOGS/$name.perf.log" 2>&1 &
  perf_pid=$!
  sleep 0.5
  t0=$EPOCHREALTIME
  set +e
  ip netns exec "$DEV_NS" "$@" >"$LOGS/$name.out" 2>"$LOGS/$name.err" &
  pid=$!
  wait "$pid"
  local rc=$?
  set -e
  wall=$(elapsed "$t0" "$EPOCHREALTIME")
  kill -INT "$perf_pid"; wait "$perf_pid" || true; perf_pid=""
  stop_pid "$timeline_pid"; timeline_pid=""
  [[ $rc -eq 0 ]] || { say "  $name exited with $rc"; tail -5 "$LOGS/$name.err" | sed 's/^/    /' >&2; }
  echo "$SET	$wall	$rc" >"$W/$name.meta"
  report_for "$name" >>"$REPORT"
}

# report_for NAME: the timeline's summary, the machine's samples per process and each named
# process's kinds of work, from W/NAME.{meta,timeline,timeline.pids,perf.data}.
report_for() {
  local name=$1 set wall rc who pid
  IFS=$'\t' read -r set wall rc <"$W/$name.meta"
  {
    echo "### $set: $name (wall $wall s, exit $rc)"
    echo
    echo '```'
    python3 "$here/cpu_timeline.py" --summary "$W/$name.timeline"
    echo '```'
    echo
    echo "Samples per process (the whole machine, both cores; swapper = idle):"
    echo
    echo '```'
    perf report -i "$W/$name.perf.data" --sort comm,pid --stdio -g none --percent-limit 1 2>/dev/null | grep -v '^#' | grep -v '^$' | head -8
    echo '```'
    echo
    while IFS== read -r who pid; do
      python3 "$here/perf_summary.py" "$W/$name.perf.data" "$who ($name)" --pid "$pid" || true
    done <"$W/$name.timeline.pids"
  }
}

if [[ -n "$report_dir" ]]; then
  W=$(realpath "$report_dir")
  head -3 "$W/results.md" >"$W/report.md"
  for desc in "$W"/*.desc; do
    [[ -e "$desc" ]] || { echo "profile.sh: $W holds no profiles" >&2; exit 2; }
    set_name=$(basename "$desc" .desc)
    { echo "## $(cat "$desc")"; echo; } >>"$W/report.md"
    for name in first changed restore restore-wire "restore-wire-$parallel"; do
      [[ -f "$W/$set_name-$name.meta" ]] && report_for "$set_name-$name" >>"$W/report.md"
    done
  done
  mv "$W/report.md" "$W/results.md"
  cat "$W/results.md"
  exit 0
fi

cradle_binary
make_lo_ns
DEV_NS=$NS
HOST_NS=$NS
if [[ -n "$link" ]]; then
  # As bench/links.sh: two namespaces, a veth pair between them, tbf on both ends.
  HOST_NS="cradle-ph$$"; DEV_NS="cradle-pd$$"; HIF="ph$$"; DIF="pd$$"
  ip netns add "$HOST_NS"; made_ns+=("$HOST_NS")
  ip netns add "$DEV_NS"; made_ns+=("$DEV_NS")
  ip link add "$HIF" type veth peer name "$DIF"
  ip link set "$HIF" netns "$HOST_NS"; ip link set "$DIF" netns "$DEV_NS"
  ip -n "$HOST_NS" addr add 169.254.2.2/24 dev "$HIF"; ip -n "$DEV_NS" addr add 169.254.2.1/24 dev "$DIF"
  for ns in "$HOST_NS" "$DEV_NS"; do ip -n "$ns" link set lo up; done
  burst_kb=$(( link * 1000000 / 8 / 100 / 1024 )); [[ $burst_kb -ge 16 ]] || burst_kb=16
  ip netns exec "$HOST_NS" tc qdisc replace dev "$HIF" root tbf rate "${link}mbit" burst "${burst_kb}kb" latency 50ms
  ip netns exec "$DEV_NS" tc qdisc replace dev "$DIF" root tbf rate "${link}mbit" burst "${burst_kb}kb" latency 50ms
  ip -n "$HOST_NS" link set "$HIF" up; ip -n "$DEV_NS" link set "$DIF" up
fi
: >"$REPORT"

profile_set() {
  SET=$1
  local caps base k
  pristine_set "$SET" "$seed" "$scale"
  caps=$((SET_FILES * 2 + 20000))
  base=$(basename "$PRISTINE")
  fresh_fs "prof-$SET-data" "$(fs_size_for "$SET_BYTES" 1.6 "$SET_FILES")" "$caps"; local dfs=$FS
  copy_set "$dfs"
  fresh_fs "prof-$SET-cradle" "$(fs_size_for "$SET_BYTES" 1.7 "$SET_FILES")" "$caps"; local cr=$FS
  echo "$SET_DESC" >"$W/$SET.desc"
  echo "## $SET_DESC" >>"$REPORT"; echo >>"$REPORT"
  host_start "$cr/host" "$SET"
  "$CRADLE" device init --name BENCH --folder "$DATA" --state "$cr/device" >"$LOGS/$SET.init" 2>&1 || die "device init"
  warm "$DATA"
  local route=(--host "$addr")
  [[ -z "$link" ]] || { route=(--usb "$DIF"); for _ in $(seq 1 100); do grep -q 'is up: listening on' "$LOGS/$SET.host.log" && break; sleep 0.1; done; }
  say "$SET: first backup${link:+ over $link Mbit/s}"
  profiled "$SET-first" "device=--state $cr/device" "host=--data $cr/host" -- "$CRADLE" device connect "${route[@]}" --once --accept-new-host any --state "$cr/device" --json
  local change_args=(); [[ $SET == mix ]] || change_args=(--shape "$SET")
  python3 "$here/change_dataset.py" $((seed + 1)) "$DATA" "${change_args[@]}" >"$W/$SET.change.txt"
  warm "$DATA"
  say "$SET: backup after the change"
  profiled "$SET-changed" "device=--state $cr/device" "host=--data $cr/host" -- "$CRADLE" device connect "${route[@]}" --once --accept-new-host any --state "$cr/device" --json
  host_stop
  if [[ -n "$link" ]]; then drop_fs "$cr"; drop_fs "$dfs"; return; fi
  say "$SET: local restore"
  fresh_fs "prof-$SET-restore" "$(fs_size_for "$SET_BYTES" 1.3 "$SET_FILES")" "$caps"
  profiled "$SET-restore" "restore=host restore" -- "$CRADLE" host restore BENCH --to "$FS/r" --data "$cr/host"
  drop_fs "$FS"
  say "$SET: restore over the wire, 1 and $parallel at once"
  fresh_fs "prof-$SET-wire" $(( $(fs_size_for "$SET_BYTES" 1.3 "$SET_FILES") * (parallel + 1) )) $((caps * (parallel + 1)))
  host_start "$cr/host" "$SET-wire"
  for k in $(seq 0 "$parallel"); do
    mkdir -p "$FS/g$k/$base"
    "$CRADLE" device init --name "GUEST$k" --folder "$FS/g$k/$base" --state "$FS/g$k.state" >/dev/null || die "device init GUEST$k"
    "$CRADLE" host allow-restore BENCH --to "GUEST$k" --data "$cr/host" >/dev/null || die "allow-restore"
  done
  profiled "$SET-restore-wire" "device=--state $FS/g0.state" "host=--data $cr/host" -- "$CRADLE" device restore --state "$FS/g0.state" --host "$addr" --from BENCH --json
  local script="$W/$SET-parallel.sh"
  {
    echo "#!/bin/sh"
    for k in $(seq 1 "$parallel"); do echo "\"$CRADLE\" device restore --state \"$FS/g$k.state\" --host \"$addr\" --from BENCH --json >\"$LOGS/$SET-p$k.out\" 2>&1 &"; done
    echo "wait"
  } >"$script"
  chmod +x "$script"
  profiled "$SET-restore-wire-$parallel" "host=--data $cr/host" -- "$script"
  host_stop
  drop_fs "$FS"
  drop_fs "$cr"; drop_fs "$dfs"
}

for s in "${set_list[@]}"; do
  cpu_lock
  say "== profiling $s"
  profile_set "$s"
  cpu_unlock
done
{
  echo "# Profiles: bench/profile.sh --sets $sets --scale $scale --parallel $parallel --freq $freq${link:+ --link $link}"
  echo
  echo "Run $(date -u +%Y-%m-%dT%H:%M:%SZ); cradle $CRADLE_REV (native AOT); kernel $(uname -r); $(nproc) CPUs; $(perf --version)."
  echo
  cat "$REPORT"
} >"$W/report.md"
mv "$W/report.md" "$REPORT"
cat "$REPORT"
