# Sourced by bench/compare.sh (not run): one measured run of one data set, tool by tool.
# Expects compare.sh's variables: CRADLE, NS, LOGS, W, MEAS, DATA (set per run), seed, parallel,
# runs, here; and links_common.sh's functions.

proc_hwm() { awk '/^VmHWM/ { print $2 }' "/proc/$1/status"; }
children_of() { awk -v p="$1" '{ sub(/.*\) /, ""); if ($2 == p) n++ } END { print n + 0 }' /proc/[0-9]*/stat 2>/dev/null; }
du_b() { if [[ -e "$1" ]]; then du -sb "$1" | cut -f1; else echo 0; fi; }
fsum() { awk 'BEGIN { s = 0; for (i = 1; i < ARGC; i++) s += ARGV[i]; printf "%.2f", s }' "$@"; }
fmax() { awk 'BEGIN { m = 0; for (i = 1; i < ARGC; i++) if (ARGV[i] + 0 > m) m = ARGV[i] + 0; print m }' "$@"; }

# record SET RUN PHASE TOOL STATUS WALL CPU CPU_CLIENT CPU_SERVER RSS_CLIENT RSS_SERVER WIRE LO REPO STATE NOTE
record() {
  local IFS=$'\t'
  echo "$*" >>"$MEAS"
  [[ "$5" == ok ]] || failures=$((failures + 1))
}

# timed NAME CMD...: `sync`, then CMD in the namespace under /usr/bin/time. Sets T_RC, T_WALL,
# T_CPU (user + sys), T_RSS (KiB) and T_LO (bytes the namespace's lo sent meanwhile).
timed() {
  local name=$1 lo0 u s
  shift
  sync
  lo0=$(ns_lo_tx)
  set +e
  /usr/bin/time -f '%e %U %S %M' -o "$LOGS/$name.time" ip netns exec "$NS" "$@" >"$LOGS/$name.out" 2>"$LOGS/$name.err"
  T_RC=$?
  set -e
  T_LO=$(( $(ns_lo_tx) - lo0 ))
  read -r T_WALL u s T_RSS < <(tail -n1 "$LOGS/$name.time")
  T_CPU=$(fsum "$u" "$s")
  if [[ $T_RC -ne 0 ]]; then
    say "  $name exited with $T_RC:"
    tail -5 "$LOGS/$name.err" | sed 's/^/    /' >&2
  fi
}

# verify NAME RESTORED: bench/verify_tree.py against the (changed) data set; 1 when they differ.
verify() {
  if python3 "$here/verify_tree.py" "$DATA" "$2" >"$LOGS/$1.verify" 2>&1; then
    echo "- $1: $(cat "$LOGS/$1.verify")" >>"$W/verify.txt"
  else
    echo "- $1: FAILED: $(head -1 "$LOGS/$1.verify")" >>"$W/verify.txt"
    say "  verification of $1 FAILED:"; head -5 "$LOGS/$1.verify" | sed 's/^/    /' >&2
    return 1
  fi
}

