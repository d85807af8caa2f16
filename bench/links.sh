#!/usr/bin/env bash
# The links handhelds use, shaped: the device in a network namespace of its own, joined to the
# host's namespace by a veth pair shaped with `tc tbf` (netem is not in every kernel) to USB 1.1
# RNDIS's rate (8 Mbit/s) and USB 2.0's (100 Mbit/s of real RNDIS throughput). On each link and
# each data set: Cradle's first backup and its backup after the change, against rsync -z pulling
# from an rsync daemon in the device's namespace over the same link, with the bytes each put on
# the link.
#
#   sudo bench/links.sh [--rates LIST] [--sets LIST] [--runs N] [--scales LIST] [--seed N]
#
#   --rates LIST    comma-separated rates in Mbit/s (default 8,100)
#   --sets LIST     data sets (bench/shapes.py; default handheld,small,large)
#   --runs N        runs per rate and set (default 3): medians and ranges
#   --scales LIST   the sets' scale for each rate, in the order of --rates (default 0.1,1: at
#                   8 Mbit/s the ~500 MiB sets would take 7-9 minutes a backup, so that link gets
#                   sets a tenth the size; the time scales with the bytes)
#   --seed N        the sets' seed (default 42; the change uses N+1)
#
# Environment: BENCH_DIR (default /tmp/cradle-bench; data sets in BENCH_DIR/data, this run in
# BENCH_DIR/links/shaped, its report BENCH_DIR/links/shaped/results.md), CRADLE_BIN, CRADLE_REF, CRADLE_CPU_LOCK
# (as for compare.sh).
#
# Needs root. Makes, and deletes on exit: namespaces cradle-lh<pid> (host) and cradle-ld<pid>
# (device), each with lo up; the veth pair lh<pid> (host end, 169.254.2.2/24) and ld<pid>
# (device end, 169.254.2.1/24, the addresses Windows Mobile Device Center used); on both ends
# `tc qdisc replace dev IFACE root tbf rate RATEmbit burst B latency 50ms` (B: 1/100 s of the
# rate, at least 16 KiB); loop-mounted file systems as compare.sh makes them. Installs rsync,
# e2fsprogs, iproute2 and time with apt-get when missing.
#
# Per run (holding the CPU lock from start to end): the data set copied into a new file system;
# new file systems for Cradle's host folder and device state and for rsync's copy; then, the
# tools' order alternating from run to run:
#   Cradle   `cradle host run --usb <host end>` in the host namespace; `cradle device init`;
#            `cradle device connect --usb <device end> --once --json` in the device namespace
#            under /usr/bin/time (a USB partnership: no approval)
#   rsync -z `rsync --daemon` in the device namespace serving the data set; in the host
#            namespace `rsync -az --delete --stats rsync://169.254.2.1/data/ COPY/` under
#            /usr/bin/time (the host pulls, as a backup server pulls from an rsync daemon)
# first backup, then bench/change_dataset.py, then the backup after the change. Bytes on the link:
# what tbf let out of the device end (every segment's Ethernet, IP and TCP headers included) and
# of the host end.
set -euo pipefail
export LC_ALL=C DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$here")"
rates="8,100"
scales="0.1,1"
sets="handheld,small,large"
runs=3
seed=42
while [[ $# -gt 0 ]]; do
  case "$1" in
    --rates) rates=${2:?}; shift ;;
    --scales) scales=${2:?}; shift ;;
    --sets) sets=${2:?}; shift ;;
    --runs) runs=${2:?}; shift ;;
    --seed) seed=${2:?}; shift ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "links.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
