#!/usr/bin/env bash
# Side-by-side benchmark on loopback: Cradle (the native AOT executable, device -> host over TCP
# with TLS) against rsync (to an rsync daemon, plain, with --fsync and with -z) and restic (a
# local repository), on seeded data sets of three shapes, several runs each.
#
#   sudo bench/compare.sh [--sets LIST] [--runs N] [--parallel K] [--scale F] [--seed N] [--quick]
#
#   --sets LIST     comma-separated data sets (bench/shapes.py): handheld, small, large (default:
#                   all three), or mix (the set of the earlier figures, make_dataset.py's default)
#   --runs N        measured runs per set (default 3); the report gives medians and ranges
#   --parallel K    restores at once in the "several restores" phase (default 3)
#   --scale F       scale of the sets (default 1: ~500, ~130 and ~515 MiB)
#   --seed N        the sets' seed (default 42; the change uses N+1)
#   --quick         --scale 0.1 --runs 1: a smoke test in a few minutes
#
# Environment:
#   BENCH_DIR        work folder (default /tmp/cradle-bench): data sets are written once into
#                    BENCH_DIR/data and reused; a run's logs and figures go to BENCH_DIR/compare
#                    (deleted first), the report to BENCH_DIR/compare/results.md; file-system
#                    images are made in BENCH_DIR/fs and deleted after each run
#   CRADLE_BIN       use this cradle executable instead of publishing one (native AOT)
#   CRADLE_REF       publish this git ref instead of the working tree
#   CRADLE_CPU_LOCK  the lock held for each measured run (default /tmp/cradle-cpu.lock)
#
# Needs root: loop mounts and a network namespace. Installs what is missing with apt-get (rsync,
# restic, e2fsprogs, time, zstd, iproute2). Talks only to the loopback of a namespace it makes.
#
# Each run of each set holds the CPU lock from start to end (released between runs) and makes
# everything afresh: the data set is copied into a new ext4 file system (a loop-mounted image),
# every tool gets a new file system for its repository (Cradle: the host's folder and the
# device's state; restic: repository and cache; each rsync variant: its module), and every
# restore goes into a new one. Every tool runs in a network namespace of this script's own
# (lo only), so its loopback counter holds that tool's bytes alone. `sync` before every
# measured command. Phases, the tools' order rotating from phase to phase and run to run:
#   first      first backup into the empty repository
#   unchanged  the same again
#   changed    after bench/change_dataset.py (bytes on the wire too)
#   restore    the latest backup into an empty folder: Cradle's `host restore` (local), Cradle's
#              `device restore` over the wire to a new device (a guest the host operator allowed;
#              it fsyncs every file), restic's local restore, rsync pulling from its daemon
#              (plain, --fsync, -z); every tree checked by bench/verify_tree.py
#   restore-K  K restores at once, each into its own folder: K `host restore` processes, K
#              devices restoring through one host (one store, one group cache), K restics, K
#              rsync pulls from one daemon
# The Cradle host runs from before the first backup until the third has committed (its CPU and
# peak RSS are taken per command from /proc); a new host serves the restores over the wire.
set -euo pipefail
export LC_ALL=C DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$here")"
sets="handheld,small,large"
runs=3
parallel=3
scale=1
seed=42
while [[ $# -gt 0 ]]; do
  case "$1" in
    --sets) sets=${2:?--sets needs a list}; shift ;;
    --runs) runs=${2:?--runs needs a number}; shift ;;
    --parallel) parallel=${2:?--parallel needs a number}; shift ;;
    --scale) scale=${2:?--scale needs a number}; shift ;;
    --seed) seed=${2:?--seed needs a number}; shift ;;
    --quick) scale=0.1; runs=1 ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "compare.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
[[ $(id -u) -eq 0 ]] || { echo "compare.sh: needs root (loop mounts, a network namespace)" >&2; exit 2; }
IFS=, read -r -a set_list <<<"$sets"
for s in "${set_list[@]}"; do
  case "$s" in handheld|small|large|mix) ;; *) echo "compare.sh: unknown set $s (handheld, small, large, mix)" >&2; exit 2 ;; esac
done

# shellcheck source=bench/links_common.sh
source "$here/links_common.sh"
bench_dir_checked
W="$BENCH_DIR/compare"
rm -rf "$W"
mkdir -p "$W/logs"
LOGS="$W/logs"
MEAS="$W/measurements.tsv"
apt_need rsync:rsync restic:restic /usr/bin/time:time zstd:zstd mkfs.ext4:e2fsprogs ip:iproute2 python3:python3

host_pid=""
rsyncd_pid=""
rsyncd_time_pid=""
NS=""
cleanup() {
  stop_pid "$host_pid"
  [[ -n "$rsyncd_pid" ]] && kill "$rsyncd_pid" 2>/dev/null
  [[ -n "$rsyncd_time_pid" ]] && wait "$rsyncd_time_pid" 2>/dev/null
  drop_all_fs
  [[ -n "$NS" ]] && ip netns delete "$NS" 2>/dev/null
  return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cradle_binary
make_lo_ns
# shellcheck source=bench/compare_tools.sh
source "$here/compare_tools.sh"

printf 'set\trun\tphase\ttool\tstatus\twall\tcpu\tcpu_client\tcpu_server\trss_client\trss_server\twire\tlo\trepo\tclient_state\tnote\n' >"$MEAS"
failures=0
started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
for set in "${set_list[@]}"; do
  cpu_lock  # writing a set is CPU work too
  pristine_set "$set" "$seed" "$scale"
  cp "$SET_SUMMARY" "$W/$set.summary.txt"
  echo "$SET_DESC" >"$W/$set.desc.txt"
  say "== $set: the machine's limits on this set"
  limits "$set" >"$W/$set.limits.md"
  cpu_unlock
  for run in $(seq 1 "$runs"); do
    cpu_lock
    say "== $set, run $run of $runs (load average $(cut -d' ' -f1-3 /proc/loadavg))"
    echo "$set run $run: load average at the start $(cut -d' ' -f1-3 /proc/loadavg)" >>"$W/loads.txt"
    one_run "$set" "$run"
    echo "$set run $run: load average at the end $(cut -d' ' -f1-3 /proc/loadavg)" >>"$W/loads.txt"
    cpu_unlock
  done
done

{
  echo "# Cradle side by side on loopback: $sets, $runs run(s) each"
  echo
  echo "Run $started – $(date -u +%Y-%m-%dT%H:%M:%SZ) by \`bench/compare.sh --sets $sets --runs $runs --parallel $parallel --scale $scale --seed $seed\`."
  echo
  echo "- $(nproc) CPUs: $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo); memory $(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo); kernel $(uname -r); load average $load_start at the start"
  echo "- cradle $CRADLE_REV (native AOT); $(rsync --version | head -1 | sed 's/  */ /g'); $(restic version | cut -d' ' -f1-2); $(mkfs.ext4 -V 2>&1 | head -1); Python $(python3 -c 'import platform; print(platform.python_version())')"
  echo "- every measured command wrote into an ext4 file system made for it (a loop-mounted image; see --help)"
  echo
  python3 "$here/report.py" "$MEAS" "$W" "${set_list[@]}"
  echo "Load averages per run:"
  echo
  echo '```'
  cat "$W/loads.txt"
  echo '```'
  echo
  echo "Logs and raw figures: $LOGS, $MEAS."
} >"$W/results.md"
cat "$W/results.md"
say "results in $W/results.md"
if [[ $failures -gt 0 ]]; then
  say "$failures measurements failed or did not verify"
  exit 1
fi