# ---------------------------------------------------------------- the machine's limits on a set
limits() {
  local set=$1 t0 r1 r2 sample sha_s zstd_s zstd_out sample_bytes label
  read_all() { find "$PRISTINE" -type f -print0 | xargs -0 cat >/dev/null; }
  if sync && echo 1 >/proc/sys/vm/drop_caches 2>/dev/null; then label="cold (page cache dropped first)"; else label="first"; fi
  t0=$EPOCHREALTIME; read_all; r1=$(elapsed "$t0" "$EPOCHREALTIME")
  t0=$EPOCHREALTIME; read_all; r2=$(elapsed "$t0" "$EPOCHREALTIME")
  sample="$W/limits-sample.bin"
  (find "$PRISTINE" -type f -print0 | sort -z | xargs -0 cat | head -c $((512 * 1048576)) >"$sample") || true
  sample_bytes=$(stat -c %s "$sample")
  cat "$sample" >/dev/null
  t0=$EPOCHREALTIME; sha256sum "$sample" >/dev/null; sha_s=$(elapsed "$t0" "$EPOCHREALTIME")
  t0=$EPOCHREALTIME; zstd_out=$(zstd -3 -q -c "$sample" | wc -c); zstd_s=$(elapsed "$t0" "$EPOCHREALTIME")
  rm -f "$sample"
  echo "| what | time s | rate |"
  echo "|---|---:|---:|"
  echo "| read the set with cat, $label | $r1 | $(awk -v n="$SET_BYTES" -v s="$r1" 'BEGIN { printf "%.0f MB/s", n / s / 1e6 }') |"
  echo "| read the set with cat, warm | $r2 | $(awk -v n="$SET_BYTES" -v s="$r2" 'BEGIN { printf "%.0f MB/s", n / s / 1e6 }') |"
  echo "| sha256sum of $((sample_bytes / 1048576)) MiB of it (coreutils, one core) | $sha_s | $(awk -v n="$sample_bytes" -v s="$sha_s" 'BEGIN { printf "%.0f MB/s", n / s / 1e6 }') |"
  echo "| zstd -3 of the same (one thread), ratio $(awk -v a="$sample_bytes" -v b="$zstd_out" 'BEGIN { printf "%.2f", a / b }') | $zstd_s | $(awk -v n="$sample_bytes" -v s="$zstd_s" 'BEGIN { printf "%.0f MB/s", n / s / 1e6 }') |"
  if [[ ! -f "$W/limits-common.md" ]]; then
    local ossl tcp_s
    ossl=$(openssl speed -seconds 2 -bytes 65536 -evp sha256 2>/dev/null | awk '/^sha256/ { sub(/k$/, "", $2); printf "%.0f", $2 * 1000 / 1e6 }') || true
    read -r _ tcp_s < <(ip netns exec "$NS" python3 "$here/tcp_rate.py" $((1024 * 1048576)))
    {
      echo "| SHA-256 in OpenSSL (what .NET calls on Linux), openssl speed -evp sha256, 64 KiB blocks, one core | 2 | ${ossl:-?} MB/s |"
      echo "| loopback TCP in the namespace, 1 GiB, one Python sender and receiver | $tcp_s | $(awk -v s="$tcp_s" 'BEGIN { printf "%.0f MB/s", 1073741824 / s / 1e6 }') |"
    } >"$W/limits-common.md"
  fi
  cat "$W/limits-common.md"
}

# ---------------------------------------------------------------- Cradle
cradle_host_start() { # DATA_DIR NAME: a new host in the namespace; sets host_pid, cradle_addr
  ip netns exec "$NS" "$CRADLE" host run --data "$1" --listen 127.0.0.1:0 --http off --auto-approve >"$LOGS/$2.host.log" 2>&1 &
  host_pid=$!
  wait_listening "$LOGS/$2.host.log" "$host_pid"
  cradle_addr=${LISTEN%% *}
}
cradle_host_stop() { local p=$host_pid; host_pid=""; stop_pid "$p"; }

