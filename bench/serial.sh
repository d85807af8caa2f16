#!/usr/bin/env bash
# The serial figures (issues 4 and 23) over an emulated 115200-baud line (8N1: 11,520 bytes/s each
# way): Cradle's goodput for incompressible data and for text logs beside lrzsz's ZMODEM (sz/rz)
# through the same paced relay, with and without bit errors; and, for each data set at a size a
# serial line can carry, Cradle's first backup and backup after the change against rsync -z
# through the same line.
#
#   bench/serial.sh [--baud N] [--kib N] [--ber X] [--no-ber] [--seed N]
#   bench/serial.sh --goodput "0 1e-5 3e-5 1e-4:1e-5" [--runs N] [--kib N] [--seed N]
#                   [--only goodput|sets] [--sets LIST] [--scales LIST] [--runs N]
#
#   --baud N        the line's rate (default 115200)
#   --kib N         size of each goodput test file in KiB (default 1024)
#   --ber X         bit error rate of the extra goodput runs with faults (default 1e-5); --no-ber skips them
#   --seed N        seed of the files, the data sets and the relay's faults (default 42)
#   --only WHAT     run only the goodput transfers, or only the data sets (default: both)
#   --sets LIST     data sets (bench/shapes.py; default handheld,small,large)
#   --scales LIST   their scales, in the same order (default 0.002,0.01,0.002: 1.4, 1.2 and 1.0 MiB)
#   --runs N        runs per data set (default 3): medians and ranges; with --goodput, runs per condition
#   --goodput L     only cradle, only random.bin, once per line condition in L (space or comma
#                   separated): BER, or BER:DROP for bytes also lost with probability DROP; each
#                   run's restore compared byte for byte (no data sets)
#
# Environment:
#   BENCH_DIR        work folder (default /tmp/cradle-bench); this script's run goes to
#                    BENCH_DIR/links/serial (deleted first), its tables to .../serial/results.md
#   CRADLE_BIN       use this cradle executable instead of publishing the working tree
#   CRADLE_REF       publish this git ref instead of the working tree (e.g. HEAD: no uncommitted changes)
#   RELAY_BIN        use this Cradle.LineRelay executable instead of building tests/Cradle.LineRelay
#   CRADLE_CPU_LOCK  the lock held during each transfer or run (default /tmp/cradle-cpu.lock)
#
# The line is tests/Cradle.LineRelay: two pseudo-terminal pairs, bytes copied between them one
# thread each way, each direction paced to baud/10 bytes/s, optionally flipping bits (--ber).
# A fresh relay for every transfer, so its counters are that transfer's.
#
# Goodput. The files: random.bin (random bytes: incompressible) and logs.log (text log lines
# written by make_dataset.py's log generator), both seeded. The transfers, each device → host:
#   cradle    `cradle host run --data H --listen 127.0.0.1:0 --serial HOSTPTY@BAUD`, then
#             `cradle device connect --state S --serial DEVPTY --baud BAUD --once --json` under
#             /usr/bin/time on a device whose only data folder holds the one file; a new
#             partnership each time (serial needs no approval); restored with `cradle host
#             restore` and compared with cmp
#   zmodem    `rz -y -b` reading and writing HOSTPTY in an empty folder, then
#             `sz -b FILE` reading and writing DEVPTY under /usr/bin/time; compared with cmp
# Goodput = file bytes / the sender command's wall time.
#
# Data sets. Per set and run, the set copied into a new loop-mounted ext4 file system, and new
# ones for Cradle's host folder and device state and for rsync's copy (needs root; as compare.sh).
# Cradle backs up as above (the host restarted on the same folder for the backup after the
# change, with a fresh relay). rsync -z crosses the same kind of line as a byte pipe: in a network
# namespace of this script's own, an rsync daemon serves the set on the device's side; socat
# joins DEVPTY to it and, on the host's side, HOSTPTY to a TCP port the host's `rsync -az --delete
# --stats rsync://127.0.0.1:PORT/data/ COPY/` connects to. The tools' order alternates from run to
# run. Each transfer (goodput) or run (data sets) holds the CPU lock; installs time, lrzsz,
# rsync, socat and e2fsprogs with apt-get when missing.
set -euo pipefail
export LC_ALL=C DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$here")"
baud=115200
kib=1024
ber=1e-5
seed=42
goodput=""
only=""
sets="handheld,small,large"
scales="0.002,0.01,0.002"
runs=3
while [[ $# -gt 0 ]]; do
  case "$1" in
    --baud) baud=${2:?}; shift ;;
    --kib) kib=${2:?}; shift ;;
    --ber) ber=${2:?}; shift ;;
    --no-ber) ber="" ;;
    --seed) seed=${2:?}; shift ;;
    --goodput) goodput=${2:?}; shift ;;
    --only) only=${2:?}; shift ;;
    --sets) sets=${2:?}; shift ;;
    --scales) scales=${2:?}; shift ;;
    --runs) runs=${2:?}; shift ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "serial.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

