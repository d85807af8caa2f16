#!/bin/bash
# What ownership before dedup (issue 19) costs on the wire: two devices hold the same file; the
# first backs it up, then the second. Prints, for each device, what its backup sent on the link
# (device side, below TLS: protocol.md §9), the chunks it sent, and the host's pack bytes after
# each backup (the store keeps the file once either way).
#   bench/ownership_wire.sh CRADLE [MIB] [WORK]
# CRADLE: the cradle executable; MIB: the file's size (default 100, random: incompressible);
# WORK: a scratch folder (default a new one under /tmp, removed at the end).
# Consent to the new host is given with --accept-new-host any (a build from before issue 19 has
# no such option and asks for no consent: it is left out there). Run it under the CPU lock:
#   flock /tmp/cradle-cpu.lock bench/ownership_wire.sh src/Cradle.Cli/bin/Release/net10.0/cradle 100
set -euo pipefail
C=$(readlink -f "$1"); MIB=${2:-100}; W=${3:-$(mktemp -d /tmp/cradle-ownwire.XXXXXX)}
HP=
cleanup() { [ -n "$HP" ] && kill "$HP" 2>/dev/null; wait 2>/dev/null; [ -z "${3:-}" ] && rm -rf "$W"; }
trap cleanup EXIT
rm -rf "$W"; mkdir -p "$W/one" "$W/two"
head -c $((MIB * 1024 * 1024)) /dev/urandom > "$W/one/same.bin"
cp "$W/one/same.bin" "$W/two/same.bin"
"$C" host run --data "$W/host" --listen 127.0.0.1:0 --http off --auto-approve --name bench > "$W/host.log" 2>&1 &
HP=$!
for _ in $(seq 1 200); do grep -q "^listening on" "$W/host.log" && break; sleep 0.1; done
ADDR=$(sed -n "s/^listening on \([^ ]*\).*/\1/p" "$W/host.log" | head -1)
packs() { du -sb "$W/host/packs" | cut -f1; }
echo "cradle: $("$C" --version) ($C); file: $MIB MiB random, the same on both devices"
CONSENT=(); "$C" device connect --help 2>&1 | grep -q -- --accept-new-host && CONSENT=(--accept-new-host any)
for device in one two; do
  "$C" device init --name "OWN-$device" --folder "$W/$device" --state "$W/state-$device" > /dev/null
  "$C" device connect --host "$ADDR" --once "${CONSENT[@]}" --state "$W/state-$device" --json > "$W/$device.json"
  python3 - "$W/$device.json" "$device" "$(packs)" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"device {sys.argv[2]}: {r['wireBytesSent']:,} bytes sent on the link ({r['wireBytesSent'] / 1048576:.1f} MiB), "
      f"{r['chunksSent']:,} chunks sent, {r['seconds']:.1f} s; host packs now {int(sys.argv[3]):,} bytes")
PY
done
