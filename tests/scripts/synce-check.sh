#!/usr/bin/env bash
# Points SynCE's host side (an implementation nobody here wrote) at the ActiveSync emulator, the
# way docs/activesync.md describes: dccm in one network namespace, the emulator in another, a veth
# between them, a private D-Bus "system" bus, and the DeviceConnected call that udev would make.
# Then SynCE's tools list, copy, make and remove folders, and read and write the registry.
#
#   tests/scripts/synce-check.sh SYNCE_PREFIX [OS_MAJOR.MINOR]
#   LOCK=password tests/scripts/synce-check.sh ...   # a WM5 device locked with "1234": dccm's ProvidePassword
#   LOCK=unlock tests/scripts/synce-check.sh ...     # a WM6 device unlocked on its screen
#
# SYNCE_PREFIX is where SynCE's core was installed (`make install`, e.g. /work/synce-build/install);
# SynCE is built outside this repository and never copied into it. Needs root (namespaces, port 990),
# dbus-daemon and a built emulator (dotnet build tests/Cradle.ActiveSync.Emulator -c Release).
# Not part of test.sh: CI has no SynCE build. Prints what each tool did and the emulator's counters.
set -uo pipefail
prefix=${1:?usage: synce-check.sh SYNCE_PREFIX [OS_MAJOR.MINOR]}
os=${2:-5.2}
here=$(cd "$(dirname "$0")/../.." && pwd)
emulator="$here/tests/Cradle.ActiveSync.Emulator/bin/Release/net10.0/Cradle.ActiveSync.Emulator"
[ -x "$emulator" ] || { echo "build the emulator first: dotnet build tests/Cradle.ActiveSync.Emulator -c Release" >&2; exit 2; }
id=$$
hns=synce-h$id; dns=synce-d$id; hif=sh$id; dif=sd$id
work=$(mktemp -d /tmp/synce-check.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
  sleep 0.5
  ip netns delete "$hns" 2>/dev/null; ip netns delete "$dns" 2>/dev/null
  if [ -n "${KEEP:-}" ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

ip netns add "$hns"; ip netns add "$dns"
ip link add "$hif" type veth peer name "$dif"
ip link set "$hif" netns "$hns"; ip link set "$dif" netns "$dns"
ip -n "$hns" addr add 169.254.2.2/24 dev "$hif"; ip -n "$dns" addr add 169.254.2.1/24 dev "$dif"
for ns in "$hns" "$dns"; do ip -n "$ns" link set lo up; done
ip -n "$hns" link set "$hif" up; ip -n "$dns" link set "$dif" up

# A private system bus: dccm owns org.synce.dccm on it, the tools find the device through it.
cat > "$work/bus.conf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN" "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>system</type><listen>unix:path=$work/bus</listen><auth>EXTERNAL</auth>
<policy context="default"><allow user="*"/><allow own="*"/><allow send_destination="*"/><allow receive_sender="*"/></policy></busconfig>
CONF
dbus-daemon --config-file="$work/bus.conf" --nofork --nopidfile & pids+=($!)
export DBUS_SYSTEM_BUS_ADDRESS="unix:path=$work/bus"
for _ in $(seq 50); do [ -S "$work/bus" ] && break; sleep 0.1; done
mkdir -p "$prefix/var/run"

case "${LOCK:-}" in password) EMULATED_LOCK=Password ;; unlock) EMULATED_LOCK=UnlockOnDevice ;; *) EMULATED_LOCK=None ;; esac
mkdir -p "$work/device/My Documents/Orders" "$work/device/Storage Card"
printf 'order,qty\n42,7\n' > "$work/device/My Documents/Orders/o-42.csv"
head -c 300000 /dev/urandom > "$work/device/My Documents/photo.jpg"
cat > "$work/emulator.json" <<JSON
{ "filesRoot": "$work/device", "registryFile": "$work/registry.json", "name": "Pocket_PC",
  "osMajor": ${os%.*}, "osMinor": ${os#*.}, "storageCards": ["Storage Card"],
  "lock": "${EMULATED_LOCK}", "password": "1234", "passwordKey": 90, "unlockAfterMs": 300,
  "hostAddress": "169.254.2.2", "hostPort": 990, "triggerAddress": "169.254.2.1", "triggerPort": 5679 }
JSON
mkfifo "$work/emulator.in"
ip netns exec "$dns" "$emulator" --config "$work/emulator.json" < "$work/emulator.in" > "$work/emulator.out" 2>&1 & pids+=($!)
exec 7> "$work/emulator.in"

ip netns exec "$hns" env G_MESSAGES_DEBUG=all DBUS_SYSTEM_BUS_ADDRESS="$DBUS_SYSTEM_BUS_ADDRESS" "$prefix/libexec/dccm" -f -l 6 > "$work/dccm.log" 2>&1 & pids+=($!)
sleep 1
echo "== DeviceConnected (what SynCE's udev script sends when an RNDIS device appears)"
dbus-send --system --print-reply --dest=org.synce.dccm /org/synce/dccm/DeviceManagerControl \
  org.synce.dccm.DeviceManager.Control.DeviceConnected string:/sys/devices/emulated-$id string:169.254.2.1 string:169.254.2.2 boolean:true
for _ in $(seq 50); do grep -q "sending connected signal" "$work/dccm.log" && break; sleep 0.2; done

run() { echo "== $*"; timeout 30 "$@"; echo "(exit $?)"; }
if [ "${LOCK:-}" = password ]; then
  sleep 1
  dev=$(grep -o "/org/synce/dccm/Device/[A-Za-z0-9_]*" "$work/dccm.log" | head -1)
  echo "== ProvidePassword 1234 (dccm's own call for a WM5 device)"
  dbus-send --system --print-reply --dest=org.synce.dccm "$dev" org.synce.dccm.Device.ProvidePassword string:1234
  sleep 1
elif [ "${LOCK:-}" = unlock ]; then
  sleep 2
fi
device=$(grep -o "/org/synce/dccm/Device/[A-Za-z0-9_]*" "$work/dccm.log" | head -1)
echo "== the device as dccm parsed its info message ($device)"
dbus-send --system --print-reply --dest=org.synce.dccm "$device" org.freedesktop.DBus.Properties.GetAll string:org.synce.dccm.Device
export PATH="$prefix/bin:$PATH" LD_LIBRARY_PATH="$prefix/lib"
run synce-pstatus
run synce-pls
run synce-pls "/My Documents/Orders"
run synce-pls -a /
run synce-pls -a "/*.*"
run synce-pcp ":/My Documents/photo.jpg" "$work/photo.copy"
cmp "$work/device/My Documents/photo.jpg" "$work/photo.copy" && echo "photo.jpg copied byte-exact from the device"
printf 'to the device\n' > "$work/upload.txt"
run synce-pcp "$work/upload.txt" ":/My Documents/upload.txt"
cmp "$work/upload.txt" "$work/device/My Documents/upload.txt" && echo "upload.txt landed on the device byte-exact"
run synce-pmkdir "/My Documents/NewFolder"
[ -d "$work/device/My Documents/NewFolder" ] && echo "NewFolder made on the device"
run synce-prmdir "/My Documents/NewFolder"
[ ! -e "$work/device/My Documents/NewFolder" ] && echo "NewFolder removed"
run synce-prm "/My Documents/upload.txt"
[ ! -e "$work/device/My Documents/upload.txt" ] && echo "upload.txt removed"
run synce-registry -r HKLM Ident Name
run synce-registry -n HKLM "Software\\Microsoft\\Windows CE Services\\Partners"
run synce-registry -w -t dword HKLM "Software\\Microsoft\\Windows CE Services\\Partners" PCur 1
run synce-registry -r HKLM "Software\\Microsoft\\Windows CE Services\\Partners" PCur
run synce-registry -l HKLM Ident
echo "== the emulator's registry file after SynCE wrote to it"
cat "$work/registry.json"; echo
echo "counters" >&7; echo "events" >&7; sleep 0.5
echo "== emulator (ready line, its counters, what it noted)"; cat "$work/emulator.out"
echo "== dccm log (the lines about the device)"; [ -n "${VERBOSE:-}" ] && cat "$work/dccm.log"
grep -E "offset|password|unknown|WARNING|CRITICAL|hexdump|info buffer" "$work/dccm.log" | head -60
exec 7>&-
