#!/usr/bin/env bash
# Sourced by the test servers' start scripts (tests/postgres.sh, tests/scripts/rgw.sh).
#   close_inherited_fds   the daemons must not keep the caller's files open (a build lock held
#                         by `flock` stayed locked while a leftover server lived)
#   watch_owner STOP...   when CRADLE_TEST_OWNER_PID is set, run STOP once that process is gone:
#                         a test process that is killed, or ends without running its exit
#                         handlers, leaves no server behind.

close_inherited_fds() {
  local fd
  for fd in $(ls /proc/$$/fd); do
    if [ "$fd" -gt 2 ] && [ "$fd" -lt 255 ]; then eval "exec $fd>&-" 2>/dev/null || true; fi
  done
}

watch_owner() {
  local owner=${CRADLE_TEST_OWNER_PID:-}
  [ -n "$owner" ] || return 0
  setsid bash -c 'while kill -0 "$0" 2>/dev/null; do sleep 2; done; exec "$@"' "$owner" "$@" </dev/null >/dev/null 2>&1 &
}
