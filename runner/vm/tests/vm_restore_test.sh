#!/usr/bin/env bash
# Boot once, restore per scenario, on bookworm (docs/ARCHITECTURE.md, "Boot once, restore per
# scenario"):
#  1. isolation: scenario A writes a file to its disk and one to the guest's /tmp; scenario B,
#     restored from the same saved guest onto the same image, must see neither;
#  2. the saved state is rebuilt when damaged: a truncated state is booted and saved again; a
#     state of the right size with garbage inside fails to restore, the scenario falls back to a
#     cold boot (and says so), the state is discarded, and the next run saves it again;
#  3. a changed input (here the initramfs, through a scenario needing one more module) names a
#     new saved state instead of restoring the old one.
# --mem 448 gives this test its own saved machine, so damaging it never touches other tests'.
#   vm_restore_test.sh FSFAULT_BIN OUT_DIR
set -euo pipefail
fsfault=$1 out=$2
cache_args=()
[[ -n ${FSFAULT_VM_CACHE:-} ]] && cache_args=(--cache "$FSFAULT_VM_CACHE")
rm -rf "$out"
mkdir -p "$out/scen"
cat >"$out/scen/a.toml" <<'TOML'
name = "runner/restore-a"
step = [
  { do = "write", path = "/leak-disk", bytes = 4096, fsync = true, errno = "OK" },
  { do = "exec", label = "leak-tmp", sh = "echo leaked > /tmp/leak-guest", errno = "OK" },
  { do = "stat", path = "/leak-disk", errno = "OK" },
]
[[disk]]
image = "ext4-basic"
TOML
cat >"$out/scen/b.toml" <<'TOML'
name = "runner/restore-b"
step = [
  { do = "stat", path = "/leak-disk", errno = "ENOENT" },
  { do = "exec", label = "no-tmp-leak", sh = "test ! -e /tmp/leak-guest", errno = "OK" },
]
[[disk]]
image = "ext4-basic"
TOML
fail() { echo "FAIL: $*"; exit 1; }
run() {  # run NAME SCENARIO...: vm-test into $out/NAME, output in $out/NAME.out
  local name=$1 rc
  shift
  set +e
  "$fsfault" vm-test --kernel bookworm --accel tcg --timeout 180 --mem 448 --jobs 1 "${@/#/--scenarios=}" \
    --out "$out/$name" "${cache_args[@]}" >"$out/$name.out" 2>&1
  rc=$?
  set -e
  cat "$out/$name.out"
  [[ $rc -eq 0 ]] || fail "$name: exit status $rc"
}
boot_of() { sed -nE 's/^ *"mode": "([a-z]+)".*/\1/p' "$1/result.json"; }
state_dir() { sed -nE 's#^saved guest: (booted .* to|reusing) (/.*)$#\2#p' "$out/$1.out" | head -1; }

# 1. isolation
run iso "$out/scen/a.toml" "$out/scen/b.toml"
grep -q 'PASS.*runner/restore-a' "$out/iso.out" || fail "scenario A did not pass"
grep -q 'PASS.*runner/restore-b' "$out/iso.out" || fail "scenario B saw what A wrote"
for s in a b; do
  [[ $(boot_of "$out/iso/runner/restore-$s") == restored ]] || fail "scenario $s was not restored"
done
grep -q 'boots: 2 restored, 0 cold' "$out/iso.out" || fail "no boots line"
dir=$(state_dir iso)
[[ -s $dir/state ]] || fail "no saved state named in the output"

# 2. damaged states
truncate -s 4096 "$dir/state"
run truncated "$out/scen/b.toml"
grep -q "saved guest: booted .* to $dir" "$out/truncated.out" || fail "a truncated state was not saved again"
[[ $(boot_of "$out/truncated/runner/restore-b") == restored ]] || fail "not restored after the rebuild"
size=$(stat -c %s "$dir/state")
dd if=/dev/urandom of="$dir/state" bs=1M count=4 seek=1 conv=notrunc status=none
[[ $(stat -c %s "$dir/state") == "$size" ]] || fail "the test changed the state's size"
run garbage "$out/scen/b.toml"
grep -q 'PASS.*runner/restore-b' "$out/garbage.out" || fail "the fallback cold boot did not pass"
[[ $(boot_of "$out/garbage/runner/restore-b") == cold ]] || fail "a garbage state was restored"
grep -q '"cold boot: restore failed' "$out/garbage/runner/restore-b/result.json" || fail "result.json does not say why it booted cold"
run after-garbage "$out/scen/b.toml"
grep -q "saved guest: booted .* to $dir" "$out/after-garbage.out" || fail "the discarded state was not saved again"

# 3. a changed initramfs: a new state
sed 's/^name = .*/name = "runner\/restore-b-isofs"\nmodules = ["isofs"]/' "$out/scen/b.toml" >"$out/scen/c.toml"
run changed "$out/scen/c.toml"
other=$(state_dir changed)
[[ -n $other && $other != "$dir" ]] || fail "a changed initramfs restored the old state ($other)"
[[ $(boot_of "$out/changed/runner/restore-b-isofs") == restored ]] || fail "not restored with the new initramfs"
echo "PASS"
