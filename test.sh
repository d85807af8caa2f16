#!/usr/bin/env bash
# Runs every test of Cradle: unit, integration and end-to-end (the real `cradle` executable).
# Installs what the tests need when it is missing, so a fresh machine passes.
set -euo pipefail
cd "$(dirname "$0")"

need() { # need COMMAND-OR-FILE DEBIAN-PACKAGE: install the package when the command (or file) is missing
  { command -v "$1" || [ -e "$1" ]; } >/dev/null 2>&1 && return 0
  echo "test.sh: installing $2 (for $1)" >&2
  if [ "$(id -u)" -ne 0 ]; then echo "test.sh: $1 is missing and this is not root: apt-get install $2" >&2; exit 1; fi
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
}
need dotnet dotnet-sdk-10.0
need kill procps
need mount mount   # the full-disk test mounts a small tmpfs (needs root, as CI is)
need prlimit util-linux   # the connection-flood test lowers the host's open-file limit
need ip iproute2    # the USB tests make network namespaces and a veth pair (root)
need tc iproute2    # … and shape it to USB 2.0 speed
need chromium chromium   # the dashboard's browser tests drive it headless (Playwright, no browser download)
# S3 pack storage is tested against Ceph's RADOS gateway on loopback (tests/scripts/rgw.sh).
if ! command -v ceph-mon >/dev/null 2>&1 || ! command -v ceph-osd >/dev/null 2>&1 || ! command -v radosgw >/dev/null 2>&1; then
  if [ "$(id -u)" -ne 0 ]; then echo "test.sh: Ceph is missing and this is not root: apt-get install --no-install-recommends ceph-mon ceph-osd radosgw" >&2; exit 1; fi
  echo "test.sh: installing ceph-mon ceph-osd radosgw (the S3 tests' server)" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ceph-mon ceph-osd radosgw >/dev/null
fi
# The catalog tests run on PostgreSQL too: tests/postgres.sh starts a throw-away cluster from the server's binaries.
tests/postgres.sh bindir >/dev/null 2>&1 || need /usr/lib/postgresql/15/bin/postgres postgresql
need psql postgresql-client
need openssl openssl   # the TLS-version test offers TLS 1.0/1.1 with openssl s_client
# The device agent for ARM handhelds is cross-built here (native AOT for linux-arm64 on x64:
# Directory.Build.props) with Debian's cross toolchain, and run under qemu's user-mode emulator.
need clang clang
need ld.lld lld
need aarch64-linux-gnu-objcopy binutils-aarch64-linux-gnu
need aarch64-linux-gnu-gcc gcc-aarch64-linux-gnu   # clang finds the arm64 crt files and libgcc through it
need /usr/aarch64-linux-gnu/lib/libc.so libc6-dev-arm64-cross
need qemu-aarch64-static qemu-user-static
# … and run with Debian's arm64 loader, libc and libssl (TLS on every link): multiarch packages.
if [ ! -e /usr/lib/aarch64-linux-gnu/libssl.so.3 ]; then
  if [ "$(id -u)" -ne 0 ]; then echo "test.sh: libssl3:arm64 is missing and this is not root: dpkg --add-architecture arm64; apt-get install libssl3:arm64" >&2; exit 1; fi
  echo "test.sh: installing libssl3:arm64 (for the arm64 device agent under qemu)" >&2
  dpkg --add-architecture arm64
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libssl3:arm64 >/dev/null
fi
need unzip unzip
need strings binutils

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
configuration=${CONFIGURATION:-Release}
dotnet build Cradle.slnx -c "$configuration" -v quiet -nologo
log=$(mktemp)
status=0
# Unit and integration tests, and of the end-to-end suite only the round trips: they run the
# framework-dependent `cradle` (what the tool package holds for other platforms) on the JIT.
jit_filter="FullyQualifiedName!~Cradle.EndToEnd.Tests|FullyQualifiedName~Cradle.EndToEnd.Tests.RoundTripTests"
dotnet test Cradle.slnx -c "$configuration" --no-build -v quiet -nologo --filter "$jit_filter" --logger "console;verbosity=minimal" 2>&1 | tee "$log" || status=$?
# The shipped executable is native AOT, shipped as a .NET tool package: the pointer package and
# the native package for this machine's RID (packing it publishes with AOT: trim and AOT warnings
# fail the build). Install it into a temporary tool path, from those packages only, and run the
# whole end-to-end suite against the installed command (the round trips a second time).
work=$(mktemp -d)
rid=$(dotnet --info | awk '/^ *RID:/ { print $2; exit }')
dotnet pack src/Cradle.Cli -c "$configuration" -o "$work/packages" -v quiet -nologo
dotnet pack src/Cradle.Cli -c "$configuration" -r "$rid" -o "$work/packages" -v quiet -nologo
printf '<configuration><packageSources><clear /><add key="local" value="%s" /></packageSources></configuration>\n' "$work/packages" > "$work/nuget.config"
dotnet tool install cradle --tool-path "$work/tools" --configfile "$work/nuget.config" >/dev/null
echo "installed tool: $("$work/tools/cradle" --version) ($(readlink -f "$work/tools/cradle"))"
# The device agent on its own (cradle-device, docs/layout.md), packed as it ships: the pointer
# package and the native packages for this machine and for ARM handhelds (linux-arm64). The
# native one for this machine is installed and checked against the handheld's budget (size cap,
# no host library inside; the check must fail on the all-in-one, which holds them); the arm64
# one runs under qemu against this machine's host in the end-to-end suite (Arm64DeviceAgentTests).
started=$SECONDS
dotnet pack src/Cradle.DeviceAgent -c "$configuration" -o "$work/packages" -v quiet -nologo
dotnet pack src/Cradle.DeviceAgent -c "$configuration" -r "$rid" -o "$work/packages" -v quiet -nologo
dotnet pack src/Cradle.DeviceAgent -c "$configuration" -r linux-arm64 -o "$work/packages" -v quiet -nologo
# The framework-dependent fallback the pointer names ('any'): an AOT tool's plain pack does not
# write it. It must hold the tool and run on the .NET runtime.
dotnet pack src/Cradle.DeviceAgent -c "$configuration" -r any -o "$work/packages" -v quiet -nologo
unzip -q -o "$work/packages"/cradle-device.any.*.nupkg 'tools/*' -d "$work/any"
if ! dotnet "$work/any/tools/net10.0/any/cradle-device.dll" --version >/dev/null; then
  echo "test.sh: the framework-dependent cradle-device.any package does not run" >&2; status=1
