#!/usr/bin/env bash
# many_small_changed.sh CRADLE LABEL: a host and a device on loopback; 20,000 small files (seed 1)
# backed up, 100 of them changed, backed up again. Times: read them from WORK/host.log (the
# device's partnership, then its "connected" line, to each "snapshot N committed"). The yardstick
# of the owned-lookup plan regression (docs/BENCHMARKS.md). Run under the CPU lock:
#   flock /tmp/cradle-cpu.lock bench/many_small_changed.sh path/to/cradle after
set -e
if [ "${1:-}" = "--help" ] || [ $# -lt 2 ]; then sed -n 2,7p "$0"; exit 0; fi
C=$1; L=$2; W=${BENCH_DIR:-/tmp/cradle-bench}/many-small-$L
rm -rf $W; mkdir -p $W
python3 - $W <<'PY'
import os, random, sys
random.seed(1); w=sys.argv[1]
for i in range(20000):
    d=f"{w}/data/f{i//200}"; os.makedirs(d, exist_ok=True)
    open(f"{d}/r{i}.json","w").write(''.join(random.choice('abcdefghij ') for _ in range(random.randint(200,4000))))
PY
$C host run --data $W/host --listen 127.0.0.1:0 --http off --auto-approve > $W/host.log 2>&1 &
HP=$!
for i in $(seq 50); do grep -q "^listening on" $W/host.log && break; sleep 0.2; done
A=$(sed -n 's/^listening on //p' $W/host.log | head -1)
$C device init --name SLOW --folder $W/data --state $W/dev >/dev/null
/usr/bin/time -f "$L first %e s" $C device connect --host $A --once --accept-new-host any --state $W/dev --json > $W/first.json 2>/dev/null
for i in $(seq 0 50 4999); do echo x >> $W/data/f$((i/200))/r$i.json; done
/usr/bin/time -f "$L changed %e s" $C device connect --host $A --once --accept-new-host any --state $W/dev --json > $W/changed.json 2>/dev/null
kill $HP; wait $HP || true
