#!/usr/bin/env bash
# The restore over the wire of two cradle executables, alternating, on the same repository: one
# first backup per set (made by B: the backup path is not what is compared), then per round a
# `cradle device restore` onto a new device (a guest the operator allowed) into a fresh
# loop-mounted ext4, with A's host and with B's host in turn (the order alternating), `sync`
# before each, verified against the set (bench/verify_tree.py). For changes that touch only the
# restore: ab.sh backs up anew for every build and round.
#
#   sudo bench/ab_wire.sh A_CRADLE B_CRADLE [--sets LIST] [--rounds N] [--scale F] [--seed N] [--parallel K]
#
#   --parallel K   also, per round and build, K restores over the wire at once through one host
#                  (phase wireK: the wall from the first start to the last end, the host's CPU and
#                  peak RSS, the largest device RSS; every tree verified)
#
# Environment: BENCH_DIR (this run in BENCH_DIR/abw, deleted first; report BENCH_DIR/abw/results.md),
# CRADLE_CPU_LOCK (held through each set: its backup and all its rounds). Needs root.
set -euo pipefail
export LC_ALL=C
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$here")"
[[ $# -ge 2 && $1 != -* && $2 != -* ]] || { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 2; }
A=$(realpath "$1"); B=$(realpath "$2"); shift 2
sets="handheld,small,large"; rounds=3; scale=1; seed=42; parallel=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --sets) sets=${2:?}; shift ;;
    --rounds) rounds=${2:?}; shift ;;
    --scale) scale=${2:?}; shift ;;
    --seed) seed=${2:?}; shift ;;
    --parallel) parallel=${2:?}; shift ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "ab_wire.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
[[ $(id -u) -eq 0 ]] || { echo "ab_wire.sh: needs root (loop mounts, a network namespace)" >&2; exit 2; }
IFS=, read -r -a set_list <<<"$sets"
# shellcheck source=bench/links_common.sh
source "$here/links_common.sh"
bench_dir_checked
W="$BENCH_DIR/abw"; rm -rf "$W"; mkdir -p "$W/logs"; LOGS="$W/logs"; MEAS="$W/measurements.tsv"
apt_need /usr/bin/time:time mkfs.ext4:e2fsprogs ip:iproute2 python3:python3
host_pid=""; NS=""
cleanup() { stop_pid "$host_pid"; drop_all_fs; [[ -n "$NS" ]] && ip netns delete "$NS" 2>/dev/null; return 0; }
trap cleanup EXIT
trap 'exit 130' INT TERM
make_lo_ns
printf 'set\tround\tbuild\tphase\trc\twall\tcpu_device\tcpu_host\trss_device\trss_host\n' >"$MEAS"

start_host() { # BUILD CRADLE
  ip netns exec "$NS" "$2" host run --data "$CR/host" --listen 127.0.0.1:0 --http off --auto-approve >"$LOGS/$SET-$ROUND-$1.host" 2>&1 &
  host_pid=$!
  wait_listening "$LOGS/$SET-$ROUND-$1.host" "$host_pid"
}

