#!/usr/bin/env bash
# Checks a published device agent (cradle-device, native AOT) against what a handheld may carry:
#
#   check-device-agent.sh EXECUTABLE [MAX-BYTES]      default cap: 12,000,000 bytes (issue 21)
#
# Fails (exit 1, saying what) when the executable is larger than the cap, or when its strings
# name a host-side library or project: a reference put back by mistake ships the host's code
# to every handheld, and this is what makes CI notice. Prints the size on success.
set -euo pipefail
exe=$1
cap=${2:-12000000}
size=$(stat -c %s "$exe")
status=0
if [ "$size" -gt "$cap" ]; then
  echo "check-device-agent: $exe is $size bytes, over the cap of $cap" >&2
  status=1
fi
# Type and assembly names survive native AOT compilation as strings (reflection metadata,
# stack traces); a library that is linked in leaves its namespace there. A test project's name
# (InternalsVisibleTo("Cradle.Store.Tests") on a shared assembly) is not code and does not count.
for name in Npgsql Microsoft.Data.Sqlite SQLitePCL AWSSDK Amazon.S3 Microsoft.AspNetCore Kestrel Cradle.Host Cradle.Store; do
  count=$(strings -n 6 "$exe" | grep -F "$name" | grep -v -c -F "$name.Tests" || true)
  if [ "$count" -ne 0 ]; then
    echo "check-device-agent: $exe holds $count strings naming $name (a host dependency)" >&2
    status=1
  fi
done
# Nor what the agent does without since issue 21's figures: the HTTP stack (reached only by the
# X.509 chain's certificate downloads, which NoCertificateDownloads.xml takes out) and
# Spectre.Console (the all-in-one's tables and bar). Either back is ~1 MB and a slower start.
for name in HttpMessageHandler Spectre.Console; do
  count=$(strings -n 6 "$exe" | grep -c -F "$name" || true)
  if [ "$count" -ne 0 ]; then
    echo "check-device-agent: $exe holds $count strings naming $name (left out of the agent: docs/BENCHMARKS.md)" >&2
    status=1
  fi
done
[ $status -eq 0 ] && echo "check-device-agent: $exe: $size bytes (cap $cap), no host library inside"
exit $status