# shellcheck source=bench/links_common.sh
source "$here/links_common.sh"
bench_dir_checked
W="$BENCH_DIR/links/serial"
rm -rf "$W"
mkdir -p "$W/logs"
LOGS="$W/logs"
MEAS="$W/measurements.tsv"

case "$only" in ""|goodput|sets) ;; *) die "--only takes goodput or sets" ;; esac
IFS=, read -r -a set_list <<<"$sets"
IFS=, read -r -a scale_list <<<"$scales"
[[ ${#scale_list[@]} -eq ${#set_list[@]} ]] || die "give one scale per set (--scales)"
[[ "$only" == goodput || $(id -u) -eq 0 ]] || die "the data sets need root (loop mounts, a network namespace); --only goodput does not"
apt_need /usr/bin/time:time sz:lrzsz rz:lrzsz rsync:rsync socat:socat mkfs.ext4:e2fsprogs

# ---------------------------------------------------------------- cleanup of what this script started
relay_pid=""
host_pid=""
rz_pid=""
NS=""
bridge_pids=()
rsyncd_pid=""
cleanup() {
  stop_pid "$rz_pid"
  stop_pid "$host_pid"
  local p
  for p in "${bridge_pids[@]}"; do stop_pid "$p"; done
  [[ -n "$rsyncd_pid" && -s "$W/rsyncd.pid" ]] && kill "$(cat "$W/rsyncd.pid")" 2>/dev/null
  stop_relay
  drop_all_fs
  [[ -n "$NS" ]] && ip netns delete "$NS" 2>/dev/null
  return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- programs
cradle_binary
if [[ -n "${RELAY_BIN:-}" ]]; then
  RELAY="$(realpath "$RELAY_BIN")"
  RELAY_REV="given as $RELAY"
else
  source_tree
  [[ -f "$W/build/src/tests/Cradle.LineRelay/Cradle.LineRelay.csproj" ]] || die "tests/Cradle.LineRelay is not in the working tree"
  RELAY_REV="$SOURCE_REV$(git -C "$repo" status --porcelain -- tests/Cradle.LineRelay | grep -q . && echo '+uncommitted changes' || true)"
  say "building Cradle.LineRelay ($RELAY_REV)"
  flock "$CPU_LOCK" dotnet build "$W/build/src/tests/Cradle.LineRelay" -c Release -o "$W/build/relay" >"$LOGS/relay-build.log" 2>&1 \
    || { tail -30 "$LOGS/relay-build.log" >&2; die "dotnet build Cradle.LineRelay (log: $LOGS/relay-build.log)"; }
  RELAY="$W/build/relay/Cradle.LineRelay"
fi
[[ -x "$RELAY" ]] || die "$RELAY is not an executable"

# ---------------------------------------------------------------- the files
bytes=$(( kib * 1024 ))
mkdir -p "$W/files"
python3 - "$here" "$seed" "$bytes" "$W/files" <<'EOF'
import os, random, sys
sys.path.insert(0, sys.argv[1])
import make_dataset
seed, size, out = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
with open(os.path.join(out, "random.bin"), "wb") as f:
    f.write(random.Random(seed).randbytes(size))
with open(os.path.join(out, "logs.log"), "wb") as f:
    f.write(make_dataset.log_text(random.Random(seed), size, 0))
EOF
zstd_ratio() { if command -v zstd >/dev/null; then awk -v a="$(stat -c %s "$1")" -v b="$(zstd -3 -q -c "$1" | wc -c)" 'BEGIN { printf "%.2f", a / b }'; else echo "—"; fi; }
ratio_random=$(zstd_ratio "$W/files/random.bin")
ratio_logs=$(zstd_ratio "$W/files/logs.log")

# ---------------------------------------------------------------- the line
# start_relay NAME ARGS...: a fresh relay; sets DEVPTY, HOSTPTY. Its stdin is a fifo this script
# holds open on fd 8: closing it (stop_relay) ends the relay, which prints its counters.
start_relay() {
  local name=$1 i
  shift
  rm -f "$W/relay.in"
  mkfifo "$W/relay.in"
  "$RELAY" --baud "$baud" "$@" <"$W/relay.in" >"$LOGS/$name.relay.out" 2>"$LOGS/$name.relay.err" &
  relay_pid=$!
  exec 8>"$W/relay.in"
  RELAY_LOG="$LOGS/$name.relay.err"
  for i in $(seq 1 200); do grep -q '^device=' "$LOGS/$name.relay.out" && break; sleep 0.05; done
  DEVPTY=$(sed -n 's/^device=\([^ ]*\) host=.*/\1/p' "$LOGS/$name.relay.out")
  HOSTPTY=$(sed -n 's/^device=[^ ]* host=\(.*\)$/\1/p' "$LOGS/$name.relay.out")
  [[ -n "$DEVPTY" && -n "$HOSTPTY" ]] || { cat "$LOGS/$name.relay.err" >&2; die "the relay did not print its ports"; }
}
stop_relay() {
  [[ -n "$relay_pid" ]] || return 0
  exec 8>&-
  local i
  for i in $(seq 1 100); do kill -0 "$relay_pid" 2>/dev/null || break; sleep 0.05; done
  stop_pid "$relay_pid"
  relay_pid=""
}
# relay_forwarded DIRECTION: bytes the relay forwarded that way (device->host or host->device)
relay_forwarded() { sed -n "s/^$1: .*[Ff]orwarded[ =:]*\([0-9]*\).*/\1/p" "$RELAY_LOG" | head -1; }

# ---------------------------------------------------------------- measurements
printf 'tool\tfile\tber\trc\tverified\twall\tbytes\tseconds\twire_sent\twire_received\tdev_to_host\thost_to_dev\trelay_stats\n' >"$MEAS"
record() { local IFS=$'\t'; echo "$*" >>"$MEAS"; }

cradle_run() { # FILE BER [DROP [NAME]]
  local file=$1 fber=$2 fdrop=${3:-} name=${4:-"cradle-${1%%.*}${2:+-ber}"} dir rc wall verified=no relay_args=()
  dir="$W/$name"
  mkdir -p "$dir/data"
  cp "$W/files/$file" "$dir/data/"
  [[ -n "$fber" ]] && relay_args=(--ber "$fber" --seed "$seed")
  [[ -n "$fdrop" ]] && relay_args+=(--drop "$fdrop")
  start_relay "$name" "${relay_args[@]}"
  "$CRADLE" host run --data "$dir/host" --listen 127.0.0.1:0 --http off --serial "$HOSTPTY@$baud" >"$LOGS/$name.host" 2>&1 &
  host_pid=$!
  wait_listening "$LOGS/$name.host" "$host_pid"
  "$CRADLE" device init --name SERIAL --folder "$dir/data" --state "$dir/device" >"$LOGS/$name.init" 2>&1 || die "device init"
  say "$name: cradle device connect --serial $DEVPTY --baud $baud --once --json ($file${fber:+, bit error rate $fber}${fdrop:+, bytes lost $fdrop})"
  set +e
  /usr/bin/time -f '%e %U %S %M' -o "$LOGS/$name.time" \
    "$CRADLE" device connect --state "$dir/device" --serial "$DEVPTY" --baud "$baud" --once --json >"$LOGS/$name.json" 2>"$LOGS/$name.err"
  rc=$?
  set -e
  read -r wall _ < <(tail -n1 "$LOGS/$name.time")
  stop_pid "$host_pid"; host_pid=""
  stop_relay
  if [[ $rc -eq 0 ]] && "$CRADLE" host restore SERIAL --to "$dir/restored" --data "$dir/host" >"$LOGS/$name.restore" 2>&1; then
    local back
    back=$(find "$dir/restored" -type f -name "$file" | head -1)
    [[ -n "$back" ]] && cmp -s "$W/files/$file" "$back" && verified=yes
  fi
  local fields="-	-	-"
  [[ $rc -eq 0 ]] && fields=$(python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
print("%s\t%s\t%s" % (j["seconds"], j["wireBytesSent"], j["wireBytesReceived"]))' "$LOGS/$name.json")
  record cradle "$file" "${fber:--}${fdrop:+ + drop $fdrop}" "$rc" "$verified" "$wall" "$(stat -c %s "$W/files/$file")" "$fields" \
    "$(relay_forwarded device-\>host)" "$(relay_forwarded host-\>device)" "$(tr '\n' ' ' <"$RELAY_LOG")"
  say "  exit $rc, wall $wall s, restored byte for byte: $verified"
  [[ $rc -eq 0 ]] || tail -5 "$LOGS/$name.err" | sed 's/^/    /' >&2
}

zmodem_run() { # FILE BER
  local file=$1 fber=$2 name="zmodem-${1%%.*}${2:+-ber}" dir rc wall verified=no relay_args=()
  dir="$W/$name"
  mkdir -p "$dir/received"
  [[ -n "$fber" ]] && relay_args=(--ber "$fber" --seed "$seed")
  start_relay "$name" "${relay_args[@]}"
  (cd "$dir/received" && exec rz -y -b <"$HOSTPTY" >"$HOSTPTY" 2>"$LOGS/$name.rz.err") &
  rz_pid=$!
  sleep 0.3
  say "$name: sz -b $file on $DEVPTY, rz -y -b on $HOSTPTY${fber:+ (bit error rate $fber)}"
  set +e
  (cd "$W/files" && exec /usr/bin/time -f '%e %U %S %M' -o "$LOGS/$name.time" sz -b "$file" <"$DEVPTY" >"$DEVPTY" 2>"$LOGS/$name.sz.err")
  rc=$?
  local i
  for i in $(seq 1 300); do kill -0 "$rz_pid" 2>/dev/null || break; sleep 0.1; done
  wait "$rz_pid" 2>/dev/null
  local rz_rc=$?
  set -e
  rz_pid=""
  read -r wall _ < <(tail -n1 "$LOGS/$name.time")
  stop_relay
  [[ $rc -eq 0 && $rz_rc -eq 0 ]] && cmp -s "$W/files/$file" "$dir/received/$file" && verified=yes
  record zmodem "$file" "${fber:--}" "$rc/$rz_rc" "$verified" "$wall" "$(stat -c %s "$W/files/$file")" - - - \
    "$(relay_forwarded device-\>host)" "$(relay_forwarded host-\>device)" "$(tr '\n' ' ' <"$RELAY_LOG")"
  say "  sz exit $rc, rz exit $rz_rc, wall $wall s, received byte for byte: $verified"
}

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
locked() { cpu_lock; "$@"; cpu_unlock; }
if [[ -n "$goodput" ]]; then
  only=goodput-list
  n=0
  for spec in ${goodput//,/ }; do
    for r in $(seq 1 "$runs"); do
      n=$((n + 1))
      fber=${spec%%:*}; fdrop=""
      [[ $spec == *:* ]] && fdrop=${spec#*:}
      [[ $fber == 0 ]] && fber=""
      locked cradle_run random.bin "$fber" "$fdrop" "cradle-goodput-$n"
    done
  done
elif [[ "$only" != sets ]]; then
  locked cradle_run random.bin ""
  locked zmodem_run random.bin ""
  locked cradle_run logs.log ""
  locked zmodem_run logs.log ""
  if [[ -n "$ber" ]]; then
    locked cradle_run random.bin "$ber"
    locked zmodem_run random.bin "$ber"
  fi
fi
if [[ "$only" != goodput && "$only" != goodput-list ]]; then
  # shellcheck source=bench/serial_sets.sh
  source "$here/serial_sets.sh"
  serial_sets
fi
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------- the report
{
  echo "# Serial link at $baud baud: cradle and ZMODEM through Cradle.LineRelay"
  echo
  echo "Run $(date -u +%Y-%m-%dT%H:%M:%SZ) by bench/serial.sh; cradle $CRADLE_REV (native AOT); Cradle.LineRelay $RELAY_REV; $(sz --version 2>&1 | head -1); kernel $(uname -r); $(nproc) CPUs; load average $load_start at the start, $load_end at the end."
  echo "Files: random.bin, $bytes random bytes (zstd -3 ratio $ratio_random); logs.log, $bytes bytes of log lines from make_dataset.py (zstd -3 ratio $ratio_logs)."
  echo
  python3 - "$MEAS" "$baud" <<'EOF'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
if not rows:
    sys.exit(0)
line = int(sys.argv[2]) / 10
print(f"Line rate: {int(sys.argv[2])} baud, 8N1 = {line:,.0f} bytes/s each way. "
      "wall: the sender's whole command (cradle: process start, offer/answer, TLS handshake, partnership, scan, upload, commit, goodbye; "
      "sz: process start, ZMODEM handshake, transfer, end of session). backup s: cradle's own clock for the backup (scan to commit, after the session is set up). "
      "on the line: bytes the relay carried device → host / host → device during the command.\n")
print("| tool | file | bit error rate | wall s | goodput B/s | × line rate | backup s | goodput in backup B/s | × line rate | on the line d→h / h→d | line busy d→h | byte for byte |")
print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
for r in rows:
    n = int(r["bytes"])
    if not r["rc"].replace("/", "").strip("0") == "":
        print(f"| {r['tool']} | {r['file']} | {r['ber']} | failed (exit {r['rc']}) after {r['wall']} s | | | | | | | | {r['verified']} |")
        continue
    wall = float(r["wall"])
    g = n / wall
    sec = r["seconds"]
    if sec != "-":
        s = float(sec)
        inner = f"{s:.1f} | {n / s:,.0f} | {n / s / line:.2f}×"
    else:
        inner = "— | — | —"
    d2h, h2d = r["dev_to_host"], r["host_to_dev"]
    busy = f"{int(d2h) / wall / line * 100:.0f} %" if d2h else "—"
    onl = f"{int(d2h):,} / {int(h2d):,}" if d2h and h2d else "—"
    print(f"| {r['tool']} | {r['file']} | {r['ber']} | {wall:.1f} | {g:,.0f} | {g / line:.2f}× | {inner} | {onl} | {busy} | {r['verified']} |")
print()
EOF
  [[ -s "$W/sets.tsv" ]] && python3 "$here/serial_report.py" "$W/sets.tsv" "$W" "$baud"
  echo "Relay counters per transfer (its stderr):"
  echo
  echo '```'
  awk -F'\t' 'NR > 1 { printf "%s %s ber %s: %s\n", $1, $2, $3, $13 }' "$MEAS"
  [[ -s "$W/sets.tsv" ]] && awk -F'\t' 'NR > 1 { printf "%s %s run %s %s: %s\n", $2, $1, $3, $4, $NF }' "$W/sets.tsv"
  echo '```'
  echo
  echo "Logs and raw figures: $LOGS, $MEAS."
} >"$W/results.md"
cat "$W/results.md"