wire() { # BUILD CRADLE
  local build=$1 cradle=$2 tag="$SET-$ROUND-$1-wire" g h0 h1 hwm rc wall u s rss
  fresh_fs "abw-$SET-$build" "$(fs_size_for "$SET_BYTES" 1.3 "$SET_FILES")" $((SET_FILES * 2 + 20000))
  g="$FS/g/$(basename "$DATA")"; mkdir -p "$g"
  "$cradle" device init --name GUEST --folder "$g" --state "$FS/g.state" >/dev/null || die "device init GUEST"
  "$cradle" host allow-restore BENCH --to GUEST --data "$CR/host" >/dev/null || die "host allow-restore"
  start_host "$build" "$cradle"
  echo 5 >"/proc/$host_pid/clear_refs"; h0=$(proc_cpu "$host_pid")
  sync
  set +e
  /usr/bin/time -f '%e %U %S %M' -o "$LOGS/$tag.time" ip netns exec "$NS" "$cradle" device restore --state "$FS/g.state" --host "${LISTEN%% *}" --from BENCH --json >"$LOGS/$tag.out" 2>"$LOGS/$tag.err"
  rc=$?
  set -e
  h1=$(proc_cpu "$host_pid"); hwm=$(awk '/^VmHWM/ { print $2 }' "/proc/$host_pid/status")
  local p=$host_pid; host_pid=""; stop_pid "$p"
  read -r wall u s rss < <(tail -n1 "$LOGS/$tag.time")
  [[ $rc -eq 0 ]] || { say "  $tag exited with $rc"; tail -3 "$LOGS/$tag.err" >&2; }
  python3 "$here/verify_tree.py" "$DATA" "$g" >"$LOGS/$tag.verify" 2>&1 || { say "  $tag does not match"; head -3 "$LOGS/$tag.verify" >&2; exit 1; }
  printf '%s\t%s\t%s\twire\t%s\t%s\t%s\t%s\t%s\t%s\n' "$SET" "$ROUND" "$build" "$rc" "$wall" \
    "$(awk -v a="$u" -v b="$s" 'BEGIN { printf "%.2f", a + b }')" "$(awk -v a="$h0" -v b="$h1" 'BEGIN { printf "%.2f", b - a }')" "$rss" "$hwm" >>"$MEAS"
  drop_fs "$FS"
}

wire_parallel() { # BUILD CRADLE: $parallel restores at once through one host
  local build=$1 cradle=$2 tag="$SET-$ROUND-$1-wire$parallel" k h0 h1 hwm t0 t1 rc=0 rss=0 r
  fresh_fs "abw-$SET-$build-p" $(( $(fs_size_for "$SET_BYTES" 1.3 "$SET_FILES") * parallel )) $(( (SET_FILES * 2 + 20000) * parallel ))
  for k in $(seq 1 "$parallel"); do
    mkdir -p "$FS/g$k/$(basename "$DATA")"
    "$cradle" device init --name "GUEST$k" --folder "$FS/g$k/$(basename "$DATA")" --state "$FS/g$k.state" >/dev/null || die "device init GUEST$k"
    "$cradle" host allow-restore BENCH --to "GUEST$k" --data "$CR/host" >/dev/null || die "host allow-restore"
  done
  start_host "$build" "$cradle"
  echo 5 >"/proc/$host_pid/clear_refs"; h0=$(proc_cpu "$host_pid")
  sync
  local pids=()
  t0=$(date +%s.%N)
  for k in $(seq 1 "$parallel"); do
    /usr/bin/time -f '%e %U %S %M' -o "$LOGS/$tag-$k.time" ip netns exec "$NS" "$cradle" device restore --state "$FS/g$k.state" --host "${LISTEN%% *}" --from BENCH --json >"$LOGS/$tag-$k.out" 2>"$LOGS/$tag-$k.err" &
    pids+=($!)
  done
  for k in "${!pids[@]}"; do wait "${pids[$k]}" || rc=$?; done
  t1=$(date +%s.%N)
  h1=$(proc_cpu "$host_pid"); hwm=$(awk '/^VmHWM/ { print $2 }' "/proc/$host_pid/status")
  local p=$host_pid; host_pid=""; stop_pid "$p"
  [[ $rc -eq 0 ]] || say "  $tag: a restore exited with $rc"
  for k in $(seq 1 "$parallel"); do
    r=$(awk '{ print $4 }' "$LOGS/$tag-$k.time" | tail -n1); [[ ${r:-0} -gt $rss ]] && rss=$r
    python3 "$here/verify_tree.py" "$DATA" "$FS/g$k/$(basename "$DATA")" >"$LOGS/$tag-$k.verify" 2>&1 || { say "  $tag-$k does not match"; head -3 "$LOGS/$tag-$k.verify" >&2; exit 1; }
  done
  printf '%s	%s	%s	wire%s	%s	%s	-	%s	%s	%s
' "$SET" "$ROUND" "$build" "$parallel" "$rc"     "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')" "$(awk -v a="$h0" -v b="$h1" 'BEGIN { printf "%.2f", b - a }')" "$rss" "$hwm" >>"$MEAS"
  drop_fs "$FS"
}