backup_cradle() { # PHASE
  local phase=$1 tag="$RUN_TAG-$1-cradle" h0 h1 hwm wire note status=ok
  kill -0 "$host_pid" 2>/dev/null || die "the cradle host is gone (log: $LOGS/$RUN_TAG.host.log)"
  echo 5 >"/proc/$host_pid/clear_refs"  # restart the host's peak RSS count
  h0=$(proc_cpu "$host_pid")
  timed "$tag" "$CRADLE" device connect --host "$cradle_addr" --once --accept-new-host any --state "${REPO[cradle]}/device" --json
  h1=$(proc_cpu "$host_pid"); hwm=$(proc_hwm "$host_pid")
  [[ $T_RC -eq 0 ]] || status="failed($T_RC)"
  IFS=$'\t' read -r wire note < <(python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
print("%d\tread %d files, %.1f MiB; %d chunks sent; %.2f s by its own clock" % (j["wireBytesSent"] + j["wireBytesReceived"], j["filesRead"], j["bytesRead"] / 1048576, j["chunksSent"], j["seconds"]))
' "$LOGS/$tag.out" 2>/dev/null || printf -- '-\tno JSON from the device\n')
  local hcpu; hcpu=$(awk -v a="$h0" -v b="$h1" 'BEGIN { printf "%.2f", b - a }')
  record "$SET" "$RUN" "$phase" cradle "$status" "$T_WALL" "$(fsum "$T_CPU" "$hcpu")" "$T_CPU" "$hcpu" "$T_RSS" "$hwm" "$wire" "$T_LO" \
    "$(du_b "${REPO[cradle]}/host")" "$(du_b "${REPO[cradle]}/device")" "$note"
}

restore_cradle() { # local: `cradle host restore` into a new file system (the host is stopped)
  local tag="$RUN_TAG-restore-cradle" status=ok
  fresh_fs "$RUN_TAG-r-cradle" "$RESTORE_MIB" "$RESTORE_INODES"
  timed "$tag" "$CRADLE" host restore BENCH --to "$FS/cradle" --data "${REPO[cradle]}/host"
  [[ $T_RC -eq 0 ]] || status="failed($T_RC)"
  verify "$tag" "$FS/cradle/$(basename "$DATA")" || status=verify-failed
  record "$SET" "$RUN" restore cradle "$status" "$T_WALL" "$T_CPU" "$T_CPU" - "$T_RSS" - - "$T_LO" - - "host restore, local"
  drop_fs "$FS"
}

# guests N FS: N new devices whose data folder (named as the set's, so the snapshot's paths fit)
# is in FS, each allowed once by the host's operator to restore BENCH's latest snapshot.
guests() {
  local n=$1 fs=$2 k
  for k in $(seq 1 "$n"); do
    mkdir -p "$fs/g$k/$(basename "$DATA")"
    "$CRADLE" device init --name "GUEST$k" --folder "$fs/g$k/$(basename "$DATA")" --state "$fs/g$k.state" >"$LOGS/$RUN_TAG-guest$k.init" 2>&1 || die "device init GUEST$k"
    "$CRADLE" host allow-restore BENCH --to "GUEST$k" --data "${REPO[cradle]}/host" >"$LOGS/$RUN_TAG-guest$k.allow" 2>&1 || die "host allow-restore GUEST$k"
  done
}

restore_cradle_wire() { # `cradle device restore` of a new device through a new host, over TCP
  local tag="$RUN_TAG-restore-cradle-wire" status=ok h0 h1 hwm
  fresh_fs "$RUN_TAG-r-wire" "$RESTORE_MIB" "$RESTORE_INODES"
  cradle_host_start "${REPO[cradle]}/host" "$RUN_TAG-restore"
  guests 1 "$FS"
  echo 5 >"/proc/$host_pid/clear_refs"
  h0=$(proc_cpu "$host_pid")
  timed "$tag" "$CRADLE" device restore --state "$FS/g1.state" --host "$cradle_addr" --from BENCH --json
  h1=$(proc_cpu "$host_pid"); hwm=$(proc_hwm "$host_pid")
  cradle_host_stop
  [[ $T_RC -eq 0 ]] || status="failed($T_RC)"
  verify "$tag" "$FS/g1/$(basename "$DATA")" || status=verify-failed
  local hcpu; hcpu=$(awk -v a="$h0" -v b="$h1" 'BEGIN { printf "%.2f", b - a }')
  record "$SET" "$RUN" restore cradle-wire "$status" "$T_WALL" "$(fsum "$T_CPU" "$hcpu")" "$T_CPU" "$hcpu" "$T_RSS" "$hwm" "$T_LO" "$T_LO" - - \
    "device restore over TCP (a guest the operator allowed; every file fsynced)"
  drop_fs "$FS"
}

# ---------------------------------------------------------------- rsync
RSYNC_PORT=8873  # inside this script's own namespace: no other listener there
rsync_conf() {
  {
    echo "# generated by bench/compare.sh"
    echo "pid file = $W/rsyncd.pid"
    echo "address = 127.0.0.1"
    echo "port = $RSYNC_PORT"
    echo "use chroot = no"
    echo "uid = root"
    echo "gid = root"
    local t
    for t in rsync rsync-fsync rsync-z; do
      echo "[$t]"; echo "  path = ${REPO[$t]}/tree"; echo "  read only = false"
    done
  } >"$W/rsyncd.conf"
  for t in rsync rsync-fsync rsync-z; do mkdir -p "${REPO[$t]}/tree"; done
}
rsyncd_start() { # NAME
  rm -f "$W/rsyncd.pid"
  /usr/bin/time -f '%e %U %S %M' -o "$LOGS/$1.daemon.time" ip netns exec "$NS" rsync --daemon --no-detach --config="$W/rsyncd.conf" >"$LOGS/$1.daemon.log" 2>&1 &
  rsyncd_time_pid=$!
  local i hexport
  hexport=$(printf '%04X' "$RSYNC_PORT")
  for i in $(seq 1 100); do
    if [[ -s "$W/rsyncd.pid" ]] && ip netns exec "$NS" grep -q "0100007F:$hexport 00000000:0000 0A" /proc/net/tcp; then
      rsyncd_pid=$(cat "$W/rsyncd.pid")
      return 0
    fi
    sleep 0.05
  done
  cat "$LOGS/$1.daemon.log" >&2
  die "the rsync daemon did not start"
}
rsyncd_stop() { # NAME: sets D_CPU, D_RSS
  local i u s
  for i in $(seq 1 200); do [[ $(children_of "$rsyncd_pid") -eq 0 ]] && break; sleep 0.05; done
  kill -TERM "$rsyncd_pid"
  wait "$rsyncd_time_pid" || true
  rsyncd_pid=""; rsyncd_time_pid=""
  read -r _ u s D_RSS < <(tail -n1 "$LOGS/$1.daemon.time")
  D_CPU=$(fsum "$u" "$s")
}
rsync_flags() { # TOOL
  case $1 in rsync) echo "-a --delete --stats" ;; rsync-fsync) echo "-a --delete --stats --fsync" ;; rsync-z) echo "-a --delete --stats -z" ;; esac
}
rsync_wire() {
  awk -F': ' '/^Total bytes sent:/ { gsub(/,/, "", $2); s = $2 } /^Total bytes received:/ { gsub(/,/, "", $2); r = $2 }
              END { if (s == "" || r == "") print "-"; else print s + r }' "$1"
}
rsync_note() {
  awk -F': ' '/^Number of regular files transferred:/ { f = $2 } /^Literal data:/ { l = $2 } END { printf "%s files transferred, literal data %s", f, l }' "$1"
}
backup_rsync() { # PHASE TOOL
  local phase=$1 tool=$2 tag="$RUN_TAG-$1-$2" status=ok
  rsyncd_start "$tag"
  # shellcheck disable=SC2046
  timed "$tag" rsync $(rsync_flags "$tool") "$DATA/" "rsync://127.0.0.1:$RSYNC_PORT/$tool/"
  rsyncd_stop "$tag"
  [[ $T_RC -eq 0 ]] || status="failed($T_RC)"
  record "$SET" "$RUN" "$phase" "$tool" "$status" "$T_WALL" "$(fsum "$T_CPU" "$D_CPU")" "$T_CPU" "$D_CPU" "$T_RSS" "$D_RSS" \
    "$(rsync_wire "$LOGS/$tag.out")" "$T_LO" "$(du_b "${REPO[$tool]}/tree")" 0 "$(rsync_note "$LOGS/$tag.out")"
}
restore_rsync() { # TOOL: pull the module back from a new daemon into a new file system
  local tool=$1 tag="$RUN_TAG-restore-$1" status=ok
  fresh_fs "$RUN_TAG-r-$tool" "$RESTORE_MIB" "$RESTORE_INODES"
  mkdir -p "$FS/$tool"
  rsyncd_start "$tag"
  # shellcheck disable=SC2046
  timed "$tag" rsync $(rsync_flags "$tool") "rsync://127.0.0.1:$RSYNC_PORT/$tool/" "$FS/$tool/"
  rsyncd_stop "$tag"
  [[ $T_RC -eq 0 ]] || status="failed($T_RC)"
  verify "$tag" "$FS/$tool" || status=verify-failed
  record "$SET" "$RUN" restore "$tool" "$status" "$T_WALL" "$(fsum "$T_CPU" "$D_CPU")" "$T_CPU" "$D_CPU" "$T_RSS" "$D_RSS" \
    "$(rsync_wire "$LOGS/$tag.out")" "$T_LO" - - "pulled from the daemon; $(rsync_note "$LOGS/$tag.out")"
  drop_fs "$FS"
}

