#!/usr/bin/env bash
# The load figure (issue 8): N devices backing up at once to one host over loopback, through a
# flood of stalled connections, and the host's peak memory (VmHWM of /proc/PID/status). It runs
# the end-to-end test LoadTests.Fifty_devices_back_up_at_once_through_a_flood_of_stalled_connections
# against the native AOT executable, sized up by its variables, and prints the test's figure line.
#
#   bench/load.sh [--devices N] [--flood N] [--kib N] [--runs N]
#
#   --devices N   device processes (`cradle device connect`, staying connected) (default 50)
#   --flood N     stalled connections of each of the five kinds (default 200: 1000 in all)
#   --kib N       KiB of new data per device in the measured round (default 4096)
#   --runs N      times to run it (default 1)
#
# Environment: BENCH_DIR (default /tmp/cradle-bench; the build goes to BENCH_DIR/load),
# CRADLE_BIN / CRADLE_REF as for bench/usb.sh. The runs hold the CPU lock (/tmp/cradle-cpu.lock).
set -euo pipefail
export LC_ALL=C DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$here")"
devices=50
flood=200
kib=4096
runs=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --devices) devices=${2:?}; shift ;;
    --flood) flood=${2:?}; shift ;;
    --kib) kib=${2:?}; shift ;;
    --runs) runs=${2:?}; shift ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "load.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

# shellcheck source=bench/links_common.sh
source "$here/links_common.sh"
bench_dir_checked
W="$BENCH_DIR/load"
LOGS="$W/logs"
mkdir -p "$LOGS"
cradle_binary
say "building the end-to-end tests"
flock "${CRADLE_CPU_LOCK:-/tmp/cradle-cpu.lock}" dotnet build "$repo/tests/Cradle.EndToEnd.Tests" -c Release -v quiet -nologo >"$LOGS/build.log" 2>&1 \
  || { tail -30 "$LOGS/build.log" >&2; die "dotnet build (log: $LOGS/build.log)"; }
for run in $(seq 1 "$runs"); do
  say "run $run of $runs: $devices devices, $flood stalled connections of each kind, $kib KiB new per device ($CRADLE_REV)"
  CRADLE_EXE="$CRADLE" CRADLE_LOAD_DEVICES=$devices CRADLE_LOAD_FLOOD=$flood CRADLE_LOAD_KIB=$kib \
    flock "${CRADLE_CPU_LOCK:-/tmp/cradle-cpu.lock}" dotnet test "$repo/tests/Cradle.EndToEnd.Tests" -c Release --no-build -nologo \
      --filter "FullyQualifiedName~LoadTests.Fifty_devices" --logger "console;verbosity=detailed" >"$LOGS/run-$run.log" 2>&1 \
    || { tail -40 "$LOGS/run-$run.log" >&2; die "the load test failed (log: $LOGS/run-$run.log)"; }
  grep -E "^ *[0-9]+ (devices \(|device sessions live)" "$LOGS/run-$run.log" | sed "s/^ *//"
done
