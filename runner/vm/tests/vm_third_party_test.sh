#!/usr/bin/env bash
# Third-party results and program checks through a real guest (bookworm, TCG):
#   runner/program-checks passes (exit, contains, matches, an LTP and a TAP step, a waited program);
#   runner/exec-missing-program fails naming the step and the program;
#   runner/ltp-tbrok fails on its TBROK; runner/ltp-tconf is a skip with LTP's reason;
#   the KTAP and JUnit reports nest the LTP results under their scenario.
#   vm_third_party_test.sh FSFAULT_BIN SCENARIO_DIR OUT_DIR
set -euo pipefail
fsfault=$1 scenarios=$2 out=$3
source "$(dirname "$0")/vm_no_orphans.sh"
rm -rf "$out" && mkdir -p "$out"
vm_test_bookworm 1 "two scenarios fail" "$out/stdout" --scenarios "$scenarios" \
  --filter 'runner/program-checks,runner/exec-missing-program,runner/ltp-tbrok,runner/ltp-tconf' \
  --timeout 120 --out "$out/run" --ktap "$out/results.ktap" --junit "$out/results.xml"
grep -q '^PASS *runner/program-checks' "$out/stdout" || fail "program-checks did not pass"
grep -q '^FAIL *runner/exec-missing-program' "$out/stdout" || fail "exec-missing-program did not fail"
grep -q 'step 1 (exec): /opt/fsfault-test/nope /mnt/d0 could not start: ENOENT' "$out/stdout" ||
  fail "the missing program is not named"
grep -q '^FAIL *runner/ltp-tbrok' "$out/stdout" || fail "ltp-tbrok did not fail"
grep -q 'tst_test.c:1134: TBROK: mount(/dev/vdb, /mnt/ltp, ext4, 0, (nil)) failed: ENOENT (2)' "$out/stdout" ||
  fail "the TBROK line is not quoted"
grep -q '^SKIP *runner/ltp-tconf' "$out/stdout" || fail "ltp-tconf is not a skip"
grep -q 'fsfault_ltp.c:31: TCONF: FAN_REPORT_PIDFD not supported in kernel?' "$out/stdout" ||
  fail "the skip does not carry LTP's reason"
# KTAP: the scenario's LTP results nested (four spaces) before its own result line.
grep -q '^    ok 1 fsfault_ltp.c:40$' "$out/results.ktap" || fail "no nested KTAP subtest for the TPASS"
grep -q '^    not ok 2 tst_test.c:1134$' "$out/results.ktap" || fail "no nested KTAP subtest for the TBROK"
grep -q '^    ok 1 fsfault_ltp.c:31 # SKIP TCONF: FAN_REPORT_PIDFD' "$out/results.ktap" || fail "no nested KTAP skip"
grep -q 'name="runner/ltp-tbrok/tst_test.c:1134"' "$out/results.xml" || fail "no JUnit testcase for the TBROK"
assert_no_orphans "$out/run"
echo "PASS"
