#!/usr/bin/env bash
# Two cradle executables side by side, alternating, on the same data sets: for phase-2 work (is
# a change faster on every set?) without the peers of compare.sh. Per set and round, A and B in
# turn (the order alternating), each on new file systems (as compare.sh: data copied into a new
# loop-mounted ext4, the host's folder and device state in another, restores into a third),
# each cradle process in a network namespace of this script's own, `sync` before each command:
#   first     the first backup (wall, device and host CPU and peak RSS, wire, repository size)
#   changed   after bench/change_dataset.py (the same measures)
#   restore   `cradle host restore` of the latest backup into an empty file system, verified
#   wire      `cradle device restore` of it over TCP onto a new device (a guest the operator
#             allowed) in an empty file system, verified (device and host CPU, peak RSS)
#
#   sudo bench/ab.sh A_CRADLE B_CRADLE [--sets LIST] [--rounds N] [--scale F] [--seed N] [--no-wire]
#
#   --sets LIST   data sets (bench/shapes.py; default handheld,small,large)
#   --rounds N    rounds per set (default 3): medians and ranges of each build
#   --scale F     the sets' scale (default 1)
#   --seed N      the sets' seed (default 42; the change uses N+1)
#   --no-wire     leave out the restore over the wire
#
# Environment: BENCH_DIR (default /tmp/cradle-bench; this run in BENCH_DIR/ab, deleted first, its
# report BENCH_DIR/ab/results.md), CRADLE_CPU_LOCK (held through each round). Needs root.
set -euo pipefail
export LC_ALL=C

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$here")"
[[ $# -ge 2 && $1 != -* && $2 != -* ]] || { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 2; }
A=$(realpath "$1"); B=$(realpath "$2"); shift 2
sets="handheld,small,large"
rounds=3
scale=1
seed=42
wire=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --sets) sets=${2:?}; shift ;;
    --rounds) rounds=${2:?}; shift ;;
    --scale) scale=${2:?}; shift ;;
    --seed) seed=${2:?}; shift ;;
    --no-wire) wire=0 ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "ab.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
[[ $(id -u) -eq 0 ]] || { echo "ab.sh: needs root (loop mounts, a network namespace)" >&2; exit 2; }
[[ -x "$A" && -x "$B" ]] || { echo "ab.sh: give two cradle executables" >&2; exit 2; }
IFS=, read -r -a set_list <<<"$sets"

# shellcheck source=bench/links_common.sh
source "$here/links_common.sh"
bench_dir_checked
W="$BENCH_DIR/ab"
rm -rf "$W"
mkdir -p "$W/logs"
LOGS="$W/logs"
MEAS="$W/measurements.tsv"
apt_need /usr/bin/time:time mkfs.ext4:e2fsprogs ip:iproute2 python3:python3

host_pid=""
NS=""
cleanup() { stop_pid "$host_pid"; drop_all_fs; [[ -n "$NS" ]] && ip netns delete "$NS" 2>/dev/null; return 0; }
trap cleanup EXIT
trap 'exit 130' INT TERM
make_lo_ns
printf 'set\tround\tbuild\tphase\trc\twall\tcpu_device\tcpu_host\trss_device\trss_host\twire\trepo\n' >"$MEAS"

measure() { # BUILD PHASE CRADLE ARGS...: one measured command in the namespace
  local build=$1 phase=$2 tag="$SET-$ROUND-$1-$2" h0=0 h1=0 hwm=- rc u s wall rss wire=-
  shift 2
  if [[ -n "$host_pid" ]]; then echo 5 >"/proc/$host_pid/clear_refs"; h0=$(proc_cpu "$host_pid"); fi
  sync
  set +e
  /usr/bin/time -f '%e %U %S %M' -o "$LOGS/$tag.time" ip netns exec "$NS" "$@" >"$LOGS/$tag.out" 2>"$LOGS/$tag.err"
  rc=$?
  set -e
  if [[ -n "$host_pid" ]]; then h1=$(proc_cpu "$host_pid"); hwm=$(awk '/^VmHWM/ { print $2 }' "/proc/$host_pid/status"); fi
  read -r wall u s rss < <(tail -n1 "$LOGS/$tag.time")
  [[ $rc -eq 0 ]] || { say "  $tag exited with $rc"; tail -3 "$LOGS/$tag.err" | sed 's/^/    /' >&2; }
  [[ $phase == restore || $phase == wire ]] || wire=$(python3 -c 'import json, sys; j = json.load(open(sys.argv[1])); print(j["wireBytesSent"] + j["wireBytesReceived"])' "$LOGS/$tag.out" 2>/dev/null || echo -)
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$SET" "$ROUND" "$build" "$phase" "$rc" "$wall" \
    "$(awk -v a="$u" -v b="$s" 'BEGIN { printf "%.2f", a + b }')" "$(awk -v a="$h0" -v b="$h1" 'BEGIN { printf "%.2f", b - a }')" \
    "$rss" "$hwm" "$wire" "$(du -sb "$CR/host" | cut -f1)" >>"$MEAS"
}

