#!/usr/bin/env bash
# BenchmarkDotNet micro-benchmarks (bench/Cradle.Benchmarks: chunker, hashing, compression,
# frames, catalog lookups) with BenchmarkDotNet's short job (3 warm-ups, 3 iterations, one
# launch): a few minutes for all of them. Extra arguments go to BenchmarkDotNet and replace
# the default --filter '*', e.g.  bench/micro.sh --filter '*Chunker*'
#
# Environment:
#   BENCH_DIR   work folder (default /tmp/cradle-bench); the run's artifacts go to
#               BENCH_DIR/micro/BenchmarkDotNet.Artifacts (deleted first), the markdown
#               reports (*-report-github.md, one per benchmark class) and the console log to
#               BENCH_DIR/micro. A run of all of them first deletes the reports there; a
#               filtered run replaces only the reports of the classes it ran.
#
# The whole run holds the CPU lock (/tmp/cradle-cpu.lock; CRADLE_CPU_LOCK): on this 2-core machine a build beside it would
# both slow the build and spoil the measurements.
set -euo pipefail
export LC_ALL=C DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

here="$(cd "$(dirname "$0")" && pwd)"
BENCH_DIR="${BENCH_DIR:-/tmp/cradle-bench}"
out="$BENCH_DIR/micro"
artifacts="$out/BenchmarkDotNet.Artifacts"
rm -rf "$artifacts"
mkdir -p "$out"

args=("$@")
if [[ ${#args[@]} -eq 0 ]]; then
  args=(--filter '*')
  rm -f "$out"/*-report-github.md
fi

# Held until the script exits; not passed to dotnet (9>&-), so that no build server it leaves
# behind keeps the lock.
exec 9>"${CRADLE_CPU_LOCK:-/tmp/cradle-cpu.lock}"
flock 9
echo "Load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)" | tee "$out/run.log"
dotnet run -c Release --project "$here/Cradle.Benchmarks" -- --job short --artifacts "$artifacts" "${args[@]}" 9>&- \
  | tee -a "$out/run.log"
echo "Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/run.log"

cp "$artifacts"/results/*-report-github.md "$out/"
echo "Reports: $out/*-report-github.md; log: $out/run.log"