# ---------------------------------------------------------------- restic
backup_restic() { # PHASE
  local phase=$1 tag="$RUN_TAG-$1-restic" status=ok
  timed "$tag" restic backup --host bench "$DATA"
  [[ $T_RC -eq 0 ]] || status="failed($T_RC)"
  record "$SET" "$RUN" "$phase" restic "$status" "$T_WALL" "$T_CPU" "$T_CPU" - "$T_RSS" - - "$T_LO" "$(du_b "$RESTIC_REPOSITORY")" \
    "$(du_b "$RESTIC_CACHE_DIR")" "$(grep -E '^Added to the repo' "$LOGS/$tag.out" | head -1 || echo -)"
}
restore_restic() {
  local tag="$RUN_TAG-restore-restic" status=ok
  fresh_fs "$RUN_TAG-r-restic" "$RESTORE_MIB" "$RESTORE_INODES"
  timed "$tag" restic restore latest --target "$FS/restic"
  [[ $T_RC -eq 0 ]] || status="failed($T_RC)"
  verify "$tag" "$FS/restic$DATA" || status=verify-failed
  record "$SET" "$RUN" restore restic "$status" "$T_WALL" "$T_CPU" "$T_CPU" - "$T_RSS" - - "$T_LO" - - "local repository"
  drop_fs "$FS"
}

