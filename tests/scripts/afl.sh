#!/usr/bin/env bash
# A coverage-guided fuzzing pass (afl-fuzz + SharpFuzz) over the decoder targets of
# tests/Cradle.Fuzz.Tests, starting from the seed corpus in tests/corpus/TARGET.
#
#   afl.sh [SECONDS-PER-TARGET] [TARGET...]   default: 60 s over frames linkframe chunkdata tree pack
#
# Builds tests/Cradle.Fuzz.Afl, copies its output to a work folder and instruments the Cradle
# assemblies there (the build output stays as it was), then runs afl-fuzz on one target at a
# time. The harness applies the property tests' check: a foreign exception or an allocation over
# the bound is a crash. Prints per target: executions, corpus paths (seeds + found), crashes,
# hangs. A crashing input is copied to tests/corpus/TARGET/regress-afl-HASH.bin (turn it into a
# regression test) and the script exits 1; hangs are reported and kept in the work folder, which
# is then left in place. Installs afl++ (apt, as root) and the SharpFuzz.CommandLine tool
# (into $CRADLE_SHARPFUZZ_TOOLS, default ~/.cache/cradle/sharpfuzz-2.3.0) when missing.
# CONFIGURATION (default Release) is the build configuration; CRADLE_BUILD_LOCK, when set,
# is a file the build step holds with flock (a shared machine).
set -euo pipefail
cd "$(dirname "$0")/../.."

seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(frames linkframe chunkdata tree pack)
configuration=${CONFIGURATION:-Release}
timeout_ms=${CRADLE_AFL_TIMEOUT_MS:-2000}   # one input; a decode this slow on at most 1 MiB is a hang
max_seed=$((1024 * 1024))                    # afl-fuzz refuses larger test cases (MAX_FILE)
tools=${CRADLE_SHARPFUZZ_TOOLS:-$HOME/.cache/cradle/sharpfuzz-2.3.0}

if ! command -v afl-fuzz >/dev/null 2>&1; then
  if [ "$(id -u)" -ne 0 ]; then echo "afl.sh: afl-fuzz is missing and this is not root: apt-get install afl++" >&2; exit 1; fi
  echo "afl.sh: installing afl++" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq afl++ >/dev/null
fi
if [ ! -x "$tools/sharpfuzz" ]; then
  echo "afl.sh: installing SharpFuzz.CommandLine 2.3.0 into $tools" >&2
  dotnet tool install SharpFuzz.CommandLine --version 2.3.0 --tool-path "$tools" >/dev/null
fi

locked() { if [ -n "${CRADLE_BUILD_LOCK:-}" ]; then flock "$CRADLE_BUILD_LOCK" "$@"; else "$@"; fi; }
started=$SECONDS
locked dotnet build tests/Cradle.Fuzz.Afl -c "$configuration" -v quiet -nologo >/dev/null

work=$(mktemp -d "${TMPDIR:-/tmp}/cradle-afl.XXXXXX")
cp -r "tests/Cradle.Fuzz.Afl/bin/$configuration/net10.0" "$work/harness"
for assembly in Cradle.Protocol Cradle.Links Cradle.Store Cradle.Device; do
  "$tools/sharpfuzz" "$work/harness/$assembly.dll" >/dev/null
done
echo "afl.sh: harness built and instrumented in $((SECONDS - started)) s" >&2

# afl-fuzz on a shared CI machine: no CPU governor check, no core pinning, no crash-core
# pattern check; the target is `dotnet`, whose ELF carries no AFL instrumentation (the
# rewritten assemblies do).
export AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1 AFL_NO_AFFINITY=1 AFL_SKIP_BIN_CHECK=1
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 TMPDIR="$work"   # the harness's scratch files stay in $work

stat_of() { awk -F' *: *' -v k="$2" '$1 == k { print $2; found = 1 } END { if (!found) print "?" }' "$1"; }
crashed=0 hung=0
printf '%-18s %10s %8s %8s %8s %6s %8s\n' target execs paths found crashes hangs seconds
for target in "${targets[@]}"; do
  mkdir -p "$work/in/$target"
  find "tests/corpus/$target" -maxdepth 1 -type f -size -$((max_seed + 1))c -exec cp {} "$work/in/$target/" \;
  out="$work/out/$target"
  mkdir -p "$work/out"
  started=$SECONDS
  if ! afl-fuzz -i "$work/in/$target" -o "$out" -t "$timeout_ms" -m none -V "$seconds" -- \
      "$(command -v dotnet)" "$work/harness/Cradle.Fuzz.Afl.dll" "$target" >"$work/$target.log" 2>&1; then
    echo "afl.sh: afl-fuzz failed on $target; its output:" >&2
    tail -n 30 "$work/$target.log" >&2
    exit 1
  fi
  stats="$out/default/fuzzer_stats"
  crashes=$(find "$out/default/crashes" -type f -name 'id:*' | wc -l)
  hangs=$(find "$out/default/hangs" -type f -name 'id:*' | wc -l)
  printf '%-18s %10s %8s %8s %8s %6s %8s\n' "$target" "$(stat_of "$stats" execs_done)" "$(stat_of "$stats" corpus_count)" \
    "$(stat_of "$stats" corpus_found)" "$crashes" "$hangs" "$((SECONDS - started))"
  for input in "$out"/default/crashes/id:*; do
    [ -f "$input" ] || continue
    copy="tests/corpus/$target/regress-afl-$(sha256sum "$input" | cut -c1-12).bin"
    cp "$input" "$copy"
    echo "afl.sh: $target crashed on $copy (replay: dotnet $work/harness/Cradle.Fuzz.Afl.dll $target < $copy)" >&2
    crashed=1
  done
  if [ "$hangs" -gt 0 ]; then
    echo "afl.sh: $target hung (over $timeout_ms ms) on the inputs in $out/default/hangs" >&2
    hung=1
  fi
done

if [ $crashed -eq 0 ] && [ $hung -eq 0 ]; then rm -rf "$work"; else echo "afl.sh: findings kept in $work" >&2; fi
exit $crashed
