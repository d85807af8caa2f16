#!/usr/bin/env bash
# The USB link figure (issue 4): the first backup of the seeded 500 MB handheld set over a veth
# pair shaped to USB 2.0's 480 Mbit/s, against the time the link itself needs for the bytes
# Cradle sent, and the same backup over plain loopback for reference.
#
#   sudo bench/usb.sh [--runs N] [--rate-mbit M] [--tcp-mib N] [--seed N] [--scale F]
#
#   --runs N        backups per link, each a first backup into an empty host (default 3)
#   --rate-mbit M   the shaped rate (default 480)
#   --tcp-mib N     MiB for the plain TCP transfer through the shaped link (default 256)
#   --seed, --scale the data set (default 42 and 1, the set compare.sh measures)
#
# Environment:
#   BENCH_DIR    work folder (default /tmp/cradle-bench); the data set is written once into
#                BENCH_DIR/links/data and reused; this script's run goes to BENCH_DIR/links/usb
#                (deleted first), its tables to BENCH_DIR/links/usb/results.md
#   CRADLE_BIN   use this cradle executable instead of publishing the working tree
#   CRADLE_REF   publish this git ref instead of the working tree (e.g. HEAD: no uncommitted changes)
#
# What it builds, as root: two network namespaces of its own (cradle-bh<pid>, cradle-bd<pid>),
# lo up in both, a veth pair between them (host end 169.254.2.2/24, device end 169.254.2.1/24,
# the addresses Windows Mobile Device Center used) and `tc qdisc add dev IFACE root tbf rate
# <M>mbit burst 256kb latency 50ms` on both ends. All of it is deleted on exit.
#
# Per run: `cradle host run --data … --listen 127.0.0.1:0 --usb <host end>` in the host
# namespace, a fresh `cradle device init`, the data set read once into the page cache, then
# `cradle device connect --state … --usb <device end> --once --json` in the device namespace
# under /usr/bin/time. The loopback reference runs host and device both in the host namespace
# (its own lo, so the lo counters hold only this backup) with --auto-approve and --host.
# The measurements hold the CPU lock (/tmp/cradle-cpu.lock; CRADLE_CPU_LOCK), so no build runs beside them.
set -euo pipefail
export LC_ALL=C DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$here")"
runs=3
rate_mbit=480
tcp_mib=256
seed=42
scale=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --runs) runs=${2:?}; shift ;;
    --rate-mbit) rate_mbit=${2:?}; shift ;;
    --tcp-mib) tcp_mib=${2:?}; shift ;;
    --seed) seed=${2:?}; shift ;;
    --scale) scale=${2:?}; shift ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "usb.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
[[ $(id -u) -eq 0 ]] || { echo "usb.sh: needs root (network namespaces, tc)" >&2; exit 2; }

# shellcheck source=bench/links_common.sh
source "$here/links_common.sh"
bench_dir_checked
W="$BENCH_DIR/links/usb"
rm -rf "$W"
mkdir -p "$W/logs"
LOGS="$W/logs"
MEAS="$W/measurements.tsv"

