#!/usr/bin/env bash
# Without fsfault-nbd no fault can be injected, so vm-test must refuse to run (naming the missing
# binary, exit status 2) before it boots anything, instead of serving the disks some other way.
# fsfault and fsfault-guest are copied to a directory without fsfault-nbd and run from there.
#   vm_missing_nbd_test.sh FSFAULT_BIN SCENARIO_DIR OUT_DIR
set -euo pipefail
fsfault=$1 scenarios=$2 out=$3
bindir=$(dirname "$fsfault")
# FSFAULT_VM_CACHE=DIR: kernels and images of another build, as vm_no_orphans.sh.
cache=${FSFAULT_VM_CACHE:-$(dirname "$bindir")}
rm -rf "$out"
mkdir -p "$out/alone"
cp "$fsfault" "$bindir/fsfault-guest" "$out/alone/"
[[ ! -e $out/alone/fsfault-nbd ]]
run() {  # run NAME ARGS...: vm-test from the copy, stdout+stderr in $out/NAME.out, status in rc
  local name=$1
  shift
  set +e
  "$out/alone/fsfault" vm-test --kernel bookworm --accel tcg --cache "$cache" --scenarios "$scenarios" \
    --filter runner/exec-shipped-file --timeout 120 --out "$out/$name" "$@" >"$out/$name.out" 2>&1
  rc=$?
  set -e
  cat "$out/$name.out"
}
run default
[[ $rc -eq 2 ]] || { echo "FAIL: exit status $rc without fsfault-nbd, expected 2"; exit 1; }
grep -qF "fsfault-nbd not found: $out/alone/fsfault-nbd" "$out/default.out" ||
  { echo "FAIL: the error does not name the missing fsfault-nbd"; exit 1; }
# Refused before booting: no kernel line, no QEMU console.
! grep -q '^kernel: ' "$out/default.out" || { echo "FAIL: went on to provision the kernel"; exit 1; }
[[ -z $(find "$out/default" -name console.log 2>/dev/null) ]] || { echo "FAIL: a VM was booted"; exit 1; }
# An explicit --nbd-server that does not exist is refused the same way.
run explicit --nbd-server "$out/alone/no-such-nbd"
[[ $rc -eq 2 ]] || { echo "FAIL: exit status $rc with a missing --nbd-server, expected 2"; exit 1; }
grep -qF -- "--nbd-server $out/alone/no-such-nbd: no such file" "$out/explicit.out" ||
  { echo "FAIL: the error does not name the missing --nbd-server"; exit 1; }
echo "PASS"
