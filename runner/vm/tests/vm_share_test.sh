#!/usr/bin/env bash
# Host directories in the guest through a real guest (bookworm, TCG):
#   runner/share-read-only passes: a [[share]] is visible and read-only (create -> EROFS), and
#   root = "host" runs the host's debugfs on the guest's disk;
#   runner/debugfs-missing (ext4/debugfs-corrupt-live with a wrong debugfs path) fails;
#   a --share HOST that does not exist is refused before any boot;
#   no virtiofsd, QEMU or fsfault-nbd is left.
#   vm_share_test.sh FSFAULT_BIN SCENARIO_DIR OUT_DIR
set -euo pipefail
fsfault=$1 scenarios=$2 out=$3
source "$(dirname "$0")/vm_no_orphans.sh"
rm -rf "$out"
vm_test_bookworm 2 "a missing --share directory" "$out.stdout" --scenarios "$scenarios" \
  --share /no/such/dir --filter runner/share-read-only --out "$out"
grep -q 'share host /no/such/dir: no such directory' "$out.stdout" || fail "the missing directory is not named"
grep -q 'Linux version\|accel:' "$out.stdout" && fail "it booted anyway"
vm_test_bookworm 1 "runner/debugfs-missing fails" "$out.stdout" --scenarios "$scenarios" \
  --filter 'runner/share-read-only,runner/debugfs-missing' --timeout 120 --out "$out"
grep -q '^PASS *runner/share-read-only' "$out.stdout" || fail "share-read-only did not pass"
grep -q '^FAIL *runner/debugfs-missing' "$out.stdout" || fail "debugfs-missing did not fail"
rec="$out/runner/share-read-only/records.jsonl"
grep '"type":"share"' "$rec" | grep -q '"guest":"/opt/shared".*"ok":true\|"ok":true.*"guest":"/opt/shared"' || fail "no share record"
grep '"type":"share"' "$rec" | grep -q '"hostroot"' || fail "root = \"host\" did not share the host root"
grep -q '/usr/lib/qemu/virtiofsd' "$out/runner/share-read-only/commands.txt" || fail "no virtiofsd in commands.txt"
grep -q '"errno_name":"ENOENT"' "$out/runner/debugfs-missing/records.jsonl" || fail "the missing debugfs is not ENOENT"
assert_no_orphans "$out"
echo "PASS"
