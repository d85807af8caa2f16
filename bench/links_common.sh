# Shared by bench/compare.sh, links.sh, usb.sh and serial.sh (sourced, not run): logging, the
# native AOT cradle, the seeded data sets, the CPU lock, fresh file systems for every run, a
# private loopback namespace, and waiting for a host's address.
#
# Expects from the caller: `here` (this folder), `repo` (the repository), `W` (the script's
# work folder under BENCH_DIR, already created) and `LOGS` (its log folder).

# The machine's CPU lock: builds, tests and measured runs take it so that a measurement has the
# machine to itself (CRADLE_CPU_LOCK overrides the path).
CPU_LOCK="${CRADLE_CPU_LOCK:-/tmp/cradle-cpu.lock}"

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
  flock "$CPU_LOCK" dotnet publish "$src/src/Cradle.Cli" -c Release -r "$(dotnet_rid)" -o "$W/build/cradle" >"$LOGS/publish.log" 2>&1 \
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

# apt_need CMD:PACKAGE ...: installs (apt-get) the packages whose command is missing.
apt_need() {
  local want=() pair
  for pair in "$@"; do
    if [[ ${pair%%:*} == /* ]]; then [[ -x ${pair%%:*} ]] || want+=("${pair#*:}")
    else command -v "${pair%%:*}" >/dev/null || want+=("${pair#*:}"); fi
  done
  [[ ${#want[@]} -eq 0 ]] && return 0
  say "installing ${want[*]} with apt-get"
  local sudo=(); [[ $(id -u) -ne 0 ]] && sudo=(sudo)
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${want[@]}" >"$LOGS/apt.log" 2>&1 \
    || { tail -20 "$LOGS/apt.log" >&2; die "apt-get install ${want[*]}"; }
}

# cpu_lock / cpu_unlock: hold the machine's CPU lock (fd 9) for one measured run, then let builds in.
cpu_lock() { exec 9>"$CPU_LOCK"; say "waiting for the CPU lock $CPU_LOCK"; flock 9; }
cpu_unlock() { flock -u 9 2>/dev/null || true; exec 9>&-; }

# ---------------------------------------------------------------- fresh file systems
# Every measured command writes into a file system made for it: a sparse image under
# BENCH_DIR/fs, ext4 with its inode tables and journal written at mkfs time (no lazy init
# running beside a measurement), loop-mounted. In a /tmp full of just-deleted trees the
# kernel's inode allocation swung restore times 3x with the order of the runs.
FS_MOUNTS=()
FS_SEQ=0
# fresh_fs NAME MIB INODES: sets FS to the mount point of a new file system.
fresh_fs() {
  local name=$1 mib=$2 inodes=$3 img mnt
  FS_SEQ=$((FS_SEQ + 1))
  mkdir -p "$BENCH_DIR/fs"
  img="$BENCH_DIR/fs/$name-$$-$FS_SEQ.img"
  mnt="$BENCH_DIR/fs/$name-$$-$FS_SEQ"
  rm -f "$img"
  truncate -s "${mib}M" "$img"
  mkfs.ext4 -q -F -N "$inodes" -E lazy_itable_init=0,lazy_journal_init=0,nodiscard "$img" >"$LOGS/mkfs.log" 2>&1 \
    || { cat "$LOGS/mkfs.log" >&2; die "mkfs.ext4 $img"; }
  mkdir -p "$mnt"
  mount -o loop "$img" "$mnt" || die "mount -o loop $img"
  FS_MOUNTS+=("$mnt")
  FS=$mnt
}
# drop_fs MNT: unmounts a file system fresh_fs made and deletes its image.
drop_fs() {
  local mnt=$1 i
  [[ -n "$mnt" ]] || return 0
  for i in 1 2 3 4 5 6 7 8 9 10; do umount "$mnt" 2>/dev/null && break; sleep 0.5; done
  if mountpoint -q "$mnt"; then say "could not unmount $mnt (left mounted)"; return 0; fi
  rm -f "$mnt.img"
  rmdir "$mnt" 2>/dev/null || true
  local keep=() m
  for m in "${FS_MOUNTS[@]}"; do [[ $m == "$mnt" ]] || keep+=("$m"); done
  FS_MOUNTS=("${keep[@]}")
}
drop_all_fs() { local m; for m in "${FS_MOUNTS[@]}"; do drop_fs "$m"; done; }

# ---------------------------------------------------------------- a loopback of our own
# make_lo_ns: a network namespace with only lo up (NS); every tool of a loopback measurement runs
# in it, so its lo counters hold that tool's bytes and nothing of other work on the machine.
make_lo_ns() {
  NS="cradle-lo$$"
  ip netns add "$NS" || die "ip netns add $NS"
  ip -n "$NS" link set lo up
}
in_ns() { ip netns exec "$NS" "$@"; }
ns_lo_tx() { ip netns exec "$NS" cat /sys/class/net/lo/statistics/tx_bytes; }

# ---------------------------------------------------------------- data sets
# pristine_set SHAPE SEED SCALE: sets PRISTINE to a tree make_dataset.py wrote once into
# BENCH_DIR/data/SHAPE-SEED-SCALE/SHAPE (reused when complete) and SET_BYTES, SET_FILES,
# SET_FOLDERS, SET_DESC. Runs copy it (copy_set); the change is applied to the copy.
pristine_set() {
  local shape=$1 seed=$2 scale=$3 dir
  dir="$BENCH_DIR/data/$shape-$seed-$scale"
  PRISTINE="$dir/$shape"
  if [[ ! -f "$dir/done" ]]; then
    rm -rf "$dir"
    mkdir -p "$dir"
    say "writing the data set: $shape, scale $scale (seed $seed)"
    local shape_args=(--shape "$shape")
    python3 "$here/make_dataset.py" "$seed" "$PRISTINE" "${shape_args[@]}" --scale "$scale" >"$dir/summary.txt" || die "make_dataset.py"
    touch "$dir/done"
  fi
  SET_SUMMARY="$dir/summary.txt"
  SET_BYTES=$(find "$PRISTINE" -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')
  SET_FILES=$(find "$PRISTINE" -type f | wc -l)
  SET_FOLDERS=$(( $(find "$PRISTINE" -type d | wc -l) - 1 ))
  SET_DESC="$shape (seed $seed, scale $scale): $SET_FILES files in $SET_FOLDERS folders, $SET_BYTES bytes ($(awk -v b="$SET_BYTES" 'BEGIN { printf "%.1f MiB", b / 1048576 }'))"
}
# copy_set DEST_PARENT: copies the pristine tree (mtimes kept) into DEST_PARENT; sets DATA.
copy_set() {
  DATA="$1/$(basename "$PRISTINE")"
  cp -a "$PRISTINE" "$DATA" || die "copy of the data set into $1"
}
# fs_size_for BYTES FACTOR [FILES]: MiB for a file system that holds FACTOR copies of a set of
# BYTES in FILES files (each file's last block counted whole), with room to spare.
fs_size_for() { awk -v b="$1" -v f="$2" -v n="${3:-0}" 'BEGIN { printf "%d", (b + n * 4096) * f / 1048576 + 256 }'; }