need=()
[[ -x /usr/bin/time ]] || need+=(time)
command -v tc >/dev/null || need+=(iproute2)
if [[ ${#need[@]} -gt 0 ]]; then
  say "installing ${need[*]} with apt-get"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >"$LOGS/apt.log" 2>&1 || die "apt-get install ${need[*]}"
fi

# ---------------------------------------------------------------- cleanup of what this script made
HNS="cradle-bh$$"
DNS="cradle-bd$$"
HIF="cbh$$"
DIF="cbd$$"
made_ns=()
host_pid=""
rx_pid=""
cleanup() {
  stop_pid "$host_pid"
  stop_pid "$rx_pid"
  local ns
  for ns in "${made_ns[@]}"; do ip netns delete "$ns" 2>/dev/null || say "could not delete namespace $ns"; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cradle_binary
handheld_dataset "$seed" "$scale"

# ---------------------------------------------------------------- the cable
say "making namespaces $HNS, $DNS and the veth pair $HIF <-> $DIF at $rate_mbit Mbit/s"
ip netns add "$HNS"; made_ns+=("$HNS")
ip netns add "$DNS"; made_ns+=("$DNS")
ip link add "$HIF" type veth peer name "$DIF"
ip link set "$HIF" netns "$HNS"
ip link set "$DIF" netns "$DNS"
ip -n "$HNS" addr add 169.254.2.2/24 dev "$HIF"
ip -n "$DNS" addr add 169.254.2.1/24 dev "$DIF"
ip -n "$HNS" link set lo up
ip -n "$DNS" link set lo up
ip netns exec "$HNS" tc qdisc add dev "$HIF" root tbf rate "${rate_mbit}mbit" burst 256kb latency 50ms
ip netns exec "$DNS" tc qdisc add dev "$DIF" root tbf rate "${rate_mbit}mbit" burst 256kb latency 50ms
ip -n "$HNS" link set "$HIF" up
ip -n "$DNS" link set "$DIF" up
mtu=$(ip netns exec "$DNS" cat "/sys/class/net/$DIF/mtu")
counter() { ip netns exec "$1" cat "/sys/class/net/$2/statistics/$3"; }  # NS IFACE tx_bytes|rx_bytes|tx_packets
tbf_stats() { ip netns exec "$DNS" tc -s qdisc show dev "$DIF" | tr '\n' ' ' | sed 's/  */ /g'; }
# Bytes tbf let out of the device end: unlike the interface counter, which counts a GSO packet's
# headers once, this counts every segment's Ethernet, IP and TCP headers (qdisc_pkt_len).
tbf_sent() { ip netns exec "$DNS" tc -s qdisc show dev "$DIF" | awk '$1 == "Sent" { print $2; exit }'; }

# From here on no build may run beside the measurements.
exec 9>"$CPU_LOCK"
say "waiting for the build lock"
flock 9
load_start=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------- the link's own rate
tcp_bytes=$(( tcp_mib * 1048576 ))
say "plain TCP through the shaped veth: $tcp_mib MiB device -> host"
ip netns exec "$HNS" python3 "$here/link_tcp_rate.py" receive 169.254.2.2 >"$LOGS/tcp-receive.out" 2>&1 &
rx_pid=$!
for _ in $(seq 1 100); do grep -q '^port ' "$LOGS/tcp-receive.out" && break; sleep 0.05; done
rx_port=$(awk '/^port / { print $2 }' "$LOGS/tcp-receive.out")
[[ -n "$rx_port" ]] || die "the TCP receiver did not start"
tx0=$(tbf_sent)
read -r _ tcp_s < <(ip netns exec "$DNS" python3 "$here/link_tcp_rate.py" send "169.254.2.2:$rx_port" "$tcp_bytes")
tcp_veth=$(( $(tbf_sent) - tx0 ))
wait "$rx_pid" || true
rx_pid=""
[[ -n "${tcp_s:-}" ]] || die "the plain TCP transfer failed (log: $LOGS/tcp-receive.out)"
say "  $tcp_bytes bytes in $tcp_s s"

# ---------------------------------------------------------------- cradle backups
printf 'link\trun\trc\twall\tdevice_cpu\thost_cpu\tdevice_rss_kib\tseconds\twire_sent\twire_received\tbytes\tchunks_sent\tstored_bytes\tiface_tx\tiface_tx_packets\tiface_rx\ttbf_sent\n' >"$MEAS"

# backup LINK RUN NS-FOR-DEVICE IFACE-NS IFACE CONNECT-ARGS...: one measured first backup
backup() {
  local link=$1 run=$2 dns=$3 ins=$4 ifc=$5
  shift 5
  local dir="$W/$link-$run" hc0 hc1 tx0 txp0 rx0 tx1 txp1 rx1 tb0 tb1 rc wall u s rss
  mkdir -p "$dir"
  "$CRADLE" device init --name BENCH --folder "$DATA" --state "$dir/device" >"$LOGS/$link-$run.init" 2>&1 || die "device init"
  warm "$DATA"
  hc0=$(proc_cpu "$host_pid")
  tx0=$(counter "$ins" "$ifc" tx_bytes); txp0=$(counter "$ins" "$ifc" tx_packets); rx0=$(counter "$ins" "$ifc" rx_bytes); tb0=$(tbf_sent)
  local sampler=""
  if [[ -n "${trace_out:-}" ]]; then
    ip netns exec "$ins" python3 "$here/link_sampler.py" "$ifc" 0.01 "$trace_out" &
    sampler=$!
    for _ in $(seq 1 100); do [[ -s "$trace_out" ]] && break; sleep 0.05; done
  fi
  set +e
  /usr/bin/time -f '%e %U %S %M' -o "$LOGS/$link-$run.time" \
    ip netns exec "$dns" "$CRADLE" device connect --state "$dir/device" "$@" --once --json >"$LOGS/$link-$run.json" 2>"$LOGS/$link-$run.err"
  rc=$?
  set -e
  [[ -z "$sampler" ]] || stop_pid "$sampler"
  tx1=$(counter "$ins" "$ifc" tx_bytes); txp1=$(counter "$ins" "$ifc" tx_packets); rx1=$(counter "$ins" "$ifc" rx_bytes); tb1=$(tbf_sent)
  hc1=$(proc_cpu "$host_pid")
  read -r wall u s rss < <(tail -n1 "$LOGS/$link-$run.time")
  if [[ $rc -ne 0 ]]; then
    say "  device connect exited with $rc:"; tail -5 "$LOGS/$link-$run.err" | sed 's/^/    /' >&2
    printf '%s\t%s\t%s\t%s\n' "$link" "$run" "$rc" "$wall" >>"$MEAS"
    return
  fi
  local fields
  fields=$(python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
print("\t".join(str(j.get(k, "-")) for k in ("seconds", "wireBytesSent", "wireBytesReceived", "bytes", "chunksSent", "storedBytes")))
' "$LOGS/$link-$run.json")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$link" "$run" "$rc" "$wall" \
    "$(awk -v a="$u" -v b="$s" 'BEGIN { printf "%.2f", a + b }')" "$(awk -v a="$hc0" -v b="$hc1" 'BEGIN { printf "%.2f", b - a }')" \
    "$rss" "$fields" $((tx1 - tx0)) $((txp1 - txp0)) $((rx1 - rx0)) $((tb1 - tb0)) >>"$MEAS"
  say "  $link run $run: wall $wall s, $(cut -f2 <<<"$fields") wire bytes sent"
}

start_host() { # NS LOG ARGS...
  local ns=$1 log=$2
  shift 2
  ip netns exec "$ns" "$CRADLE" host run "$@" >"$log" 2>&1 &
  host_pid=$!
  wait_listening "$log" "$host_pid"
}

for run in $(seq 1 "$runs"); do
  say "USB run $run of $runs"
  start_host "$HNS" "$LOGS/usb-$run.host" --data "$W/usb-$run/host" --listen 127.0.0.1:0 --usb "$HIF"
  for _ in $(seq 1 100); do grep -q 'is up: listening on' "$LOGS/usb-$run.host" && break; sleep 0.1; done
  grep -q 'is up: listening on' "$LOGS/usb-$run.host" || die "the host does not listen on $HIF (log: $LOGS/usb-$run.host)"
  [[ $run -eq 1 ]] && tbf_before=$(tbf_stats)
  backup usb "$run" "$DNS" "$DNS" "$DIF" --usb "$DIF"
  stop_host_pid=$host_pid; host_pid=""; stop_pid "$stop_host_pid"
  [[ $run -eq 1 ]] && tbf_after=$(tbf_stats)
  rm -rf "$W/usb-$run/host"  # 330 MB each; the figures are taken
done

# One more USB backup with the link and the CPUs sampled every 10 ms, not counted above: where
# the link sits idle, and whether the CPUs are busy then.
say "USB run with the link sampled"
trace_out="$W/usb-trace.samples"
start_host "$HNS" "$LOGS/usb-trace.host" --data "$W/usb-trace/host" --listen 127.0.0.1:0 --usb "$HIF"
for _ in $(seq 1 100); do grep -q 'is up: listening on' "$LOGS/usb-trace.host" && break; sleep 0.1; done
backup usb-trace 1 "$DNS" "$DNS" "$DIF" --usb "$DIF"
stop_host_pid=$host_pid; host_pid=""; stop_pid "$stop_host_pid"
rm -rf "$W/usb-trace/host"
trace_out=""

for run in $(seq 1 "$runs"); do
  say "loopback run $run of $runs"
  start_host "$HNS" "$LOGS/lo-$run.host" --data "$W/lo-$run/host" --listen 127.0.0.1:0 --auto-approve
  addr=${LISTEN%% *}
  backup loopback "$run" "$HNS" "$HNS" lo --host "$addr"
  stop_host_pid=$host_pid; host_pid=""; stop_pid "$stop_host_pid"
  rm -rf "$W/lo-$run/host"
done
load_end=$(cut -d' ' -f1-3 /proc/loadavg)
flock -u 9

# ---------------------------------------------------------------- the report
{
  echo "# USB-speed link: cradle over a veth pair shaped to $rate_mbit Mbit/s"
  echo
  echo "Run $(date -u +%Y-%m-%dT%H:%M:%SZ) by bench/usb.sh; cradle $CRADLE_REV (native AOT); kernel $(uname -r); $(nproc) CPUs; load average $load_start at the start, $load_end at the end."
  echo "Data set: handheld mix, scale $scale (seed $seed): $DATA_FILES files, $DATA_BYTES bytes; read into the page cache before each backup."
  echo "Link: veth, MTU $mtu, \`tbf rate ${rate_mbit}mbit burst 256kb latency 50ms\` on both ends."
  echo
  python3 - "$MEAS" "$rate_mbit" "$tcp_bytes" "$tcp_s" "$tcp_veth" "$DATA_BYTES" <<'EOF'
import csv, statistics, sys
meas, rate_mbit, tcp_bytes, tcp_s, tcp_veth, data_bytes = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
bps = rate_mbit * 1e6
rows = list(csv.DictReader(open(meas), delimiter="\t"))
tcp_rate = tcp_bytes / tcp_s
print("## The link's own rate\n")
print("| what | bytes | s | MB/s | of the shaped rate |")
print("|---|---:|---:|---:|---:|")
print(f"| the shaped rate: {rate_mbit:g} Mbit/s | — | — | {bps / 8 / 1e6:.2f} | 100 % |")
print(f"| plain TCP device → host through the shaped veth (Python, one stream; payload) | {tcp_bytes:,} | {tcp_s:.3f} | {tcp_rate / 1e6:.2f} | {tcp_rate * 8 / bps * 100:.1f} % |")
print(f"| the same, bytes tbf let through (every segment's Ethernet, IP and TCP headers included) | {tcp_veth:,} | {tcp_s:.3f} | {tcp_veth / tcp_s / 1e6:.2f} | {tcp_veth / tcp_s * 8 / bps * 100:.1f} % |")
print()
print("## Backups\n")
print("wall: the whole `cradle device connect --once` command (process start, waiting for the interface, TLS, partnership, scan, upload, commit). "
      "backup s: the device's own clock for the backup (scan to commit; no process start, no TLS set-up). "
      "wire: cradle's wireBytesSent (every byte it wrote to the socket during the backup, TLS records included). "
      f"link s: wire × 8 / {rate_mbit:g} Mbit/s. TCP s: wire / the plain TCP rate above. "
      "tbf: bytes the device end's tbf let through during the command (USB: the session set-up and every segment's headers included; "
      "on loopback the lo counter, which counts a GSO packet's headers once). tbf s: those bytes × 8 / the rate: the link's busy time.\n")
print("| link | run | wall s | backup s | MB/s (data / wall) | CPU s device + host | wire sent MiB | tbf MiB | link s | tbf s | wall / link s | backup s / link s | wall / TCP s |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
by_link = {}
for r in rows:
    if r["rc"] != "0":
        print(f"| {r['link']} | {r['run']} | failed (exit {r['rc']}) after {r['wall']} s | | | | | | | | | | |")
        continue
    wall, sec, wire = float(r["wall"]), float(r["seconds"]), int(r["wire_sent"])
    shaped = r["link"].startswith("usb")
    tx = int(r["tbf_sent"]) if shaped else int(r["iface_tx"])
    link_s = wire * 8 / bps
    tcp_link_s = wire / tcp_rate
    by_link.setdefault(r["link"], []).append((wall, sec, link_s, tcp_link_s, wire))
    cells = [r["link"], r["run"], f"{wall:.2f}", f"{sec:.2f}", f"{data_bytes / wall / 1e6:.0f}",
             f"{float(r['device_cpu']):.2f} + {float(r['host_cpu']):.2f}", f"{wire / 1048576:.1f}", f"{tx / 1048576:.1f}", f"{link_s:.2f}"]
    if shaped:
        cells += [f"{tx * 8 / bps:.2f}", f"{wall / link_s:.2f}×", f"{sec / link_s:.2f}×", f"{wall / tcp_link_s:.2f}×"]
    else:
        cells += ["—"] * 4
    print("| " + " | ".join(cells) + " |")
print()
if "usb" in by_link:
    u = by_link["usb"]
    mw = statistics.median(x[0] for x in u); ms = statistics.median(x[1] for x in u); ml = statistics.median(x[2] for x in u); mt = statistics.median(x[3] for x in u)
    print(f"Median of {len(u)} USB runs: wall {mw:.2f} s, backup {ms:.2f} s, link time {ml:.2f} s: **wall / link = {mw / ml:.2f}×** "
          f"(backup's own clock / link = {ms / ml:.2f}×; wall / plain-TCP time = {mw / mt:.2f}×); target ≤ 1.25×: {'met' if mw / ml <= 1.25 else 'not met'}.")
if "loopback" in by_link:
    lo = by_link["loopback"]
    print(f"Median of {len(lo)} loopback runs: wall {statistics.median(x[0] for x in lo):.2f} s, backup {statistics.median(x[1] for x in lo):.2f} s.")
print()
EOF
  echo "## Where the USB link waits"
  echo
  echo "One more USB backup (usb-trace above, not in the medians) with the device end's transmitted bytes and the machine's CPU (/proc/stat, both cores) sampled every 10 ms by bench/link_sampler.py:"
  echo
  echo '```'
  python3 "$here/link_sampler.py" --summary "$W/usb-trace.samples" "$(( rate_mbit * 1000000 ))"
  echo '```'
  echo
  echo "tbf on the device end, first USB run: before \`$tbf_before\`; after \`$tbf_after\`."
  echo
  echo "Logs and raw figures: $LOGS, $MEAS."
} >"$W/results.md"
cat "$W/results.md"
