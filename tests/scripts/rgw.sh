#!/usr/bin/env bash
# A throwaway S3 server for tests: a single-node Ceph cluster (one monitor, one OSD on memstore,
# data in RAM) and its RADOS gateway, all on loopback, everything inside one folder.
#
#   rgw.sh start DIR   starts it (DIR is created; must not hold a running cluster) and prints
#                      endpoint=http://127.0.0.1:PORT, access_key=…, secret_key=… (fixed test keys)
#   rgw.sh stop DIR    stops the daemons one at a time (gateway, OSD, monitor) and deletes DIR
#
# Needs Debian's ceph-mon, ceph-osd and radosgw (test.sh installs them). No systemd, no cephx,
# no kernel features. Measured facts behind the settings: ../shared/notes/s3-with-ceph-rgw.md.
set -euo pipefail
. "$(dirname "$0")/watch-owner.sh"
. "$(dirname "$0")/free-port.sh"

ACCESS_KEY=CRADLETESTACCESSKEY0
SECRET_KEY=cradle-test-secret-key-not-a-secret-0000


wait_for() { # wait_for SECONDS DESCRIPTION COMMAND...: retry until the command succeeds
  local seconds=$1 what=$2; shift 2
  local deadline=$(( $(date +%s) + seconds ))
  until "$@" >/dev/null 2>&1; do
    if [ "$(date +%s)" -ge "$deadline" ]; then echo "rgw.sh: $what did not happen within $seconds s (logs in $dir/log)" >&2; exit 1; fi
    sleep 0.2
  done
}

stop_one() { # stop_one PIDFILE: TERM, wait up to 20 s, then KILL
  local file=$1 pid
  [ -f "$file" ] || return 0
  pid=$(cat "$file")
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.2; done
  kill -9 "$pid" 2>/dev/null || true
}

start() {
  mkdir -p "$dir"/{run,log,mon,osd}
  dir=$(cd "$dir" && pwd)
  local mon_port rgw_port fsid uuid
  mon_port=$(free_port)
  rgw_port=$(free_port)
  while [ "$rgw_port" = "$mon_port" ]; do rgw_port=$(free_port); done
  fsid=$(cat /proc/sys/kernel/random/uuid)
  uuid=$(cat /proc/sys/kernel/random/uuid)
  cat > "$dir/ceph.conf" <<CONF
[global]
fsid = $fsid
mon host = v2:127.0.0.1:$mon_port
public addr = 127.0.0.1
cluster addr = 127.0.0.1
auth cluster required = none
auth service required = none
auth client required = none
run dir = $dir/run
pid file = $dir/run/\$name.pid
admin socket = $dir/run/\$name.asok
log file = $dir/log/\$name.log
mon data = $dir/mon/\$name
osd data = $dir/osd/\$name
osd objectstore = memstore
memstore device bytes = 2147483648
osd pool default size = 1
osd pool default min size = 1
mon allow pool size one = true
osd pool default pg num = 8
osd pool default pgp num = 8
mon max pg per osd = 1000
osd crush chooseleaf type = 0
mon data avail warn = 1
mon data avail crit = 0
client mount timeout = 30
rados mon op timeout = 30
paxos propose interval = 0.1
paxos min wait = 0.01
ms bind msgr1 = false
[client.rgw.a]
ms mon client mode = secure crc
rgw frontends = beast endpoint=127.0.0.1:$rgw_port
rgw data = $dir/rgw
rgw gc obj min wait = 5
rgw gc processor period = 10
CONF
  export CEPH_CONF="$dir/ceph.conf"
  monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$mon_port]" "$dir/monmap" >/dev/null
  ceph-mon --mkfs -i a --monmap "$dir/monmap" >/dev/null 2>&1
  ceph-mon -i a
  wait_for 30 "the monitor answering" ceph --connect-timeout 20 mon stat
  local id
  id=$(ceph --connect-timeout 20 osd new "$uuid")
  mkdir -p "$dir/osd/osd.$id"
  ceph-osd -i "$id" --mkfs --osd-uuid "$uuid" >>"$dir/log/osd.stderr" 2>&1
  ceph-osd -i "$id" 2>>"$dir/log/osd.stderr"
  wait_for 60 "osd.$id coming up" bash -c "ceph --connect-timeout 20 osd dump | grep -q '^osd.$id up'"
  mkdir -p "$dir/rgw"
  radosgw -n client.rgw.a 2>>"$dir/log/rgw.stderr"
  wait_for 90 "the gateway answering" bash -c "exec 3<>/dev/tcp/127.0.0.1/$rgw_port && printf 'GET / HTTP/1.0\r\n\r\n' >&3 && head -1 <&3 | grep -q 200"
  radosgw-admin -n client.rgw.a --admin-socket= user create --uid=ci --display-name=ci --access-key="$ACCESS_KEY" --secret-key="$SECRET_KEY" >/dev/null
  echo "endpoint=http://127.0.0.1:$rgw_port"
  echo "access_key=$ACCESS_KEY"
  echo "secret_key=$SECRET_KEY"
}

stop() {
  [ -d "$dir" ] || return 0
  stop_one "$dir/run/client.rgw.a.pid"
  for f in "$dir"/run/osd.*.pid; do stop_one "$f"; done
  stop_one "$dir/run/mon.a.pid"
  rm -rf "$dir"
}

case "${1:-}" in
  start) dir=${2:?give a folder}; close_inherited_fds; start; watch_owner "$(cd "$(dirname "$0")" && pwd)/$(basename "$0")" stop "$dir" ;;
  stop) dir=${2:?give a folder}; stop ;;
  *) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