for SET in "${set_list[@]}"; do
  cpu_lock
  pristine_set "$SET" "$seed" "$scale"
  say "== $SET: the backup (B)"
  fresh_fs "abw-$SET-data" "$(fs_size_for "$SET_BYTES" 1.6 "$SET_FILES")" $((SET_FILES * 2 + 20000)); dfs=$FS
  copy_set "$dfs"
  fresh_fs "abw-$SET-host" "$(fs_size_for "$SET_BYTES" 1.7 "$SET_FILES")" $((SET_FILES * 2 + 20000)); CR=$FS
  ROUND=0; start_host B "$B"
  "$B" device init --name BENCH --folder "$DATA" --state "$CR/device" >/dev/null || die "device init"
  ip netns exec "$NS" "$B" device connect --host "${LISTEN%% *}" --once --accept-new-host any --state "$CR/device" --json >"$LOGS/$SET-backup.out" 2>&1 || die "backup"
  p=$host_pid; host_pid=""; stop_pid "$p"
  for ROUND in $(seq 1 "$rounds"); do
    say "== $SET round $ROUND"
    if [[ $((ROUND % 2)) -eq 1 ]]; then wire A "$A"; wire B "$B"; else wire B "$B"; wire A "$A"; fi
    if [[ $parallel -gt 0 ]]; then
      if [[ $((ROUND % 2)) -eq 1 ]]; then wire_parallel A "$A"; wire_parallel B "$B"; else wire_parallel B "$B"; wire_parallel A "$A"; fi
    fi
  done
  cpu_unlock
  drop_fs "$CR"; drop_fs "$dfs"
done

python3 - "$MEAS" "$A" "$B" <<'PY' | tee "$W/results.md"
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
print(f"# A = {sys.argv[2]}, B = {sys.argv[3]}: restore over the wire\n")
print("| set | phase | A wall s | B wall s | B ÷ A wall | A CPU s device + host | B CPU s device + host | A / B peak RSS MiB device, host |")
print("|---|---|---:|---:|---:|---:|---:|---|")
def m(rs, k):
    v = [float(r[k]) for r in rs if r[k] not in ("-", "")]
    return (statistics.median(v), min(v), max(v)) if v else None
def f(x):
    return "—" if x is None else (f"{x[0]:.2f}" if x[1] == x[2] else f"{x[0]:.2f} ({x[1]:.2f}–{x[2]:.2f})")
for s, ph in dict.fromkeys((r["set"], r["phase"]) for r in rows):
    a = [r for r in rows if r["set"] == s and r["phase"] == ph and r["build"] == "A" and r["rc"] == "0"]
    b = [r for r in rows if r["set"] == s and r["phase"] == ph and r["build"] == "B" and r["rc"] == "0"]
    if not a or not b:
        continue
    cpu = lambda rs: f"{m(rs, 'cpu_device')[0]:.2f} + {m(rs, 'cpu_host')[0]:.2f}" if m(rs, 'cpu_device') else f"— + {m(rs, 'cpu_host')[0]:.2f}"
    rss = lambda rs, k: max(float(r[k]) for r in rs) / 1024
    print(f"| {s} | {ph} | {f(m(a, 'wall'))} | {f(m(b, 'wall'))} | {m(b, 'wall')[0] / m(a, 'wall')[0]:.2f}× | {cpu(a)} | {cpu(b)} | "
          f"{rss(a, 'rss_device'):.0f}, {rss(a, 'rss_host'):.0f} / {rss(b, 'rss_device'):.0f}, {rss(b, 'rss_host'):.0f} |")
PY
