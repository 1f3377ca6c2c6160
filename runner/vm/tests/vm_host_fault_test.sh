#!/usr/bin/env bash
# The runner under faults (issue 8): each fault ends the scenario with a clear verdict and its logs
# kept, and leaves no QEMU, fsfault-nbd, socket or temporary directory behind.
#   vm_host_fault_test.sh FSFAULT_BIN SCENARIO_DIR OUT_DIR CASE
# CASE:
#   server-kill      SIGKILL of the disk's fsfault-nbd mid-scenario   -> ERROR naming the disk and signal
#   qemu-kill        SIGKILL of QEMU mid-scenario                     -> ERROR "QEMU exited (signal 9..."
#   panic            the guest kernel panics (sysrq "c")              -> ERROR "guest kernel panic: ..."
#   flood-garbage    invalid JSON and random bytes on the channel     -> ERROR "malformed record on channel"
#   flood-long-line  an endless line on the channel                   -> ERROR, refused at 1 MiB
#   runner-kill      SIGKILL of the runner: children die with it; the next run removes the
#                    orphaned socket directory
set -euo pipefail
fsfault=$1 scenarios=$2 out=$3 case=$4
source "$(dirname "$0")/vm_no_orphans.sh"
rm -rf "$out" "$out.stdout"
mkdir -p "$out"

case $case in
  server-kill | qemu-kill | runner-kill) scenario=runner/hang ;;
  panic) scenario=runner/panic ;;
  flood-garbage) scenario=runner/flood-garbage ;;
  flood-long-line) scenario=runner/flood-long-line ;;
  *) echo "unknown case $case"; exit 2 ;;
esac
dir=$out/$scenario

# start_run [TIMEOUT_S]: the runner in the background, as $runner.
start_run() {
  "$fsfault" vm-test --kernel bookworm --accel tcg "${vm_cache_args[@]}" --scenarios "$scenarios" \
    --filter "$scenario" --timeout "${1:-300}" --out "$out" >>"$out.stdout" 2>&1 &
  runner=$!
}
finish_run() {
  set +e
  wait $runner
  rc=$?
  set -e
  cat "$out.stdout"
}
fail() {
  echo "FAIL: $*"
  exit 1
}
# assert_error REGEX: exit status 1, an ERROR line with REGEX as its reason, result.json agrees, and
# the logs of the run are kept.
assert_error() {
  [[ $rc -eq 1 ]] || fail "exit status $rc, expected 1"
  grep -q "^ERROR *$scenario " "$out.stdout" || fail "no ERROR line"
  grep -Eq -- "^        - $1" "$out.stdout" || fail "reason not /$1/"
  grep -q '"verdict": "error"' "$dir/result.json" || fail "result.json"
  sed 's/\\"/"/g' "$dir/result.json" | grep -Eq -- "$1" || fail "result.json reason"
  grep -q 'Linux version' "$dir/console.log" || fail "console log not kept"
  grep -q '"type":"hello"' "$dir/records.jsonl" || fail "records.jsonl not kept"
  [[ -f $dir/faults-d0.jsonl ]] || fail "fault log not kept"
  grep -Eq -- "error after [0-9]+ ms: $1" "$dir/runner.log" || fail "runner.log does not say why"
  assert_no_orphans "$out"
}

case $case in
  server-kill | qemu-kill)
    start_run
    wait_for_phase "$dir" $runner || { cat "$out.stdout"; kill -KILL $runner; exit 1; }
    if [[ $case == server-kill ]]; then
      victim=$(run_pid fsfault-nbd "$dir/faults-d0.jsonl")
    else
      victim=$(run_pid qemu-system-x86_64 "$dir/console.log")
    fi
    [[ -n $victim ]] || { kill -KILL $runner; fail "no process to kill"; }
    kill -KILL "$victim"
    finish_run
    if [[ $case == server-kill ]]; then
      assert_error 'NBD server of disk 0 exited \(signal 9, SIGKILL\) before the guest finished'
    else
      assert_error 'QEMU exited \(signal 9, SIGKILL\) before the guest finished'
    fi
    ;;
  panic)
    start_run
    finish_run
    assert_error 'guest kernel panic: Kernel panic - not syncing: sysrq triggered crash'
    ;;
  flood-garbage)
    start_run
    finish_run
    assert_error 'malformed record on channel: record [0-9]+ \([0-9]+ bytes\) is not a JSON object with a "type": \{"type": not json'
    ;;
  flood-long-line)
    start_run
    finish_run
    assert_error 'malformed record on channel: record [0-9]+ has no newline within 1048576 bytes'
    ;;
  runner-kill)
    start_run
    wait_for_phase "$dir" $runner || { cat "$out.stdout"; kill -KILL $runner; exit 1; }
    qemu=$(run_pid qemu-system-x86_64 "$dir/console.log")
    server=$(run_pid fsfault-nbd "$dir/faults-d0.jsonl")
    [[ -n $qemu && -n $server ]] || { kill -KILL $runner; fail "QEMU or server not running"; }
    # The run's socket directory, from QEMU's command line (commands.txt is written at the end).
    stale=$(tr '\0' '\n' <"/proc/$qemu/cmdline" | grep -o '/tmp/fsfault-vm\.[A-Za-z0-9]*' | head -1)
    [[ -n $stale && -d $stale ]] || { kill -KILL $runner; fail "no socket directory found"; }
    kill -KILL $runner
    finish_run
    # PDEATHSIG: the children die with the runner (bounded wait for the kernel to deliver it).
    for _ in $(seq 1 50); do
      kill -0 "$qemu" 2>/dev/null || kill -0 "$server" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$qemu" 2>/dev/null || kill -0 "$server" 2>/dev/null; then
      kill -KILL "$qemu" "$server" 2>/dev/null || true
      fail "QEMU or fsfault-nbd outlived the SIGKILLed runner"
    fi
    [[ -d $stale ]] || fail "the SIGKILLed runner's directory is already gone: the test proves nothing"
    echo "ok: children gone, $stale left behind"
    # The next run removes it (its owner's lock is free) and says so.
    start_run 15
    finish_run
    grep -q "^TIMEOUT *$scenario" "$out.stdout" || fail "second run: no TIMEOUT line"
    [[ ! -e $stale ]] || fail "stale directory $stale not removed by the next run"
    grep -q "removed stale run directory $stale (its runner died)" "$dir/runner.log" || fail "runner.log does not say"
    assert_no_orphans "$out"
    ;;
esac
echo "PASS"
