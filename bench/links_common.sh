# Shared by bench/usb.sh and bench/serial.sh (sourced, not run): logging, the native AOT
# cradle, the seeded data set, the build lock and waiting for a host's address.
#
# Expects from the caller: `here` (this folder), `repo` (the repository), `W` (the script's
# work folder under BENCH_DIR, already created) and `LOGS` (its log folder).

say() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { say "FAILED: $*"; exit 1; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
clk=$(getconf CLK_TCK)
proc_cpu() { awk -v clk="$clk" '{ sub(/.*\) /, ""); printf "%.2f", ($12 + $13) / clk }' "/proc/$1/stat"; }

# bench_dir_checked: BENCH_DIR (default /tmp/cradle-bench), refusing folders that are not its own.
bench_dir_checked() {
  BENCH_DIR="${BENCH_DIR:-/tmp/cradle-bench}"
  case "$(realpath -m "$BENCH_DIR")" in
    /|/tmp|/root|/home|"$(realpath -m "$repo")"*) die "BENCH_DIR=$BENCH_DIR: choose a folder of its own, outside the repository" ;;
  esac
  mkdir -p "$BENCH_DIR"
  BENCH_DIR="$(realpath "$BENCH_DIR")"
}

# dotnet_rid: the runtime identifier of this machine, for the native AOT publish.
dotnet_rid() {
  case "$(uname -m)" in
    x86_64) echo linux-x64 ;;
    aarch64|arm64) echo linux-arm64 ;;
    *) die "no native AOT runtime identifier known for $(uname -m)" ;;
  esac
}

# source_tree: a copy of the working tree (tracked and untracked files git does not ignore) in
# W/build/src, made once, so builds put no bin/ or obj/ into the folders others work in.
source_tree() {
  SOURCE_REV="$(git -C "$repo" rev-parse --short HEAD)"
  # Copied once per run (serial.sh asks twice), never reused from an earlier run: that copy is
  # of an earlier tree.
  [[ ${SOURCE_COPIED:-0} == 1 ]] && return 0
  SOURCE_COPIED=1
  rm -rf "$W/build/src"
  mkdir -p "$W/build/src"
  (cd "$repo" && git ls-files -z -co --exclude-standard | while IFS= read -r -d '' f; do if [[ -f "$f" ]]; then printf '%s\0' "$f"; fi; done | tar --null -T - -cf -) | tar -x -C "$W/build/src"
}

# cradle_binary: sets CRADLE and CRADLE_REV, from CRADLE_BIN or by publishing the native AOT
# executable under the build lock: of the git ref CRADLE_REF when set, else of source_tree.
cradle_binary() {
  if [[ -n "${CRADLE_BIN:-}" ]]; then
    CRADLE="$(realpath "$CRADLE_BIN")"
    [[ -x "$CRADLE" ]] || die "CRADLE_BIN=$CRADLE_BIN is not an executable"
    CRADLE_REV="given as $CRADLE"
    return
  fi
  command -v dotnet >/dev/null || die "the .NET SDK (dotnet) is needed to build cradle"
  local src
  if [[ -n "${CRADLE_REF:-}" ]]; then
    src="$W/build/ref"
    rm -rf "$src"
    mkdir -p "$src"
    git -C "$repo" archive "$CRADLE_REF" | tar -x -C "$src"
    CRADLE_REV="$(git -C "$repo" rev-parse --short "$CRADLE_REF")"
  else
    source_tree
    src="$W/build/src"
    CRADLE_REV="$SOURCE_REV$(git -C "$repo" diff --quiet HEAD -- src 2>/dev/null || echo '+changes')"
  fi
  say "building the native AOT cradle ($CRADLE_REV) in $W/build"
  flock /tmp/cradle-build.lock dotnet publish "$src/src/Cradle.Cli" -c Release -r "$(dotnet_rid)" -o "$W/build/cradle" >"$LOGS/publish.log" 2>&1 \
    || { tail -30 "$LOGS/publish.log" >&2; die "dotnet publish (log: $LOGS/publish.log)"; }
  CRADLE="$W/build/cradle/cradle"
}

# handheld_dataset SEED SCALE: sets DATA to BENCH_DIR/links/data/handheld-SEED-SCALE, written by
# make_dataset.py as compare.sh writes its set, and reused when a complete one is there.
handheld_dataset() {
  local seed=$1 scale=$2
  DATA="$BENCH_DIR/links/data/handheld-$seed-$scale"
  if [[ -f "$DATA.done" ]]; then
    say "reusing the data set $DATA"
  else
    rm -rf "$DATA"
    mkdir -p "$(dirname "$DATA")"
    say "writing the data set: handheld mix, scale $scale (seed $seed)"
    python3 "$here/make_dataset.py" "$seed" "$DATA" --scale "$scale" >"$DATA.txt"
    touch "$DATA.done"
  fi
  DATA_BYTES=$(find "$DATA" -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')
  DATA_FILES=$(find "$DATA" -type f | wc -l)
}

# warm DIR: read every file once, so a backup reads from the page cache as compare.sh's does.
warm() { find "$1" -type f -print0 | xargs -0 cat >/dev/null; }

# wait_listening LOG PID: waits for a cradle host's "listening on ADDR:PORT" lines; sets LISTEN
# to all of them, space-separated.
wait_listening() {
  local log=$1 pid=$2 i
  LISTEN=""
  for i in $(seq 1 300); do
    LISTEN=$(sed -n 's/^listening on //p' "$log" | awk '{ print $1 }' | tr '\n' ' ')
    [[ -n "$LISTEN" ]] && return 0
    kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; die "the cradle host did not start (log: $log)"; }
    sleep 0.1
  done
  cat "$log" >&2
  die "the cradle host did not print its address (log: $log)"
}

# stop_pid PID: SIGTERM one process this script started and wait for it.
stop_pid() {
  [[ -n "$1" ]] || return 0
  kill -TERM "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

# json_field FILE EXPR: a value from cradle's --json output (EXPR in Python over `j`).
json_field() { python3 -c 'import json, sys; j = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"; }