# ---------------------------------------------------------------- several restores at once
# together TAG CMD-TEMPLATE: starts `parallel` commands at once (CMD-TEMPLATE with {k} replaced by
# 1..K), each under /usr/bin/time in the namespace; sets P_WALL (first start to last end), P_CPU
# (sum), P_RSS (largest), P_RC (0 when all succeeded), P_LO.
together() {
  local tag=$1 template=$2 k pids=() lo0 t0 rc
  sync
  lo0=$(ns_lo_tx)
  t0=$EPOCHREALTIME
  for k in $(seq 1 "$parallel"); do
    # shellcheck disable=SC2086
    /usr/bin/time -f '%e %U %S %M' -o "$LOGS/$tag-$k.time" ip netns exec "$NS" ${template//\{k\}/$k} >"$LOGS/$tag-$k.out" 2>"$LOGS/$tag-$k.err" &
    pids+=($!)
  done
  P_RC=0
  for k in "${!pids[@]}"; do
    set +e; wait "${pids[$k]}"; rc=$?; set -e
    [[ $rc -eq 0 ]] || { P_RC=$rc; say "  $tag-$((k + 1)) exited with $rc"; tail -3 "$LOGS/$tag-$((k + 1)).err" | sed 's/^/    /' >&2; }
  done
  P_WALL=$(elapsed "$t0" "$EPOCHREALTIME")
  P_LO=$(( $(ns_lo_tx) - lo0 ))
  local cpus=() rsss=() u s m
  for k in $(seq 1 "$parallel"); do
    read -r _ u s m < <(tail -n1 "$LOGS/$tag-$k.time")
    cpus+=("$u" "$s"); rsss+=("$m")
  done
  P_CPU=$(fsum "${cpus[@]}")
  P_RSS=$(fmax "${rsss[@]}")
}
parallel_restores() { # TOOL
  local tool=$1 tag="$RUN_TAG-restore$parallel-$1" status=ok k base h0 h1 hwm=- hcpu=0
  base=$(basename "$DATA")
  fresh_fs "$RUN_TAG-p-$tool" $((RESTORE_MIB * parallel)) $((RESTORE_INODES * parallel))
  local FSP=$FS
  case $tool in
    cradle) together "$tag" "$CRADLE host restore BENCH --to $FSP/{k} --data ${REPO[cradle]}/host" ;;
    cradle-wire)
      cradle_host_start "${REPO[cradle]}/host" "$tag"
      guests "$parallel" "$FSP"
      echo 5 >"/proc/$host_pid/clear_refs"
      h0=$(proc_cpu "$host_pid")
      together "$tag" "$CRADLE device restore --state $FSP/g{k}.state --host $cradle_addr --from BENCH --json"
      h1=$(proc_cpu "$host_pid"); hwm=$(proc_hwm "$host_pid")
      hcpu=$(awk -v a="$h0" -v b="$h1" 'BEGIN { printf "%.2f", b - a }')
      cradle_host_stop ;;
    restic) together "$tag" "restic restore latest --target $FSP/{k}" ;;
    rsync)
      for k in $(seq 1 "$parallel"); do mkdir -p "$FSP/$k"; done
      rsyncd_start "$tag"
      together "$tag" "rsync $(rsync_flags rsync) rsync://127.0.0.1:$RSYNC_PORT/rsync/ $FSP/{k}/"
      rsyncd_stop "$tag"
      hcpu=$D_CPU; hwm=$D_RSS ;;
  esac
  [[ $P_RC -eq 0 ]] || status="failed($P_RC)"
  for k in $(seq 1 "$parallel"); do
    case $tool in
      cradle) verify "$tag-$k" "$FSP/$k/$base" || status=verify-failed ;;
      cradle-wire) verify "$tag-$k" "$FSP/g$k/$base" || status=verify-failed ;;
      restic) verify "$tag-$k" "$FSP/$k$DATA" || status=verify-failed ;;
      rsync) verify "$tag-$k" "$FSP/$k" || status=verify-failed ;;
    esac
  done
  record "$SET" "$RUN" "restore$parallel" "$tool" "$status" "$P_WALL" "$(fsum "$P_CPU" "$hcpu")" "$P_CPU" "$hcpu" "$P_RSS" "$hwm" - "$P_LO" - - \
    "$parallel at once; CPU summed, RSS the largest process"
  drop_fs "$FSP"
}

