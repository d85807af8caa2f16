# Sourced by the test servers' scripts (postgres.sh, rgw.sh).
# free_port: a loopback port nothing listens on, below the kernel's ephemeral range: a port from
# that range can be taken by any outgoing connection between this check and the server's bind
# (it was: Ceph's monitor failed "bind ... Address already in use" in a CI run, 2026-11-27).
free_port() {
  local low port
  low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
  [ "$low" -gt 12000 ] 2>/dev/null || low=32768
  for _ in $(seq 1 100); do
    port=$(( 10000 + RANDOM % (low - 10000) ))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return 0; fi
  done
  echo "free-port.sh: no free port found below $low" >&2
  return 1
}