fi
dotnet tool install cradle-device --tool-path "$work/tools" --configfile "$work/nuget.config" >/dev/null
tests/scripts/check-device-agent.sh "$(readlink -f "$work/tools/cradle-device")" || status=1
if tests/scripts/check-device-agent.sh "$(readlink -f "$work/tools/cradle")" >/dev/null 2>&1; then
  echo "test.sh: check-device-agent.sh passed the all-in-one cradle: the check cannot fail" >&2; status=1
fi
unzip -q -o "$work/packages"/cradle-device.linux-arm64.*.nupkg 'tools/*' -d "$work/arm64"
export CRADLE_DEVICE_ARM64=$(find "$work/arm64/tools" -name cradle-device -type f)
chmod +x "$CRADLE_DEVICE_ARM64"
echo "device agent packages: $(cd "$work/packages" && ls cradle-device.*.nupkg | tr '\n' ' ')($((SECONDS - started)) s)"
CRADLE_EXE="$work/tools/cradle" CRADLE_DEVICE_EXE="$work/tools/cradle-device" dotnet test tests/Cradle.EndToEnd.Tests -c "$configuration" --no-build -v quiet -nologo --logger "console;verbosity=minimal" 2>&1 | tee -a "$log" || status=$?
rm -rf "$work"
# A short coverage-guided fuzzing pass (afl-fuzz + SharpFuzz, 15 s per in-memory decoder, from
# tests/corpus): a crash, a foreign exception or an allocation over the bound fails CI (docs/hostile.md).
CONFIGURATION="$configuration" tests/scripts/afl.sh 15 frames linkframe chunkdata tree pack || status=$?
# One closing line over every test assembly.
awk '/(Passed|Failed)!/ { for (i = 1; i <= NF; i++) { if ($i == "Failed:") f += $(i+1); if ($i == "Passed:") p += $(i+1); if ($i == "Skipped:") s += $(i+1) } }
     END { gsub(",", "", p); printf "%d passed, %d failed, %d skipped\n", p, f, s }' "$log"
rm -f "$log"
exit $status
