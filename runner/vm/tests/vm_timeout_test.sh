#!/usr/bin/env bash
# A scenario whose guest hangs must end as TIMEOUT (exit status 1) with its console log kept, QEMU
# and fsfault-nbd gone and the run's temporary directory removed.
#   vm_timeout_test.sh FSFAULT_BIN SCENARIO_DIR OUT_DIR
set -euo pipefail
fsfault=$1 scenarios=$2 out=$3
source "$(dirname "$0")/vm_no_orphans.sh"
rm -rf "$out"
vm_test_bookworm 1 "a timeout is a failure" "$out.stdout" --scenarios "$scenarios" --filter runner/hang \
  --share "$scenarios/files:/opt/shared" --timeout 25 --out "$out" --ktap "$out/results.ktap"
grep -q '^TIMEOUT *runner/hang' "$out.stdout" || { echo "FAIL: no TIMEOUT line"; exit 1; }
grep -q '"verdict": "timeout"' "$out/runner/hang/result.json" || { echo "FAIL: result.json"; exit 1; }
grep -q 'not ok 1 runner/hang # TIMEOUT' "$out/results.ktap" || { echo "FAIL: KTAP"; exit 1; }
# The guest got far enough to announce its phase: the timeout hit a running guest, not a boot failure.
grep -q 'phase hanging' "$out/runner/hang/runner.log" || { echo "FAIL: guest never announced its phase"; exit 1; }
grep -q 'Linux version' "$out/runner/hang/console.log" || { echo "FAIL: console log not kept"; exit 1; }
# The share's virtiofsd ran (and assert_no_orphans finds none left).
grep -q virtiofsd "$out/runner/hang/commands.txt" || { echo "FAIL: no virtiofsd started"; exit 1; }
assert_no_orphans "$out"
echo "PASS"
