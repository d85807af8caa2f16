# Sourced by bench/serial.sh (not run): the data sets over the serial line, Cradle against
# rsync -z (see serial.sh --help). Uses serial.sh's start_relay/stop_relay/relay_forwarded and
# links_common.sh's helpers; writes W/sets.tsv.

SETS_MEAS="$W/sets.tsv"
RSYNC_PORT=8873   # the device's rsync daemon, inside this script's own namespace
BRIDGE_PORT=8874  # the host's end of the line, for the rsync client

# set_transfer_record SET RUN PHASE TOOL RC WALL BYTES WIRE NOTE
set_transfer_record() {
  local IFS=$'\t'
  echo "$*	$(relay_forwarded device-\>host)	$(relay_forwarded host-\>device)	$(tr '\n' ' ' <"$RELAY_LOG")" >>"$SETS_MEAS"
}

serial_cradle() { # PHASE
  local phase=$1 tag="$RUN_TAG-$1-cradle" rc wall wire note
  start_relay "$tag"
  "$CRADLE" host run --data "$CR/host" --listen 127.0.0.1:0 --http off --serial "$HOSTPTY@$baud" >"$LOGS/$tag.host" 2>&1 &
  host_pid=$!
  wait_listening "$LOGS/$tag.host" "$host_pid"
  say "  $phase: cradle device connect --serial $DEVPTY --baud $baud --once"
  sync
  set +e
  /usr/bin/time -f '%e %U %S %M' -o "$LOGS/$tag.time" \
    "$CRADLE" device connect --state "$CR/device" --serial "$DEVPTY" --baud "$baud" --once --json >"$LOGS/$tag.json" 2>"$LOGS/$tag.err"
  rc=$?
  set -e
  read -r wall _ < <(tail -n1 "$LOGS/$tag.time")
  stop_pid "$host_pid"; host_pid=""
  stop_relay
  IFS=$'\t' read -r wire note < <(python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
print("%d\tread %d files, %.2f MiB; %d chunks sent; %.1f s by its own clock" % (j["wireBytesSent"] + j["wireBytesReceived"], j["filesRead"], j["bytesRead"] / 1048576, j["chunksSent"], j["seconds"]))
' "$LOGS/$tag.json" 2>/dev/null || printf -- '-\tno JSON from the device\n')
  [[ $rc -eq 0 ]] || { say "  exit $rc"; tail -5 "$LOGS/$tag.err" | sed 's/^/    /' >&2; }
  set_transfer_record "$SET" "$RUN" "$phase" cradle "$rc" "$wall" "$SET_BYTES_NOW" "$wire" "$note"
  say "  exit $rc, wall $wall s"
}

serial_rsync() { # PHASE: the host pulls through socat - line - socat from the device's daemon
  local phase=$1 tag="$RUN_TAG-$1-rsync-z" rc wall i
  start_relay "$tag"
  /usr/bin/time -f '%e %U %S %M' -o "$LOGS/$tag.daemon.time" ip netns exec "$NS" rsync --daemon --no-detach --config="$W/rsyncd.conf" >"$LOGS/$tag.daemon.log" 2>&1 &
  rsyncd_pid=$!
  for i in $(seq 1 100); do ip netns exec "$NS" grep -q "0100007F:$(printf '%04X' $RSYNC_PORT) 00000000:0000 0A" /proc/net/tcp && break; sleep 0.05; done
  # The device's end: the line to the daemon. The host's end: a port to the line. socat opens
  # its addresses in order, so the daemon's greeting waits in the host's pty until the client comes.
  ip netns exec "$NS" socat -T 60 "FILE:$DEVPTY,raw,echo=0" "TCP:127.0.0.1:$RSYNC_PORT" 2>"$LOGS/$tag.socat-device" &
  bridge_pids=($!)
  ip netns exec "$NS" socat -T 60 "TCP-LISTEN:$BRIDGE_PORT,bind=127.0.0.1,reuseaddr" "FILE:$HOSTPTY,raw,echo=0" 2>"$LOGS/$tag.socat-host" &
  bridge_pids+=($!)
  for i in $(seq 1 100); do ip netns exec "$NS" grep -q "0100007F:$(printf '%04X' $BRIDGE_PORT) 00000000:0000 0A" /proc/net/tcp && break; sleep 0.05; done
  say "  $phase: rsync -az through the line"
  sync
  set +e
  /usr/bin/time -f '%e %U %S %M' -o "$LOGS/$tag.time" \
    ip netns exec "$NS" rsync -az --delete --stats "rsync://127.0.0.1:$BRIDGE_PORT/data/" "$RS/tree/" >"$LOGS/$tag.out" 2>"$LOGS/$tag.err"
  rc=$?
  set -e
  read -r wall _ < <(tail -n1 "$LOGS/$tag.time")
  local p
  for p in "${bridge_pids[@]}"; do stop_pid "$p"; done
  bridge_pids=()
  [[ -s "$W/rsyncd.pid" ]] && kill "$(cat "$W/rsyncd.pid")" 2>/dev/null
  wait "$rsyncd_pid" 2>/dev/null || true
  rsyncd_pid=""
  stop_relay
  [[ $rc -eq 0 ]] || { say "  exit $rc"; tail -5 "$LOGS/$tag.err" | sed 's/^/    /' >&2; }
  set_transfer_record "$SET" "$RUN" "$phase" rsync-z "$rc" "$wall" "$SET_BYTES_NOW" \
    "$(awk -F': ' '/^Total bytes sent:/ { gsub(/,/, "", $2); s = $2 } /^Total bytes received:/ { gsub(/,/, "", $2); r = $2 } END { print s + r }' "$LOGS/$tag.out")" \
    "$(awk -F': ' '/^Number of regular files transferred:/ { f = $2 } /^Literal data:/ { l = $2 } END { printf "%s files transferred, literal data %s", f, l }' "$LOGS/$tag.out")"
  say "  exit $rc, wall $wall s"
}

serial_set_run() { # SET RUN
  SET=$1 RUN=$2 RUN_TAG="serial-$1-r$2"
  local caps dfs order t
  caps=$((SET_FILES * 2 + 20000))
  fresh_fs "$RUN_TAG-data" "$(fs_size_for "$SET_BYTES" 1.6 "$SET_FILES")" "$caps"; dfs=$FS
  copy_set "$dfs"
  fresh_fs "$RUN_TAG-cradle" "$(fs_size_for "$SET_BYTES" 1.7 "$SET_FILES")" "$caps"; CR=$FS
  fresh_fs "$RUN_TAG-rsync" "$(fs_size_for "$SET_BYTES" 1.7 "$SET_FILES")" "$caps"; RS=$FS
  mkdir -p "$RS/tree"
  printf 'pid file = %s\naddress = 127.0.0.1\nport = %s\nuse chroot = no\nuid = root\ngid = root\n[data]\n  path = %s\n  read only = true\n' \
    "$W/rsyncd.pid" "$RSYNC_PORT" "$DATA" >"$W/rsyncd.conf"
  "$CRADLE" device init --name SERIAL --folder "$DATA" --state "$CR/device" >"$LOGS/$RUN_TAG.init" 2>&1 || die "device init"
  warm "$DATA"
  SET_BYTES_NOW=$SET_BYTES
  order=(cradle rsync-z); [[ $((RUN % 2)) -eq 0 ]] && order=(rsync-z cradle)
  for t in "${order[@]}"; do if [[ $t == cradle ]]; then serial_cradle first; else serial_rsync first; fi; done
  local change_args=(); [[ $SET == mix ]] || change_args=(--shape "$SET")
  python3 "$here/change_dataset.py" $((seed + 1)) "$DATA" "${change_args[@]}" >"$W/$SET.change.txt" || die "change_dataset.py"
  SET_BYTES_NOW=$(find "$DATA" -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')
  warm "$DATA"
  for t in "${order[@]}"; do if [[ $t == cradle ]]; then serial_cradle changed; else serial_rsync changed; fi; done
  drop_fs "$RS"; drop_fs "$CR"; drop_fs "$dfs"
}

serial_sets() {
  make_lo_ns
  printf 'set\trun\tphase\ttool\trc\twall\tbytes\twire\tnote\tdev_to_host\thost_to_dev\trelay_stats\n' >"$SETS_MEAS"
  local i run
  for i in "${!set_list[@]}"; do
    cpu_lock
    pristine_set "${set_list[$i]}" "$seed" "${scale_list[$i]}"
    cpu_unlock
    echo "$SET_DESC" >"$W/${set_list[$i]}.desc.txt"
    for run in $(seq 1 "$runs"); do
      cpu_lock
      say "== serial, ${set_list[$i]}, run $run of $runs"
      serial_set_run "${set_list[$i]}" "$run"
      cpu_unlock
    done
  done
}
