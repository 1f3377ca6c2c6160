#!/usr/bin/env bash
# Bring your own disk, on bookworm: a recipe file given by a path relative to the scenario, a raw
# ext4 image made here by mkfs.ext4 (written to by the guest), and a blank disk read unmounted
# under a sector rule. The raw image must be byte-for-byte the same after the run (the server
# keeps an overlay).
#   vm_own_disk_test.sh FSFAULT_BIN OUT_DIR
set -euo pipefail
fsfault=$1 out=$2
src=$(cd "$(dirname "$0")/../../.." && pwd)
cache_args=()
[[ -n ${FSFAULT_VM_CACHE:-} ]] && cache_args=(--cache "$FSFAULT_VM_CACHE")
rm -rf "$out"
mkdir -p "$out/scen/recipes" "$out/scen/disks"
sed 's/^description = .*/description = "own-disk test: the built-in ext4-basic under another name"/' \
  "$src/images/recipes/ext4-basic.toml" >"$out/scen/recipes/tiny.toml"
truncate -s 32M "$out/scen/disks/raw.img"
mkfs.ext4 -q -F -L rawdisk "$out/scen/disks/raw.img"
before=$(sha256sum <"$out/scen/disks/raw.img")
cat >"$out/scen/own-disk.toml" <<'TOML'
name = "runner/own-disk"
step = [
  { do = "stat", path = "/data/f1", errno = "OK" },
  { do = "write", path = "/new", disk = 1, bytes = 65536, fsync = true, errno = "OK" },
  { do = "stat", path = "/new", disk = 1, errno = "OK" },
  { do = "exec", label = "blank-sector0", sh = "dd if=/dev/vdc of=/dev/null bs=4096 count=1", errno = "OK", exit = 1 },
  { do = "exec", label = "blank-zeros", sh = "dd if=/dev/vdc bs=4096 skip=1 count=1 2>/dev/null | tr -d '\\000' | wc -c", errno = "OK" },
]

[[disk]]
image = "recipes/tiny.toml"

[[disk]]
image = "disks/raw.img"
mount = { fs = "ext4" }

[[disk]]
blank = "16MiB"

[[rule]]
disk = 2
match = { op = "read", sectors = "0-7" }
action = { fail = "EIO" }
TOML
set +e
"$fsfault" vm-test --kernel bookworm --accel tcg --timeout 180 --scenarios "$out/scen/own-disk.toml" \
  --out "$out/run" "${cache_args[@]}" >"$out/stdout" 2>&1
rc=$?
set -e
cat "$out/stdout"
[[ $rc -eq 0 ]] || { echo "FAIL: exit status $rc"; exit 1; }
grep -q 'PASS.*runner/own-disk' "$out/stdout" || { echo "FAIL: scenario did not pass"; exit 1; }
dir="$out/run/runner/own-disk"
# The write reached the server (it wrote the overlay), and the blank disk's read was failed by the rule.
grep -q '"action":"fail"' "$dir"/faults-d2.jsonl || { echo "FAIL: no fault on the blank disk"; exit 1; }
grep '"label":"blank-sector0"' "$dir/records.jsonl" | grep -qv '"exit":0' || { echo "FAIL: sector 0 of the blank disk read despite the rule"; exit 1; }
grep '"label":"blank-zeros"' "$dir/records.jsonl" | grep -q '"output":" *0\\n"' || { echo "FAIL: the blank disk is not zeros"; exit 1; }
after=$(sha256sum <"$out/scen/disks/raw.img")
[[ $before == "$after" ]] || { echo "FAIL: the raw image changed: $before -> $after"; exit 1; }
echo "PASS"
