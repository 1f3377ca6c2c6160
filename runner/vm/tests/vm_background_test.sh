#!/usr/bin/env bash
# Background programs and bounded steps through a real guest (bookworm, TCG):
#   runner/background-programs passes and its records hold each program's output and end;
#   runner/blocked-step fails, naming the step and where it slept.
#   vm_background_test.sh FSFAULT_BIN SCENARIO_DIR OUT_DIR
set -euo pipefail
fsfault=$1 scenarios=$2 out=$3
source "$(dirname "$0")/vm_no_orphans.sh"
rm -rf "$out"
vm_test_bookworm 1 "runner/blocked-step fails" "$out.stdout" --scenarios "$scenarios" \
  --filter 'runner/background-programs,runner/blocked-step' --timeout 120 --out "$out"
grep -q '^PASS *runner/background-programs' "$out.stdout" || fail "background-programs did not pass"
grep -q '^FAIL *runner/blocked-step' "$out.stdout" || fail "blocked-step did not fail"
grep -q 'step 0 (sleep): did not return within 300 ms (wchan' "$out.stdout" || fail "blocked step not named with its wchan"
rec="$out/runner/background-programs/records.jsonl"
step() { grep "\"label\":\"$1\"" "$rec" | grep '"type":"step"' || fail "no record of step $1"; }
step ticker-stop | grep -q '"output":"tick 0\\ntick 1\\n' || fail "the ticker's output was lost"
step held | grep -q '"output":"started\\n"' || fail "exec output"
step held | grep -q '"output_held_open":true' || fail "exec did not notice the held-open stdout"
step short-wait | grep -q '"output":"short-done\\n"' || fail "wait output"
step stuck-wait | grep -q '"timed_out":true' || fail "stuck wait did not time out"
step stuck-wait | grep -q '"wchan":"' || fail "stuck wait has no wchan"
step slow | grep -q '"blocked":{' || fail "bounded sleep not reported blocked"
grep '"type":"blocked"' "$rec" | grep -q '"do":"sleep"' || fail "no blocked record"
grep '"type":"background"' "$rec" | grep -q '"output":"bye-at-end\\n"' || fail "program left at the end not recorded"
assert_no_orphans "$out"
echo "PASS"
