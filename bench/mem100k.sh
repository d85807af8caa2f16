#!/bin/bash
# Peak memory of host and device on a large file set, without the peers of compare.sh:
#   bench/mem100k.sh CRADLE DATA WORK
# CRADLE: the cradle executable (an AOT build); DATA: a folder to back up (compare.sh
# --small-files makes the 100,000-file set); WORK: a scratch folder (emptied). Starts a host on
# loopback, backs DATA up twice (first, unchanged) and restores it on the host, printing wall
# time and peak RSS of each step and the host's VmHWM after each backup.
set -u
C=$1; DATA=$2; W=$3
rm -rf "$W"; mkdir -p "$W"
"$C" host run --data "$W/host" --listen 127.0.0.1:0 --http off --auto-approve > "$W/host.log" 2>&1 &
HP=$!
for i in $(seq 1 100); do grep -q "listening on" "$W/host.log" && break; sleep 0.1; done
ADDR=$(sed -n "s/^listening on //p" "$W/host.log" | head -1)
"$C" device init --name BENCH --folder "$DATA" --state "$W/device" > "$W/init.log" 2>&1
for phase in first unchanged; do
  /usr/bin/time -f "$phase device: %e s wall, %M KB peak" "$C" device connect --host "$ADDR" --once --accept-new-host any --state "$W/device" > "$W/$phase.out" 2> "$W/$phase.err"; tail -1 "$W/$phase.err"
  grep VmHWM /proc/$HP/status | sed "s/^/$phase host (cumulative) /"
done
rm -rf "$W/restore"; /usr/bin/time -f "host restore: %e s wall, %M KB peak" "$C" host restore BENCH --to "$W/restore" --data "$W/host" 2>&1 | tail -1
kill $HP; wait $HP 2>/dev/null
