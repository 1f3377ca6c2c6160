# Sourced by the VM runner tests: asserts that a finished run left nothing behind, and the few
# steps those tests share.
#   assert_no_orphans OUT_DIR
#   wait_for_phase SCENARIO_OUT_DIR RUNNER_PID   the guest announced a phase (bounded wait)
#   run_pid PROGRAM FILE                         pid of PROGRAM (qemu-system-x86_64, fsfault-nbd)
#                                                whose command line names FILE
#   fail MESSAGE...                              "FAIL: MESSAGE", exit 1
#   vm_test_bookworm RC WHY LOG ARGS...          $fsfault vm-test on bookworm under TCG with ARGS,
#                                                output to LOG and shown; fails unless it exits RC
# FSFAULT_VM_CACHE=DIR in the environment passes --cache DIR to vm-test (reuse another build's
# kernels and images); the tests put "${vm_cache_args[@]}" on their vm-test command lines.
vm_cache_args=()
[[ -n ${FSFAULT_VM_CACHE:-} ]] && vm_cache_args=(--cache "$FSFAULT_VM_CACHE")

fail() { echo "FAIL: $*"; exit 1; }

vm_test_bookworm() {
  local want=$1 why=$2 log=$3 rc=0
  shift 3
  "$fsfault" vm-test --kernel bookworm --accel tcg "${vm_cache_args[@]}" "$@" >"$log" 2>&1 || rc=$?
  cat "$log"
  [[ $rc -eq $want ]] || fail "exit status $rc, expected $want ($why)"
}

wait_for_phase() {
  local dir=$1 pid=$2
  # records.jsonl streams while the guest runs (runner.log is written at the end).
  for _ in $(seq 1 600); do
    grep -qs '"type":"phase"' "$dir/records.jsonl" && return 0
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  echo "FAIL: guest never reached its phase"
  return 1
}

run_pid() {
  pgrep -f -- "^[^ ]*$1 .*$2" | head -1
}

# Every QEMU, fsfault-nbd and virtiofsd of a run names a file under OUT_DIR (console log, fault log) or under
# the run's /tmp/fsfault-vm.* directory (sockets), which commands.txt records.
assert_no_orphans() {
  local out=$1 tmpdirs
  tmpdirs=$(grep -ho '/tmp/fsfault-vm\.[A-Za-z0-9]*' "$out"/*/commands.txt "$out"/*/*/commands.txt 2>/dev/null | sort -u || true)
  local pattern="$out"
  for d in $tmpdirs; do pattern="$pattern|$d"; done
  local left
  # Only our binaries count: this script's own command line names OUT_DIR too.
  left=$(pgrep -af -- "^[^ ]*(qemu-system-x86_64|fsfault-nbd|qemu-nbd|virtiofsd|unshare|/fsfault) .*($pattern)" || true)
  if [[ -n "$left" ]]; then
    echo "FAIL: processes left behind:"; echo "$left"; return 1
  fi
  for d in $tmpdirs; do
    if [[ -e "$d" ]]; then echo "FAIL: temporary directory left behind: $d"; ls -la "$d"; return 1; fi
  done
  [[ -n "$tmpdirs" ]] || { echo "FAIL: no temporary directory recorded in commands.txt"; return 1; }
  echo "ok: no process or temporary directory left (${tmpdirs//$'\n'/ })"
}
