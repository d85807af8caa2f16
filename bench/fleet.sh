#!/usr/bin/env bash
# The fleet figure (issue 10): D simulated devices (bench/Cradle.FleetLoad: real device sessions,
# several per process) backing up through N `cradle host run` processes that share one PostgreSQL
# catalog (tests/postgres.sh) and one S3 bucket (Ceph RGW, tests/scripts/rgw.sh), all on this
# machine; one host killed (SIGKILL) a third of the way through unless --no-kill. Then
# `cradle host check --read-data` on the shared catalog and bucket, and restores of a sample of
# devices compared byte for byte with their data (diff -r). Prints the devices, backups, wall
# time, throughput, the sessions each host served (its log's "snapshot N committed" lines), each
# host's peak RSS (VmHWM) and the CPU seconds of every component (/proc/PID/stat).
#
#   bench/fleet.sh [--hosts N] [--devices D] [--concurrency S] [--rounds R] [--kib K]
#                  [--verify N] [--no-kill]
#
#   --hosts N        host processes (default 3)
#   --devices D      simulated devices (default 1000)
#   --concurrency S  device sessions at once, over all hosts (default 100)
#   --rounds R       backups per device: the first partners, each later one adds a file (default 2)
#   --kib K          KiB of each device's own file and of each round's new file (default 64)
#   --verify N       devices restored and compared (default 100; 0: all)
#   --no-kill        no host is killed
#   --embedded       one host on its embedded defaults (SQLite catalog and pack folder in its
#                    data folder) instead of PostgreSQL + S3; implies --hosts 1 --no-kill
#
# Environment: BENCH_DIR (default /tmp/cradle-bench; the work goes to BENCH_DIR/fleet),
# CRADLE_BIN / CRADLE_REF as for bench/usb.sh (default: the native AOT build of this tree).
set -euo pipefail
export LC_ALL=C DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$here")"
hosts=3
devices=1000
concurrency=100
rounds=2
kib=64
verify=100
kill_one=1
embedded=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --hosts) hosts=${2:?}; shift ;;
    --devices) devices=${2:?}; shift ;;
    --concurrency) concurrency=${2:?}; shift ;;
    --rounds) rounds=${2:?}; shift ;;
    --kib) kib=${2:?}; shift ;;
    --verify) verify=${2:?}; shift ;;
    --no-kill) kill_one=0 ;;
    --embedded) embedded=1 ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "fleet.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
if [[ $embedded == 1 ]]; then
  hosts=1
  kill_one=0
fi

# shellcheck source=bench/links_common.sh
source "$here/links_common.sh"
bench_dir_checked
W="$BENCH_DIR/fleet"
LOGS="$W/logs"
RUN="$W/run"
rm -rf "$RUN" "$LOGS"
mkdir -p "$LOGS" "$RUN"
cradle_binary
say "building the fleet load driver"
flock "${CRADLE_CPU_LOCK:-/tmp/cradle-cpu.lock}" dotnet build "$repo/bench/Cradle.FleetLoad" -c Release -v quiet -nologo >"$LOGS/build.log" 2>&1 \
  || { tail -30 "$LOGS/build.log" >&2; die "dotnet build (log: $LOGS/build.log)"; }
DRIVER="$repo/bench/Cradle.FleetLoad/bin/Release/net10.0/Cradle.FleetLoad.dll"

host_pids=()
sampler=""
cleanup() {
  [[ -n "$sampler" ]] && kill "$sampler" 2>/dev/null || true
  for pid in "${host_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${host_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  [[ -d "$RUN/pg" ]] && "$repo/tests/postgres.sh" stop "$RUN/pg" >/dev/null 2>&1 || true
  [[ -d "$RUN/rgw" ]] && "$repo/tests/scripts/rgw.sh" stop "$RUN/rgw" >/dev/null 2>&1 || true
}
trap cleanup EXIT