one() { # BUILD CRADLE
  local build=$1 cradle=$2 caps dfs
  caps=$((SET_FILES * 2 + 20000))
  fresh_fs "ab-$SET-data" "$(fs_size_for "$SET_BYTES" 1.6 "$SET_FILES")" "$caps"; dfs=$FS
  copy_set "$dfs"
  fresh_fs "ab-$SET-$build" "$(fs_size_for "$SET_BYTES" 1.7 "$SET_FILES")" "$caps"; CR=$FS
  ip netns exec "$NS" "$cradle" host run --data "$CR/host" --listen 127.0.0.1:0 --http off --auto-approve >"$LOGS/$SET-$ROUND-$build.host" 2>&1 &
  host_pid=$!
  wait_listening "$LOGS/$SET-$ROUND-$build.host" "$host_pid"
  "$cradle" device init --name BENCH --folder "$DATA" --state "$CR/device" >/dev/null || die "device init"
  warm "$DATA"
  measure "$build" first "$cradle" device connect --host "${LISTEN%% *}" --once --accept-new-host any --state "$CR/device" --json
  local change_args=(); [[ $SET == mix ]] || change_args=(--shape "$SET")
  python3 "$here/change_dataset.py" $((seed + 1)) "$DATA" "${change_args[@]}" >/dev/null
  warm "$DATA"
  measure "$build" changed "$cradle" device connect --host "${LISTEN%% *}" --once --accept-new-host any --state "$CR/device" --json
  if [[ $wire -eq 1 ]]; then
    # A new device (its data folder named as the set's, so the snapshot's paths fit), allowed once.
    fresh_fs "ab-$SET-$build-wire" "$(fs_size_for "$SET_BYTES" 1.3 "$SET_FILES")" "$caps"
    local g="$FS/g/$(basename "$DATA")"
    mkdir -p "$g"
    "$cradle" device init --name GUEST --folder "$g" --state "$FS/g.state" >/dev/null || die "device init GUEST"
    "$cradle" host allow-restore BENCH --to GUEST --data "$CR/host" >/dev/null || die "host allow-restore"
    measure "$build" wire "$cradle" device restore --state "$FS/g.state" --host "${LISTEN%% *}" --from BENCH --json
    python3 "$here/verify_tree.py" "$DATA" "$g" >"$LOGS/$SET-$ROUND-$build.wire.verify" 2>&1 \
      || { say "  $build's restore over the wire does not match"; head -3 "$LOGS/$SET-$ROUND-$build.wire.verify" >&2; exit 1; }
    drop_fs "$FS"
  fi
  local p=$host_pid; host_pid=""; stop_pid "$p"
  fresh_fs "ab-$SET-$build-restore" "$(fs_size_for "$SET_BYTES" 1.3 "$SET_FILES")" "$caps"
  measure "$build" restore "$cradle" host restore BENCH --to "$FS/r" --data "$CR/host"
  python3 "$here/verify_tree.py" "$DATA" "$FS/r/$(basename "$DATA")" >"$LOGS/$SET-$ROUND-$build.verify" 2>&1 \
    || { say "  $build's restore does not match"; head -3 "$LOGS/$SET-$ROUND-$build.verify" >&2; exit 1; }
  drop_fs "$FS"; drop_fs "$CR"; drop_fs "$dfs"
}

for SET in "${set_list[@]}"; do
  cpu_lock
  pristine_set "$SET" "$seed" "$scale"
  cpu_unlock
  for ROUND in $(seq 1 "$rounds"); do
    cpu_lock
    say "== $SET round $ROUND"
    if [[ $((ROUND % 2)) -eq 1 ]]; then one A "$A"; one B "$B"; else one B "$B"; one A "$A"; fi
    cpu_unlock
  done
done

python3 - "$MEAS" "$A" "$B" <<'EOF' | tee "$W/results.md"
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
print(f"# A = {sys.argv[2]}, B = {sys.argv[3]}\n")
print("| set | phase | A wall s | B wall s | B ÷ A wall | A CPU s device + host | B CPU s device + host | A / B peak RSS MiB device, host | A / B wire MiB | A / B repo MiB |")
print("|---|---|---:|---:|---:|---:|---:|---|---|---|")
def m(rs, k):
    v = [float(r[k]) for r in rs if r[k] not in ("-", "")]
    return (statistics.median(v), min(v), max(v)) if v else None
def f(x, d=2):
    return "—" if x is None else (f"{x[0]:.{d}f}" if x[1] == x[2] else f"{x[0]:.{d}f} ({x[1]:.{d}f}–{x[2]:.{d}f})")
for s in dict.fromkeys(r["set"] for r in rows):
    for phase in ("first", "changed", "restore", "wire"):
        a = [r for r in rows if r["set"] == s and r["phase"] == phase and r["build"] == "A" and r["rc"] == "0"]
        b = [r for r in rows if r["set"] == s and r["phase"] == phase and r["build"] == "B" and r["rc"] == "0"]
        if not a or not b:
            continue
        wa, wb = m(a, "wall"), m(b, "wall")
        cpu = lambda rs: f"{m(rs, 'cpu_device')[0]:.2f} + {m(rs, 'cpu_host')[0]:.2f}"
        rss = lambda rs, k: max(float(r[k]) for r in rs if r[k] != "-") / 1024 if any(r[k] != "-" for r in rs) else 0
        mib = lambda rs, k: "—" if m(rs, k) is None else f"{m(rs, k)[0] / 1048576:.1f}"
        print(f"| {s} | {phase} | {f(wa)} | {f(wb)} | {wb[0] / wa[0]:.2f}× | {cpu(a)} | {cpu(b)} | "
              f"{rss(a, 'rss_device'):.0f}, {rss(a, 'rss_host'):.0f} / {rss(b, 'rss_device'):.0f}, {rss(b, 'rss_host'):.0f} | "
              f"{mib(a, 'wire')} / {mib(b, 'wire')} | {mib(a, 'repo')} / {mib(b, 'repo')} |")
EOF
