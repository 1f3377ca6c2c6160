#!/usr/bin/env bash
# The kernel's fs-monitor sample beside the harness through a real guest (bookworm, TCG):
#   without a built sample ext4/fs-monitor-parity is SKIP naming `fsfault kernel sample`;
#   `fsfault kernel sample fs-monitor` builds it (from the machine's sid linux-source, cached);
#   ext4/fs-monitor-parity then passes: its record equals the harness's;
#   runner/fs-monitor-disagrees (its inode is another's) fails naming the disagreement;
#   no virtiofsd, QEMU or fsfault-nbd is left.
#   vm_fs_monitor_test.sh FSFAULT_BIN CATALOGUE_DIR VM_SCENARIO_DIR OUT_DIR
set -euo pipefail
fsfault=$1 catalogue=$2 scenarios=$3 out=$4
source "$(dirname "$0")/vm_no_orphans.sh"
rm -rf "$out" "$out.xdg"
mkdir -p "$out.xdg"
XDG_CACHE_HOME="$out.xdg" vm_test_bookworm 0 "a SKIP is no failure" "$out.stdout" \
  --scenarios "$catalogue" --filter ext4/fs-monitor-parity --out "$out"
grep -q '^SKIP *ext4/fs-monitor-parity.*run `fsfault kernel sample fs-monitor`' "$out.stdout" ||
  fail "without a built sample the scenario is not a SKIP naming the command"
rm -rf "$out.xdg"
sample=$("$fsfault" kernel sample fs-monitor)
[[ -x $sample ]] || fail "fsfault kernel sample printed no executable: $sample"
vm_test_bookworm 1 "runner/fs-monitor-disagrees fails" "$out.stdout" --scenarios "$catalogue" "$scenarios" \
  --filter 'ext4/fs-monitor-parity,runner/fs-monitor-disagrees' --timeout 120 --out "$out"
grep -q '^PASS *ext4/fs-monitor-parity' "$out.stdout" || fail "fs-monitor-parity did not pass"
grep -q '^FAIL *runner/fs-monitor-disagrees' "$out.stdout" || fail "fs-monitor-disagrees did not fail"
grep -q 'fs-monitor: record 1 (output line 1) disagrees with the harness: inode: fs-monitor 12, harness 14' \
  "$out.stdout" || fail "the disagreement is not named"
grep -q 'decoded fh: inode=14 gen=0' "$out/ext4/fs-monitor-parity/records.jsonl" || fail "fs-monitor's output is not recorded"
assert_no_orphans "$out"
echo "PASS"