[[ $(id -u) -eq 0 ]] || { echo "links.sh: needs root (network namespaces, tc, loop mounts)" >&2; exit 2; }
IFS=, read -r -a rate_list <<<"$rates"
IFS=, read -r -a scale_list <<<"$scales"
IFS=, read -r -a set_list <<<"$sets"
[[ ${#scale_list[@]} -eq ${#rate_list[@]} ]] || { echo "links.sh: give one scale per rate (--scales)" >&2; exit 2; }

# shellcheck source=bench/links_common.sh
source "$here/links_common.sh"
bench_dir_checked
W="$BENCH_DIR/links/shaped"
rm -rf "$W"
mkdir -p "$W/logs"
LOGS="$W/logs"
MEAS="$W/measurements.tsv"
apt_need rsync:rsync /usr/bin/time:time tc:iproute2 mkfs.ext4:e2fsprogs python3:python3

HNS="cradle-lh$$"
DNS="cradle-ld$$"
HIF="lh$$"
DIF="ld$$"
made_ns=()
host_pid=""
rsyncd_pid=""
cleanup() {
  stop_pid "$host_pid"
  if [[ -n "$rsyncd_pid" ]]; then
    [[ -s "$W/rsyncd.pid" ]] && kill "$(cat "$W/rsyncd.pid")" 2>/dev/null
    wait "$rsyncd_pid" 2>/dev/null
  fi
  drop_all_fs
  local ns
  for ns in "${made_ns[@]}"; do ip netns delete "$ns" 2>/dev/null || say "could not delete namespace $ns"; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cradle_binary

say "making namespaces $HNS, $DNS and the veth pair $HIF <-> $DIF"
ip netns add "$HNS"; made_ns+=("$HNS")
ip netns add "$DNS"; made_ns+=("$DNS")
ip link add "$HIF" type veth peer name "$DIF"
ip link set "$HIF" netns "$HNS"
ip link set "$DIF" netns "$DNS"
ip -n "$HNS" addr add 169.254.2.2/24 dev "$HIF"
ip -n "$DNS" addr add 169.254.2.1/24 dev "$DIF"
ip -n "$HNS" link set lo up
ip -n "$DNS" link set lo up
ip -n "$HNS" link set "$HIF" up
ip -n "$DNS" link set "$DIF" up
shape() { # RATE_MBIT
  local burst_kb=$(( $1 * 1000000 / 8 / 100 / 1024 ))
  [[ $burst_kb -ge 16 ]] || burst_kb=16
  ip netns exec "$HNS" tc qdisc replace dev "$HIF" root tbf rate "$1mbit" burst "${burst_kb}kb" latency 50ms
  ip netns exec "$DNS" tc qdisc replace dev "$DIF" root tbf rate "$1mbit" burst "${burst_kb}kb" latency 50ms
  SHAPE_DESC="tbf rate $1mbit burst ${burst_kb}kb latency 50ms"
}
tbf_sent() { ip netns exec "$1" tc -s qdisc show dev "$2" | awk '$1 == "Sent" { print $2; exit }'; }

printf 'rate\tset\trun\tphase\ttool\tstatus\twall\tcpu_device\tcpu_host\trss_device\trss_host\twire_tool\tlink_d2h\tlink_h2d\tnote\n' >"$MEAS"
failures=0
record() { local IFS=$'\t'; echo "$*" >>"$MEAS"; [[ "$6" == ok ]] || failures=$((failures + 1)); }

# measure TAG NS CMD...: `sync`, then CMD in namespace NS under /usr/bin/time; sets T_* as in
# compare.sh and L_D2H / L_H2D, the bytes tbf let out of each end meanwhile.
measure() {
  local tag=$1 ns=$2 d0 h0 u s
  shift 2
  sync
  d0=$(tbf_sent "$DNS" "$DIF"); h0=$(tbf_sent "$HNS" "$HIF")
  set +e
  /usr/bin/time -f '%e %U %S %M' -o "$LOGS/$tag.time" ip netns exec "$ns" "$@" >"$LOGS/$tag.out" 2>"$LOGS/$tag.err"
  T_RC=$?
  set -e
  L_D2H=$(( $(tbf_sent "$DNS" "$DIF") - d0 )); L_H2D=$(( $(tbf_sent "$HNS" "$HIF") - h0 ))
  read -r T_WALL u s T_RSS < <(tail -n1 "$LOGS/$tag.time")
  T_CPU=$(awk -v a="$u" -v b="$s" 'BEGIN { printf "%.2f", a + b }')
  [[ $T_RC -eq 0 ]] || { say "  $tag exited with $T_RC"; tail -5 "$LOGS/$tag.err" | sed 's/^/    /' >&2; }
}

cradle_backup() { # RATE PHASE
  local tag="$RUN_TAG-$2-cradle" h0 h1 status=ok wire note
  echo 5 >"/proc/$host_pid/clear_refs"
  h0=$(proc_cpu "$host_pid")
  measure "$tag" "$DNS" "$CRADLE" device connect --state "$CR/device" --usb "$DIF" --once --json
  h1=$(proc_cpu "$host_pid")
  [[ $T_RC -eq 0 ]] || status="failed($T_RC)"
  IFS=$'\t' read -r wire note < <(python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
print("%d\tread %d files, %.1f MiB; %d chunks sent; %.2f s by its own clock" % (j["wireBytesSent"] + j["wireBytesReceived"], j["filesRead"], j["bytesRead"] / 1048576, j["chunksSent"], j["seconds"]))
' "$LOGS/$tag.out" 2>/dev/null || printf -- '-\tno JSON from the device\n')
  record "$1" "$SET" "$RUN" "$2" cradle "$status" "$T_WALL" "$T_CPU" "$(awk -v a="$h0" -v b="$h1" 'BEGIN { printf "%.2f", b - a }')" \
    "$T_RSS" "$(awk '/^VmHWM/ { print $2 }' "/proc/$host_pid/status")" "$wire" "$L_D2H" "$L_H2D" "$note"
}

rsync_backup() { # RATE PHASE
  local tag="$RUN_TAG-$2-rsync-z" status=ok dt u s drss
  # A new daemon per command, so that its CPU and peak RSS are this command's.
  /usr/bin/time -f '%e %U %S %M' -o "$LOGS/$tag.daemon.time" ip netns exec "$DNS" rsync --daemon --no-detach --config="$W/rsyncd.conf" >"$LOGS/$tag.daemon.log" 2>&1 &
  rsyncd_pid=$!
  local i
  for i in $(seq 1 100); do ip netns exec "$DNS" grep -q "0102FEA9:0369 00000000:0000 0A" /proc/net/tcp && break; sleep 0.05; done
  measure "$tag" "$HNS" rsync -az --delete --stats "rsync://169.254.2.1/data/" "$RS/tree/"
  sleep 0.2
  kill -TERM "$(cat "$W/rsyncd.pid")" 2>/dev/null || true
  wait "$rsyncd_pid" || true
  rsyncd_pid=""
  read -r dt u s drss < <(tail -n1 "$LOGS/$tag.daemon.time")
  [[ $T_RC -eq 0 ]] || status="failed($T_RC)"
  local wire
  wire=$(awk -F': ' '/^Total bytes sent:/ { gsub(/,/, "", $2); s = $2 } /^Total bytes received:/ { gsub(/,/, "", $2); r = $2 } END { print s + r }' "$LOGS/$tag.out")
  record "$1" "$SET" "$RUN" "$2" rsync-z "$status" "$T_WALL" "$(awk -v a="$u" -v b="$s" 'BEGIN { printf "%.2f", a + b }')" "$T_CPU" \
    "$drss" "$T_RSS" "$wire" "$L_D2H" "$L_H2D" \
    "$(awk -F': ' '/^Number of regular files transferred:/ { f = $2 } /^Literal data:/ { l = $2 } END { printf "%s files transferred, literal data %s", f, l }' "$LOGS/$tag.out")"
}

one_run() { # RATE SET RUN
  RUN_TAG="$1m-$2-r$3"
  local caps order t
  caps=$((SET_FILES * 2 + 20000))
  fresh_fs "$RUN_TAG-data" "$(fs_size_for "$SET_BYTES" 1.6 "$SET_FILES")" "$caps"; local dfs=$FS
  copy_set "$dfs"
  fresh_fs "$RUN_TAG-cradle" "$(fs_size_for "$SET_BYTES" 1.7 "$SET_FILES")" "$caps"; CR=$FS
  fresh_fs "$RUN_TAG-rsync" "$(fs_size_for "$SET_BYTES" 1.7 "$SET_FILES")" "$caps"; RS=$FS
  mkdir -p "$RS/tree"
  printf 'pid file = %s\naddress = 169.254.2.1\nuse chroot = no\nuid = root\ngid = root\n[data]\n  path = %s\n  read only = true\n' \
    "$W/rsyncd.pid" "$DATA" >"$W/rsyncd.conf"
  ip netns exec "$HNS" "$CRADLE" host run --data "$CR/host" --listen 127.0.0.1:0 --http off --usb "$HIF" >"$LOGS/$RUN_TAG.host" 2>&1 &
  host_pid=$!
  wait_listening "$LOGS/$RUN_TAG.host" "$host_pid"
  for _ in $(seq 1 100); do grep -q 'is up: listening on' "$LOGS/$RUN_TAG.host" && break; sleep 0.1; done
  "$CRADLE" device init --name BENCH --folder "$DATA" --state "$CR/device" >"$LOGS/$RUN_TAG.init" 2>&1 || die "device init"
  warm "$DATA"
  order=(cradle rsync-z); [[ $(( $3 % 2 )) -eq 0 ]] && order=(rsync-z cradle)
  for t in "${order[@]}"; do say "  first backup: $t"; if [[ $t == cradle ]]; then cradle_backup "$1" first; else rsync_backup "$1" first; fi; done
  local change_args=(); [[ $SET == mix ]] || change_args=(--shape "$SET")
  python3 "$here/change_dataset.py" $((seed + 1)) "$DATA" "${change_args[@]}" >"$W/$SET-$1.change.txt" || die "change_dataset.py"
  warm "$DATA"
  for t in "${order[@]}"; do say "  after the change: $t"; if [[ $t == cradle ]]; then cradle_backup "$1" changed; else rsync_backup "$1" changed; fi; done
  local p=$host_pid; host_pid=""; stop_pid "$p"
  drop_fs "$RS"; drop_fs "$CR"; drop_fs "$dfs"
}

started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
for i in "${!rate_list[@]}"; do
  rate=${rate_list[$i]}
  shape "$rate"
  echo "$rate	$SHAPE_DESC	${scale_list[$i]}" >>"$W/shapes.tsv"
  for SET in "${set_list[@]}"; do
    cpu_lock  # writing a set is CPU work too
    pristine_set "$SET" "$seed" "${scale_list[$i]}"
    cpu_unlock
    echo "$SET_DESC" >"$W/$SET-$rate.desc.txt"
    for RUN in $(seq 1 "$runs"); do
      cpu_lock
      say "== $rate Mbit/s, $SET, run $RUN of $runs (load average $(cut -d' ' -f1-3 /proc/loadavg))"
      echo "$rate Mbit/s $SET run $RUN: load average $(cut -d' ' -f1-3 /proc/loadavg) at the start" >>"$W/loads.txt"
      one_run "$rate" "$SET" "$RUN"
      cpu_unlock
    done
  done
done

{
  echo "# Shaped links: Cradle against rsync -z"
  echo
  echo "Run $started – $(date -u +%Y-%m-%dT%H:%M:%SZ) by \`bench/links.sh --rates $rates --scales $scales --sets $sets --runs $runs --seed $seed\`; cradle $CRADLE_REV (native AOT); $(rsync --version | head -1 | sed 's/  */ /g'); kernel $(uname -r); $(nproc) CPUs."
  echo
  python3 "$here/links_report.py" "$MEAS" "$W"
  echo "Load averages:"
  echo
  echo '```'
  cat "$W/loads.txt"
  echo '```'
  echo
  echo "Logs and raw figures: $LOGS, $MEAS."
} >"$W/results.md"
cat "$W/results.md"
[[ $failures -eq 0 ]] || { say "$failures measurements failed"; exit 1; }
