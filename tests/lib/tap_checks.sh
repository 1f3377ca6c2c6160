# Sourced by the shell tests that count checks (tests/faults/faults_qemu_io.sh,
# nbd-server/tests/fault_precision_qemu_io.sh): ok/not_ok/check print TAP-like
# lines and count them; the test ends with `finish_checks`.
PASS=0
FAIL=0

ok() { PASS=$((PASS + 1)); echo "ok - $1"; }
not_ok() { FAIL=$((FAIL + 1)); echo "not ok - $1"; [[ $# -gt 1 ]] && echo "#   $2"; }
check() {  # check NAME COMMAND...: passes when the command succeeds
  local name=$1; shift
  if "$@"; then ok "$name"; else not_ok "$name" "failed: $*"; fi
}
# The summary line, and the exit status: 0 only when nothing failed.
finish_checks() {
  echo "$PASS passed, $FAIL failed"
  [[ $FAIL -eq 0 ]]
}