# CPU seconds (user + system, and with C the reaped children's too) of a process now.
cpu() { awk -v clk="$(getconf CLK_TCK)" -v c="${2:-}" '{ sub(/.*\) /, ""); t = $12 + $13; if (c) t += $14 + $15; printf "%.2f", t / clk }' "/proc/$1/stat"; }

if [[ $embedded == 1 ]]; then
  shared=()
  pg_pid=""
  ceph_pids=""
else
  say "starting PostgreSQL and Ceph RGW"
  pg_port=$("$repo/tests/postgres.sh" start "$RUN/pg")
  pg_pid=$(head -1 "$RUN/pg/data/postmaster.pid")
  "$("$repo/tests/postgres.sh" bindir)/psql" -h 127.0.0.1 -p "$pg_port" -U cradle -d postgres -qc "CREATE DATABASE fleet" >/dev/null
  catalog="Host=127.0.0.1;Port=$pg_port;Username=cradle;Database=fleet"
  rgw_out=$("$repo/tests/scripts/rgw.sh" start "$RUN/rgw")
  endpoint=$(sed -n 's/^endpoint=//p' <<<"$rgw_out")
  AWS_ACCESS_KEY_ID=$(sed -n 's/^access_key=//p' <<<"$rgw_out")
  AWS_SECRET_ACCESS_KEY=$(sed -n 's/^secret_key=//p' <<<"$rgw_out")
  export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_EC2_METADATA_DISABLED=true
  curl -sSf --aws-sigv4 "aws:amz:us-east-1:s3" --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" -X PUT "$endpoint/fleet" >/dev/null \
    || die "cannot create the bucket at $endpoint"
  packs="s3://fleet?endpoint=$endpoint"
  ceph_pids=$(cat "$RUN"/rgw/run/*.pid)
  shared=(--catalog "$catalog" --packs "$packs")
fi

say "starting $hosts hosts"
addresses=()
for h in $(seq 0 $((hosts - 1))); do
  "$CRADLE" host run --data "$RUN/host-$h" --listen 127.0.0.1:0 --http off --name depot --auto-approve "${shared[@]}" >"$LOGS/host-$h.log" 2>&1 &
  host_pids+=($!)
  for _ in $(seq 300); do grep -q "listening on" "$LOGS/host-$h.log" && break; sleep 0.1; done
  address=$(sed -n 's/.*listening on \([0-9.]*:[0-9]*\).*/\1/p' "$LOGS/host-$h.log" | head -1)
  [[ -n "$address" ]] || { cat "$LOGS/host-$h.log" >&2; die "host $h did not start"; }
  addresses+=("$address")
done
sleep 1 # the first catalog connections made

# The hosts' CPU and peak RSS, sampled while they live (the killed one's last sample stands).
( while true; do
    for h in "${!host_pids[@]}"; do
      pid=${host_pids[$h]}
      [[ -r /proc/$pid/stat ]] || continue
      hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status" 2>/dev/null) || continue
      t=$(cpu "$pid" 2>/dev/null) || continue
      [[ -n "$hwm" ]] && echo "$t $hwm" >"$RUN/sample-$h"
    done
    sleep 0.5
  done ) &
sampler=$!

pg_before=0
[[ -n "$pg_pid" ]] && pg_before=$(cpu "$pg_pid" C)
ceph_before=0
for pid in $ceph_pids; do ceph_before=$(awk -v a="$ceph_before" -v b="$(cpu "$pid")" 'BEGIN { print a + b }'); done
kill_args=()
if [[ $kill_one == 1 && $hosts -gt 1 ]]; then
  kill_args=(--kill-after $((devices * rounds / 3)) --kill-pid "${host_pids[0]}")
fi
say "running $devices devices, $concurrency sessions at once, $rounds backups each, $kib KiB per file, through ${addresses[*]}"
start=$(date +%s.%N)
dotnet "$DRIVER" --hosts "$(IFS=,; echo "${addresses[*]}")" --devices "$devices" --concurrency "$concurrency" \
  --rounds "$rounds" --kib "$kib" --folder "$RUN/devices" --report "$RUN/devices.tsv" "${kill_args[@]}" >"$LOGS/driver.log" 2>&1 &
driver=$!
driver_cpu=0
while kill -0 "$driver" 2>/dev/null; do driver_cpu=$(cpu "$driver" 2>/dev/null || echo "$driver_cpu"); sleep 0.5; done
wait "$driver" || { tail -20 "$LOGS/driver.log" >&2; die "devices failed (log: $LOGS/driver.log)"; }
end=$(date +%s.%N)
kill "$sampler" 2>/dev/null || true; wait "$sampler" 2>/dev/null || true; sampler=""

# Stop the live hosts so their PostgreSQL backends end and are counted in the postmaster's children.
for pid in "${host_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
for pid in "${host_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
sleep 1
pg_cpu="n/a (SQLite in the host)"
[[ -n "$pg_pid" ]] && pg_cpu=$(awk -v a="$pg_before" -v b="$(cpu "$pg_pid" C)" 'BEGIN { printf "%.1f", b - a }')
ceph_after=0
for pid in $ceph_pids; do ceph_after=$(awk -v a="$ceph_after" -v b="$(cpu "$pid")" 'BEGIN { print a + b }'); done
ceph_cpu=$(awk -v a="$ceph_before" -v b="$ceph_after" 'BEGIN { printf "%.1f", b - a }')
[[ $embedded == 1 ]] && ceph_cpu="n/a (packs in the host's folder)"

grep -E "^(prepared|killed|devices)" "$LOGS/driver.log"
for h in "${!host_pids[@]}"; do
  read -r t hwm <"$RUN/sample-$h"
  served=$(grep -c "snapshot [0-9]* committed" "$LOGS/host-$h.log" || true)
  state=live; [[ ${kill_args[3]:-} == "${host_pids[$h]}" ]] && state="killed"
  printf 'host %d (%s): %d sessions committed, VmHWM %d MiB, CPU %.1f s\n' "$h" "$state" "$served" $((hwm / 1024)) "$t"
done
printf 'CPU seconds: devices (driver) %.1f, hosts %.1f, PostgreSQL %s, Ceph (radosgw + osd + mon) %s; wall %.1f s on %d cores\n' \
  "$driver_cpu" "$(cat "$RUN"/sample-* | awk '{ s += $1 } END { print s }')" "$pg_cpu" "$ceph_cpu" "$(awk -v a="$start" -v b="$end" 'BEGIN { print b - a }')" "$(nproc)"

# Check and restore through a data folder other than the hosts' (the catalog and packs are shared),
# or through the one host's folder when they are embedded there.
reader="$RUN/host-1"
[[ $embedded == 1 ]] && reader="$RUN/host-0"
say "check --read-data on the catalog and packs"
"$CRADLE" host check --read-data --data "$reader" "${shared[@]}" >"$LOGS/check.log" 2>&1 || { tail -20 "$LOGS/check.log" >&2; die "check failed"; }
tail -1 "$LOGS/check.log"

total=$(wc -l <"$RUN/devices.tsv")
[[ $verify == 0 || $verify -gt $total ]] && verify=$total
say "restoring $verify of $total devices' latest snapshots and comparing them byte for byte"
step=$(( total / verify ))
checked=0
while IFS=$'\t' read -r name data latest _; do
  target="$RUN/restored/$name"
  "$CRADLE" host restore "$name" --to "$target" --data "$reader" "${shared[@]}" >"$LOGS/restore.log" 2>&1 \
    || { cat "$LOGS/restore.log" >&2; die "restore of $name failed"; }
  diff -r "$data" "$target"/*/ >/dev/null || die "the restore of $name (snapshot $latest) differs from its data"
  rm -rf "$target"
  checked=$((checked + 1))
done < <(awk -v step="$step" 'NR % step == 1 || step == 1' "$RUN/devices.tsv" | head -"$verify")
echo "verified: $checked devices restored identical (every ${step}th of $total), check --read-data passed"
