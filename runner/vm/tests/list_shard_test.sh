#!/usr/bin/env bash
# --list prints the catalogue; --shard K/N deals it into N disjoint parts whose union is the whole,
# and --filter narrows it. Runs on the real catalogue, no VM.
#   list_shard_test.sh FSFAULT_BIN
set -euo pipefail
fsfault=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$fsfault" vm-test --list | cut -f1 | sort >"$tmp/all"
n=$(wc -l <"$tmp/all")
[[ $n -ge 1 ]] || { echo "FAIL: empty catalogue"; exit 1; }
for N in 1 2 3 5; do
  : >"$tmp/union"
  for K in $(seq 1 $N); do
    "$fsfault" vm-test --list --shard "$K/$N" | cut -f1 >"$tmp/shard"
    # A second listing of the same shard must be identical: the partition is stable.
    "$fsfault" vm-test --list --shard "$K/$N" | cut -f1 | cmp -s - "$tmp/shard" || { echo "FAIL: shard $K/$N unstable"; exit 1; }
    cat "$tmp/shard" >>"$tmp/union"
  done
  sort "$tmp/union" >"$tmp/union.sorted"
  # Disjoint (no name twice) and complete (the same set as the catalogue).
  cmp -s "$tmp/union.sorted" "$tmp/all" || { echo "FAIL: shards of $N are not a partition"; diff "$tmp/union.sorted" "$tmp/all"; exit 1; }
done
first=$(head -1 "$tmp/all")
"$fsfault" vm-test --list --filter "$first" | cut -f1 | grep -qx -- "$first" || { echo "FAIL: --filter"; exit 1; }
[[ $("$fsfault" vm-test --list --filter 'no-such-scenario-*' | wc -l) -eq 0 ]] || { echo "FAIL: --filter matched nothing yet listed"; exit 1; }
for bad in 0/2 3/2 x 1/0; do
  if "$fsfault" vm-test --list --shard "$bad" >/dev/null 2>&1; then echo "FAIL: --shard $bad accepted"; exit 1; fi
done
echo "PASS: $n scenarios, shards of 1, 2, 3, 5 partition them"
