#!/usr/bin/env bash
# fsfault repro with a shell-script workload on bookworm: the script is shipped into the guest,
# runs in the armed phase while the disk dies, and the report counts what happened.
#   vm_repro_test.sh FSFAULT_BIN SCHEDULE WORKLOAD OUT_DIR
set -euo pipefail
fsfault=$1 schedule=$2 workload=$3 out=$4
# FSFAULT_VM_CACHE=DIR passes --cache DIR (kernels and images of another build), as vm_no_orphans.sh.
cache_args=()
[[ -n ${FSFAULT_VM_CACHE:-} ]] && cache_args=(--cache "$FSFAULT_VM_CACHE")
rm -rf "$out"
mkdir -p "$out"
set +e
"$fsfault" repro "$schedule" --image ext4-basic --kernel bookworm --accel tcg --timeout 120 \
  --workload "$workload" --out "$out" "${cache_args[@]}" >"$out/stdout" 2>&1
rc=$?
set -e
cat "$out/stdout"
[[ $rc -eq 0 ]] || { echo "FAIL: exit status $rc"; exit 1; }
dir="$out/repro/flood"
# The script ran in the guest: its output is in the exec step's record.
grep -q '"label":"workload".*repro-workload-ran' "$dir/records.jsonl" || { echo "FAIL: the script did not run"; exit 1; }
# Every report line is there, with numbers where the dead disk guarantees them.
num() { sed -n "s/^$1: *\([0-9-]*\).*/\1/p" "$out/stdout"; }
[[ $(num 'faults injected') -ge 1 ]] || { echo "FAIL: no fault injected"; exit 1; }
[[ $(num 'FS_ERROR events received') -ge 1 ]] || { echo "FAIL: no FS_ERROR event"; exit 1; }
[[ $(num 'sum of error_count') -ge 1 ]] || { echo "FAIL: error_count sum"; exit 1; }
[[ -n $(num 'errors the kernel counted') ]] || { echo "FAIL: ext4 errors_count not read"; exit 1; }
grep -q '^overflows (Q_OVERFLOW): *[0-9]' "$out/stdout" || { echo "FAIL: overflows line"; exit 1; }
grep -q '^lost reports (kernel log): *[0-9]' "$out/stdout" || { echo "FAIL: lost reports line"; exit 1; }
grep -q '^first fault -> first event: -\?[0-9]* ms' "$out/stdout" || { echo "FAIL: no fault-to-event time"; exit 1; }
echo "PASS"
