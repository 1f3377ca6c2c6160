#!/usr/bin/env bash
# SIGINT/SIGTERM of the runner mid-scenario: the scenario is reported "interrupted", the runner
# exits 128+signal, and no QEMU, fsfault-nbd, socket or temporary directory survives it.
#   vm_interrupt_test.sh FSFAULT_BIN SCENARIO_DIR OUT_DIR SIGNAL
set -euo pipefail
fsfault=$1 scenarios=$2 out=$3 sig=$4
source "$(dirname "$0")/vm_no_orphans.sh"
rm -rf "$out"
mkdir -p "$out"
"$fsfault" vm-test --kernel bookworm --accel tcg "${vm_cache_args[@]}" --scenarios "$scenarios" --filter runner/hang \
  --share "$scenarios/files:/opt/shared" \
  --timeout 300 --out "$out" --junit "$out/results.xml" >"$out.stdout" 2>&1 &
runner=$!
# Wait (bounded) until the guest is up and blocked in its sleep: QEMU and the server both run.
wait_for_phase "$out/runner/hang" $runner || { cat "$out.stdout"; kill -KILL $runner; exit 1; }
pgrep -f -- "$out/runner/hang/console.log" >/dev/null || { echo "FAIL: QEMU not running before the signal"; exit 1; }
kill "-$sig" $runner
set +e
wait $runner
rc=$?
set -e
cat "$out.stdout"
expected=$((128 + $(kill -l "$sig")))
[[ $rc -eq $expected ]] || { echo "FAIL: exit status $rc, expected $expected"; exit 1; }
grep -q '^INTERRUPTED *runner/hang' "$out.stdout" || { echo "FAIL: no INTERRUPTED line"; exit 1; }
grep -q '"verdict": "interrupted"' "$out/runner/hang/result.json" || { echo "FAIL: result.json"; exit 1; }
grep -q 'type="interrupted"' "$out/results.xml" || { echo "FAIL: JUnit"; exit 1; }
# The share's virtiofsd ran (and assert_no_orphans finds none left).
grep -q virtiofsd "$out/runner/hang/commands.txt" || { echo "FAIL: no virtiofsd started"; exit 1; }
assert_no_orphans "$out"
echo "PASS"