# ---------------------------------------------------------------- one run
rotated() { # K WORDS...: the words, starting at the K-th (mod their count)
  local k=$1; shift
  local words=("$@") i
  for i in "${!words[@]}"; do echo "${words[$(( (i + k) % ${#words[@]} ))]}"; done
}
backup_phase() { # PHASE K
  local t
  for t in $(rotated "$2" cradle rsync rsync-fsync rsync-z restic); do
    say "  $1 backup: $t"
    case $t in
      cradle) backup_cradle "$1" ;;
      restic) backup_restic "$1" ;;
      *) backup_rsync "$1" "$t" ;;
    esac
  done
}

declare -A REPO
one_run() { # SET RUN
  SET=$1 RUN=$2 RUN_TAG="$1-r$2"
  local k=$((RUN - 1)) t files_cap
  files_cap=$((SET_FILES * 2 + 20000))
  fresh_fs "$RUN_TAG-data" "$(fs_size_for "$SET_BYTES" 1.6 "$SET_FILES")" "$files_cap"
  local data_fs=$FS
  copy_set "$data_fs"
  for t in cradle rsync rsync-fsync rsync-z restic; do
    fresh_fs "$RUN_TAG-$t" "$(fs_size_for "$SET_BYTES" 1.7 "$SET_FILES")" "$files_cap"
    REPO[$t]=$FS
  done
  RESTORE_MIB=$(fs_size_for "$SET_BYTES" 1.3 "$SET_FILES")
  RESTORE_INODES=$files_cap
  rsync_conf
  export RESTIC_PASSWORD=cradle-bench RESTIC_REPOSITORY="${REPO[restic]}/repo" RESTIC_CACHE_DIR="${REPO[restic]}/cache"
  restic init >"$LOGS/$RUN_TAG-restic-init.log" 2>&1 || { cat "$LOGS/$RUN_TAG-restic-init.log" >&2; die "restic init"; }
  cradle_host_start "${REPO[cradle]}/host" "$RUN_TAG"
  "$CRADLE" device init --name BENCH --folder "$DATA" --state "${REPO[cradle]}/device" >"$LOGS/$RUN_TAG-init.log" 2>&1 || die "cradle device init"
  warm "$DATA"
  backup_phase first "$k"
  backup_phase unchanged $((k + 1))
  say "  changing the data set"
  local change_args=()
  [[ $SET == mix ]] || change_args=(--shape "$SET")
  python3 "$here/change_dataset.py" $((seed + 1)) "$DATA" "${change_args[@]}" >"$W/$SET.change.txt" || die "change_dataset.py"
  warm "$DATA"
  backup_phase changed $((k + 2))
  cradle_host_stop
  for t in $(rotated $((k + 3)) cradle cradle-wire restic rsync rsync-fsync rsync-z); do
    say "  restore: $t"
    case $t in
      cradle) restore_cradle ;;
      cradle-wire) restore_cradle_wire ;;
      restic) restore_restic ;;
      *) restore_rsync "$t" ;;
    esac
  done
  for t in $(rotated $((k + 4)) cradle cradle-wire restic rsync); do
    say "  $parallel restores at once: $t"
    parallel_restores "$t"
  done
  for t in cradle rsync rsync-fsync rsync-z restic; do drop_fs "${REPO[$t]}"; done
  drop_fs "$data_fs"
}
