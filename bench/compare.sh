#!/usr/bin/env bash
# Side-by-side benchmark: Cradle (the native AOT executable, device -> host over loopback TCP)
# against rsync (to an rsync daemon on 127.0.0.1, with and without -z) and restic (to a local
# repository), on a deterministic "handheld data" tree.
#
#   bench/compare.sh [--quick] [--small-files [N]] [--seed N]
#
#   --quick           a ~50 MB tree (scale 0.1) instead of ~500 MB: a smoke test in a minute or two
#   --small-files N   a tree of N small files (default 100000; 10000 with --quick) instead of the mix
#   --seed N          the tree's seed (default 42; the change uses N+1)
#
# Environment:
#   BENCH_DIR    work folder (default /tmp/cradle-bench); everything goes into BENCH_DIR/run,
#                which is deleted first; the tables go to BENCH_DIR/results.md
#   CRADLE_BIN   use this cradle executable instead of building one
#   CRADLE_REF   build this git ref of the repository (default: the working tree as it is)
#   KEEP_BUILD   set to keep the temporary build folder (/tmp/cradle-build.*)
#
# Phases, each run for every tool in turn (the order rotates from phase to phase): first
# backup, unchanged re-run, backup after bench/change_dataset.py, restore of the latest
# backup into an empty folder, checked by bench/verify_tree.py. The Cradle host is started
# fresh before the first backup and runs until the three backups are done. The rsync daemon
# is started fresh around each rsync command, so that its CPU and peak RSS are that command's.
# Installs what is missing with apt-get (rsync, restic, time, zstd). Talks only to 127.0.0.1.
set -euo pipefail
export LC_ALL=C DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$here")"
quick=0
small=0
seed=42
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) quick=1 ;;
    --small-files)
      if [[ $# -gt 1 && "$2" =~ ^[0-9]+$ ]]; then small=$2; shift; else small=-1; fi ;;
    --seed) seed=${2:?--seed needs a number}; shift ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "compare.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
if [[ $small -lt 0 ]]; then small=$(( quick ? 10000 : 100000 )); fi
scale=1; [[ $quick -eq 1 ]] && scale=0.1

BENCH_DIR="${BENCH_DIR:-/tmp/cradle-bench}"
case "$(realpath -m "$BENCH_DIR")" in
  /|/tmp|/root|/home|"$(realpath -m "$repo")"*) echo "compare.sh: BENCH_DIR=$BENCH_DIR: choose a folder of its own, outside the repository" >&2; exit 2 ;;
esac
mkdir -p "$BENCH_DIR"
BENCH_DIR="$(realpath "$BENCH_DIR")"
R="$BENCH_DIR/run"
rm -rf "$R"
mkdir -p "$R/logs"
LOGS="$R/logs"
DATA="$R/data/handheld"
MEAS="$R/measurements.tsv"
PRE="$R/prelude.md"

say() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { say "FAILED: $*"; exit 1; }
fnum() { awk -v x="$1" 'BEGIN { printf "%.2f", x }'; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
rate() { awk -v n="$1" -v s="$2" 'BEGIN { if (s > 0) printf "%.0f MB/s", n / s / 1e6; else print "—" }'; }
lo_tx() { cat /sys/class/net/lo/statistics/tx_bytes; }
du_b() { if [[ -e "$1" ]]; then du -sb "$1" | cut -f1; else echo 0; fi; }

# ---------------------------------------------------------------- tools
need=()
command -v rsync >/dev/null || need+=(rsync)
command -v restic >/dev/null || need+=(restic)
[[ -x /usr/bin/time ]] || need+=(time)
command -v zstd >/dev/null || need+=(zstd)
if [[ -z "${CRADLE_BIN:-}" ]] && ! command -v clang >/dev/null && ! command -v gcc >/dev/null; then
  need+=(clang zlib1g-dev)  # the native AOT compiler's linker
fi
if [[ ${#need[@]} -gt 0 ]]; then
  say "installing ${need[*]} with apt-get"
  SUDO=(); [[ $(id -u) -ne 0 ]] && SUDO=(sudo)
  "${SUDO[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq "${need[@]}" >"$LOGS/apt.log" 2>&1 || { tail -20 "$LOGS/apt.log" >&2; die "apt-get install ${need[*]}"; }
fi
command -v python3 >/dev/null || die "python3 is needed"

# ---------------------------------------------------------------- cleanup of what this script started
host_pid=""
rsyncd_pid=""
rsyncd_time_pid=""
build=""
cleanup() {
  [[ -n "$host_pid" ]] && kill "$host_pid" 2>/dev/null || true
  [[ -n "$rsyncd_pid" ]] && kill "$rsyncd_pid" 2>/dev/null || true
  [[ -n "$build" && -z "${KEEP_BUILD:-}" ]] && rm -rf "$build" || true
}
trap cleanup EXIT

# ---------------------------------------------------------------- build the native AOT cradle
if [[ -n "${CRADLE_BIN:-}" ]]; then
  CRADLE="$(realpath "$CRADLE_BIN")"
  [[ -x "$CRADLE" ]] || die "CRADLE_BIN=$CRADLE_BIN is not an executable"
  cradle_rev="given as $CRADLE"
else
  command -v dotnet >/dev/null || die "the .NET SDK (dotnet) is needed to build cradle"
  build="$(mktemp -d /tmp/cradle-build.XXXXXX)"
  mkdir -p "$build/src"
  if [[ -n "${CRADLE_REF:-}" ]]; then
    git -C "$repo" archive "$CRADLE_REF" | tar -x -C "$build/src"
    cradle_rev="$(git -C "$repo" rev-parse --short "$CRADLE_REF")"
  elif git -C "$repo" rev-parse --git-dir >/dev/null 2>&1; then
    (cd "$repo" && git ls-files -z -co --exclude-standard | while IFS= read -r -d '' f; do if [[ -f "$f" ]]; then printf '%s\0' "$f"; fi; done | tar --null -T - -cf -) | tar -x -C "$build/src"
    cradle_rev="$(git -C "$repo" rev-parse --short HEAD)$(git -C "$repo" diff --quiet HEAD -- src 2>/dev/null || echo '+changes')"
  else
    tar -C "$repo" --exclude=bin --exclude=obj --exclude=.git -cf - . | tar -x -C "$build/src"
    cradle_rev="unknown (not a git checkout)"
  fi
  say "building the native AOT cradle ($cradle_rev) in $build"
  t0=$EPOCHREALTIME
  if ! dotnet publish "$build/src/src/Cradle.Cli" -c Release -r linux-x64 -o "$build/out" >"$LOGS/publish.log" 2>&1; then
    tail -30 "$LOGS/publish.log" >&2
    die "dotnet publish (log: $LOGS/publish.log)"
  fi
  say "built in $(elapsed "$t0" "$EPOCHREALTIME") s"
  CRADLE="$build/out/cradle"
fi

# ---------------------------------------------------------------- the data set
mkdir -p "$(dirname "$DATA")"
if [[ $small -gt 0 ]]; then
  gen_args=(--small-files "$small"); dataset_desc="$small small files (seed $seed)"
else
  gen_args=(--scale "$scale"); dataset_desc="handheld mix, scale $scale (seed $seed)"
fi
say "writing the data set: $dataset_desc"
python3 "$here/make_dataset.py" "$seed" "$DATA" "${gen_args[@]}" | tee "$LOGS/dataset.txt" >&2
data_bytes=$(find "$DATA" -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')
data_files=$(find "$DATA" -type f | wc -l)

# ---------------------------------------------------------------- the machine and its limits
say "measuring the machine's limits"
cpu_model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
mem_total=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
load_start=$(cut -d' ' -f1-3 /proc/loadavg)

read_all() { find "$DATA" -type f -print0 | xargs -0 cat >/dev/null; }
if sync && echo 1 >/proc/sys/vm/drop_caches 2>/dev/null; then read1_label="cold (page cache dropped first)"; else read1_label="first (page cache could not be dropped)"; fi
t0=$EPOCHREALTIME; read_all; read1=$(elapsed "$t0" "$EPOCHREALTIME")
t0=$EPOCHREALTIME; read_all; read2=$(elapsed "$t0" "$EPOCHREALTIME")

sample="$R/limits-sample.bin"
sample_max=$(( 512 * 1048576 ))
(find "$DATA" -type f -print0 | sort -z | xargs -0 cat | head -c "$sample_max" >"$sample") || true
sample_bytes=$(stat -c %s "$sample")
cat "$sample" >/dev/null
t0=$EPOCHREALTIME; sha256sum "$sample" >/dev/null; sha_s=$(elapsed "$t0" "$EPOCHREALTIME")
t0=$EPOCHREALTIME; zstd_out=$(zstd -3 -q -c "$sample" | wc -c); zstd_s=$(elapsed "$t0" "$EPOCHREALTIME")
rm -f "$sample"
ossl_rate=""
if command -v openssl >/dev/null; then
  ossl_rate=$(openssl speed -seconds 2 -bytes 65536 -evp sha256 2>/dev/null | awk '/^sha256/ { sub(/k$/, "", $2); printf "%.0f", $2 * 1000 }') || true
fi
tcp_bytes=$(( quick ? 512 * 1048576 : 2048 * 1048576 ))
read -r _ tcp_s < <(python3 "$here/tcp_rate.py" "$tcp_bytes")

{
  echo "# Cradle side-by-side benchmark"
  echo
  echo "Run $(date -u +%Y-%m-%dT%H:%M:%SZ) by bench/compare.sh$([[ $quick -eq 1 ]] && echo ' --quick')$([[ $small -gt 0 ]] && echo " --small-files $small")."
  echo
  echo "## Machine"
  echo
  echo "- $(nproc) CPUs: $cpu_model; memory $mem_total; kernel $(uname -r); load average at the start $load_start"
  echo "- cradle $cradle_rev (native AOT); $(rsync --version | head -1 | sed 's/  */ /g'); $(restic version | cut -d' ' -f1-2); $(zstd --version | sed 's/^\*\*\* //; s/, by.*//'); Python $(python3 -c 'import platform; print(platform.python_version())')"
  echo
  echo "## Data set"
  echo
  echo "$dataset_desc: $data_files files, $data_bytes bytes ($(awk -v b="$data_bytes" 'BEGIN { printf "%.1f MiB", b / 1048576 }'))."
  echo
  echo '```'
  cat "$LOGS/dataset.txt"
  echo '```'
  echo
  echo "## Physical limits (same run)"
  echo
  echo "| what | time s | rate |"
  echo "|---|---:|---:|"
  echo "| read the data set with cat, $read1_label | $read1 | $(rate "$data_bytes" "$read1") |"
  echo "| read the data set with cat, warm | $read2 | $(rate "$data_bytes" "$read2") |"
  echo "| sha256sum of $((sample_bytes / 1048576)) MiB of the data set in page cache (one core) | $sha_s | $(rate "$sample_bytes" "$sha_s") |"
  [[ -n "$ossl_rate" ]] && echo "| SHA-256 in OpenSSL (the library .NET calls on Linux; SHA-NI where the CPU has it): openssl speed -evp sha256, 64 KiB blocks, one core | 2 | $(rate "$ossl_rate" 1) |"
  echo "| zstd -3 of the same sample (one thread; ratio $(awk -v a="$sample_bytes" -v b="$zstd_out" 'BEGIN { printf "%.2f", a / b }')) | $zstd_s | $(rate "$sample_bytes" "$zstd_s") |"
  echo "| loopback TCP, $((tcp_bytes / 1048576)) MiB, one Python sender and receiver | $tcp_s | $(rate "$tcp_bytes" "$tcp_s") |"
  echo
} >"$PRE"

# ---------------------------------------------------------------- measurement helpers
printf 'phase\ttool\tstatus\twall\tcpu\tcpu_client\tcpu_server\trss_client\trss_server\twire\tlo\trepo\tclient_state\tnote\n' >"$MEAS"
failures=0
record() { # phase tool status wall cpu cpu_client cpu_server rss_client rss_server wire lo repo client_state note
  local IFS=$'\t'
  echo "$*" >>"$MEAS"
  [[ "$3" == ok ]] || failures=$((failures + 1))
}

# timed NAME CMD...: runs CMD under /usr/bin/time; sets T_RC, T_WALL, T_CPU (user+sys), T_RSS (KiB), T_LO
timed() {
  local name=$1 lo0 u s
  shift
  # Start every measured command with no dirty pages of the one before: the kernel writing
  # back the last restore's 500 MB in the middle of the next command made restore times swing
  # 2x from run to run (for every tool), depending on which tool ran after which.
  sync
  lo0=$(lo_tx)
  set +e
  /usr/bin/time -f '%e %U %S %M' -o "$LOGS/$name.time" "$@" >"$LOGS/$name.out" 2>"$LOGS/$name.err"
  T_RC=$?
  set -e
  T_LO=$(( $(lo_tx) - lo0 ))
  read -r T_WALL u s T_RSS < <(tail -n1 "$LOGS/$name.time")
  T_CPU=$(awk -v a="$u" -v b="$s" 'BEGIN { printf "%.2f", a + b }')
  if [[ $T_RC -ne 0 ]]; then
    say "  $name exited with $T_RC:"
    tail -5 "$LOGS/$name.err" | sed 's/^/    /' >&2
  fi
}

clk=$(getconf CLK_TCK)
proc_cpu() { awk -v clk="$clk" '{ sub(/.*\) /, ""); printf "%.2f", ($12 + $13) / clk }' "/proc/$1/stat"; }
proc_hwm() { awk '/^VmHWM/ { print $2 }' "/proc/$1/status"; }
children_of() { awk -v p="$1" '{ sub(/.*\) /, ""); if ($2 == p) n++ } END { print n + 0 }' /proc/[0-9]*/stat 2>/dev/null; }

# ---------------------------------------------------------------- Cradle
CR="$R/cradle"
mkdir -p "$CR"
cradle_start_host() {
  "$CRADLE" host run --data "$CR/host" --listen 127.0.0.1:0 --http off --auto-approve >"$LOGS/cradle-host.log" 2>&1 &
  host_pid=$!
  local i
  for i in $(seq 1 300); do
    cradle_addr=$(sed -n 's/^listening on //p' "$LOGS/cradle-host.log" | head -1)
    [[ -n "$cradle_addr" ]] && break
    kill -0 "$host_pid" 2>/dev/null || { cat "$LOGS/cradle-host.log" >&2; die "cradle host did not start"; }
    sleep 0.1
  done
  [[ -n "$cradle_addr" ]] || die "cradle host did not print its address"
  [[ "$cradle_addr" == 127.0.0.1:* ]] || die "cradle host listens on $cradle_addr, not 127.0.0.1"
  "$CRADLE" device init --name BENCH --folder "$DATA" --state "$CR/device" >"$LOGS/cradle-init.log" 2>&1 || { cat "$LOGS/cradle-init.log" >&2; die "cradle device init"; }
  hwm_reset=1
}
cradle_stop_host() {
  kill -TERM "$host_pid"
  wait "$host_pid" || true
  host_pid=""
}
backup_cradle() {
  local phase=$1 h0 h1 status=ok note wire
  kill -0 "$host_pid" 2>/dev/null || die "the cradle host is gone (log: $LOGS/cradle-host.log)"
  echo 5 >"/proc/$host_pid/clear_refs" 2>/dev/null || hwm_reset=0  # restart the host's peak RSS count
  h0=$(proc_cpu "$host_pid")
  timed "cradle-$phase" "$CRADLE" device connect --host "$cradle_addr" --once --accept-new-host any --state "$CR/device" --json
  h1=$(proc_cpu "$host_pid")
  local hwm; hwm=$(proc_hwm "$host_pid")
  local hcpu; hcpu=$(awk -v a="$h0" -v b="$h1" 'BEGIN { printf "%.2f", b - a }')
  [[ $T_RC -eq 0 ]] || status="failed($T_RC)"
  IFS=$'\t' read -r wire note < <(python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
print("%d\tread %d files, %.1f MiB; %d chunks sent; %.2f s by its own clock" % (j["wireBytesSent"] + j["wireBytesReceived"], j["filesRead"], j["bytesRead"] / 1048576, j["chunksSent"], j["seconds"]))
' "$LOGS/cradle-$phase.out" 2>/dev/null || printf -- '-\tno JSON from the device\n')
  [[ $hwm_reset -eq 1 ]] || note="$note; host peak RSS counted from its start"
  record "$phase" cradle "$status" "$T_WALL" "$(fnum "$(awk -v a="$T_CPU" -v b="$hcpu" 'BEGIN { print a + b }')")" "$T_CPU" "$hcpu" \
    "$T_RSS" "$hwm" "$wire" "$T_LO" "$(du_b "$CR/host")" "$(du_b "$CR/device")" "$note"
}
restore_cradle() {
  local status=ok
  timed cradle-restore "$CRADLE" host restore BENCH --to "$R/restore/cradle" --data "$CR/host"
  [[ $T_RC -eq 0 ]] || status="failed($T_RC)"
  verify cradle "$R/restore/cradle/$(basename "$DATA")" || status="verify-failed"
  record restore cradle "$status" "$T_WALL" "$T_CPU" "$T_CPU" - "$T_RSS" - - "$T_LO" - - "host restore on the host (local)"
}

# ---------------------------------------------------------------- rsync
RS="$R/rsync"
mkdir -p "$RS/plain" "$RS/z"
rsync_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
{
  echo "# generated by bench/compare.sh"
  echo "pid file = $RS/rsyncd.pid"
  echo "log file = $RS/rsyncd.log"
  echo "address = 127.0.0.1"
  echo "port = $rsync_port"
  echo "use chroot = no"
  if [[ $(id -u) -eq 0 ]]; then echo "uid = root"; echo "gid = root"; fi
  echo "[plain]"; echo "  path = $RS/plain"; echo "  read only = false"
  echo "[z]"; echo "  path = $RS/z"; echo "  read only = false"
} >"$RS/rsyncd.conf"
rsyncd_start() { # NAME
  rm -f "$RS/rsyncd.pid"
  /usr/bin/time -f '%e %U %S %M' -o "$LOGS/$1.daemon.time" rsync --daemon --no-detach --config="$RS/rsyncd.conf" >"$LOGS/$1.daemon.log" 2>&1 &
  rsyncd_time_pid=$!
  local hexport i
  hexport=$(printf '%04X' "$rsync_port")
  for i in $(seq 1 100); do
    if [[ -s "$RS/rsyncd.pid" ]] && grep -q "0100007F:$hexport 00000000:0000 0A" /proc/net/tcp; then
      rsyncd_pid=$(cat "$RS/rsyncd.pid")
      return 0
    fi
    sleep 0.05
  done
  cat "$LOGS/$1.daemon.log" >&2
  die "the rsync daemon did not start"
}
rsyncd_stop() { # NAME: sets D_CPU, D_RSS
  local i u s
  for i in $(seq 1 100); do [[ $(children_of "$rsyncd_pid") -eq 0 ]] && break; sleep 0.05; done
  kill -TERM "$rsyncd_pid"
  wait "$rsyncd_time_pid" || true
  rsyncd_pid=""
  read -r _ u s D_RSS < <(tail -n1 "$LOGS/$1.daemon.time")
  D_CPU=$(awk -v a="$u" -v b="$s" 'BEGIN { printf "%.2f", a + b }')
}
rsync_stats_wire() { # the client's --stats: Total bytes sent + received
  awk -F': ' '/^Total bytes sent:/ { gsub(/,/, "", $2); s = $2 } /^Total bytes received:/ { gsub(/,/, "", $2); r = $2 }
              END { if (s == "" || r == "") print "-"; else print s + r }' "$1"
}
rsync_run() { # PHASE TOOL(rsync|rsync-z) MODULE SRC DST ...: one measured rsync command against a fresh daemon
  local phase=$1 tool=$2 module=$3 status=ok
  shift 3
  local flags=(-a --delete --stats)
  [[ $tool == rsync-z ]] && flags+=(-z)
  rsyncd_start "$tool-$phase"
  timed "$tool-$phase" rsync "${flags[@]}" "$@"
  rsyncd_stop "$tool-$phase"
  [[ $T_RC -eq 0 ]] || status="failed($T_RC)"
  R_STATUS=$status
  R_CPU_TOTAL=$(awk -v a="$T_CPU" -v b="$D_CPU" 'BEGIN { printf "%.2f", a + b }')
  R_WIRE=$(rsync_stats_wire "$LOGS/$tool-$phase.out")
  R_NOTE=$(awk -F': ' '/^Number of regular files transferred:/ { f = $2 } /^Literal data:/ { l = $2 } END { printf "%s files transferred, literal data %s", f, l }' "$LOGS/$tool-$phase.out")
}
backup_rsync() { # PHASE TOOL
  local phase=$1 tool=$2 module
  module=$([[ $tool == rsync-z ]] && echo z || echo plain)
  rsync_run "$phase" "$tool" "$module" "$DATA/" "rsync://127.0.0.1:$rsync_port/$module/"
  record "$phase" "$tool" "$R_STATUS" "$T_WALL" "$R_CPU_TOTAL" "$T_CPU" "$D_CPU" "$T_RSS" "$D_RSS" "$R_WIRE" "$T_LO" \
    "$(du_b "$RS/$module")" 0 "$R_NOTE"
}
restore_rsync() { # TOOL: pull the module back from the daemon into an empty folder
  local tool=$1 module
  module=$([[ $tool == rsync-z ]] && echo z || echo plain)
  mkdir -p "$R/restore/$tool"
  rsync_run restore "$tool" "$module" "rsync://127.0.0.1:$rsync_port/$module/" "$R/restore/$tool/"
  verify "$tool" "$R/restore/$tool" || R_STATUS="verify-failed"
  record restore "$tool" "$R_STATUS" "$T_WALL" "$R_CPU_TOTAL" "$T_CPU" "$D_CPU" "$T_RSS" "$D_RSS" "$R_WIRE" "$T_LO" - - \
    "pulled from the daemon; $R_NOTE"
}

# ---------------------------------------------------------------- restic
RT="$R/restic"
export RESTIC_PASSWORD=cradle-bench RESTIC_REPOSITORY="$RT/repo" RESTIC_CACHE_DIR="$RT/cache"
restic init >"$LOGS/restic-init.log" 2>&1 || { cat "$LOGS/restic-init.log" >&2; die "restic init"; }
backup_restic() {
  local phase=$1 status=ok note
  timed "restic-$phase" restic backup --host bench "$DATA"
  [[ $T_RC -eq 0 ]] || status="failed($T_RC)"
  note=$(grep -E '^Added to the repo' "$LOGS/restic-$phase.out" | head -1 || true)
  record "$phase" restic "$status" "$T_WALL" "$T_CPU" "$T_CPU" - "$T_RSS" - - "$T_LO" "$(du_b "$RT/repo")" "$(du_b "$RT/cache")" "${note:--}"
}
restore_restic() {
  local status=ok
  timed restic-restore restic restore latest --target "$R/restore/restic"
  [[ $T_RC -eq 0 ]] || status="failed($T_RC)"
  verify restic "$R/restore/restic$DATA" || status="verify-failed"
  record restore restic "$status" "$T_WALL" "$T_CPU" "$T_CPU" - "$T_RSS" - - "$T_LO" - - "local repository"
}

# ---------------------------------------------------------------- verification
VERIFY="$R/verify.txt"
: >"$VERIFY"
verify() { # TOOL RESTORED
  if python3 "$here/verify_tree.py" "$DATA" "$2" >"$LOGS/verify-$1.txt" 2>&1; then
    echo "- $1: $(cat "$LOGS/verify-$1.txt")" >>"$VERIFY"
  else
    echo "- $1: FAILED: $(head -1 "$LOGS/verify-$1.txt")" >>"$VERIFY"
    sed 's/^/    /' "$LOGS/verify-$1.txt" | tail -n +2 >>"$VERIFY"
    say "  verification of $1 FAILED:"
    sed 's/^/    /' "$LOGS/verify-$1.txt" >&2
    return 1
  fi
}

# ---------------------------------------------------------------- the run
tools=(cradle rsync rsync-z restic)
rotated() { local k=$1 i; for i in 0 1 2 3; do echo "${tools[$(( (i + k) % 4 ))]}"; done; }
backup_phase() { # PHASE K
  local t
  for t in $(rotated "$2"); do
    say "$1 backup: $t"
    case $t in
      cradle) backup_cradle "$1" ;;
      rsync|rsync-z) backup_rsync "$1" "$t" ;;
      restic) backup_restic "$1" ;;
    esac
  done
}

say "starting the cradle host"
cradle_start_host
backup_phase first 0
backup_phase unchanged 1
say "changing the data set"
python3 "$here/change_dataset.py" $((seed + 1)) "$DATA" | tee "$LOGS/change.txt" >&2
data_bytes_changed=$(find "$DATA" -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')
backup_phase changed 2
say "stopping the cradle host"
cradle_stop_host
mkdir -p "$R/restore"
for t in $(rotated 3); do
  say "restore: $t"
  case $t in
    cradle) restore_cradle ;;
    rsync|rsync-z) restore_rsync "$t" ;;
    restic) restore_restic ;;
  esac
done

# ---------------------------------------------------------------- the report
{
  cat "$PRE"
  echo "## The change"
  echo
  echo "bench/change_dataset.py $((seed + 1)):$(cat "$LOGS/change.txt")"
  echo
  python3 "$here/report.py" "$MEAS" "$data_bytes" "$data_bytes_changed"
  echo "## Verification of the restored trees (paths, sizes, mtimes to the second, SHA-256)"
  echo
  cat "$VERIFY"
  echo
  echo "Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg). Logs and raw figures: $LOGS, $MEAS."
} >"$BENCH_DIR/results.md"
cat "$BENCH_DIR/results.md"
say "results in $BENCH_DIR/results.md"
if [[ $failures -gt 0 ]]; then
  say "$failures measurements failed or did not verify"
  exit 1
fi
