#!/usr/bin/env bash
# Faults touch exactly what they name, seen through QEMU's own NBD client
# (qemu-io) against the real fsfault-nbd: one read that covers a zeroed target
# and its clean neighbour returns zeros for exactly the target and the
# neighbour's stored bytes (the reported bitmap flood: the kernel merged two
# bitmap reads into one 16-sector request, and the whole request came back
# zeroed). Usage: fault_precision_qemu_io.sh FSFAULT_NBD
set -uo pipefail

NBD=${1:?usage: $0 FSFAULT_NBD}
WORK=$(mktemp -d /tmp/fsfault-precise-it.XXXXXX)
SERVER_PID=""

cleanup() {
  [[ -n "$SERVER_PID" ]] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

source "$(dirname "$0")/../../tests/lib/tap_checks.sh"

SOCK="$WORK/nbd.sock"
LOG="$WORK/faults.jsonl"
URI="nbd+unix:///disk?socket=$SOCK"
GOLDEN="$WORK/golden.img"
MAP="$WORK/golden.map.json"

# 1 MiB of random, non-zero-looking content, and three adjacent 4 KiB
# "bitmap blocks" at sectors 16-23, 24-31, 32-39 (as flex_bg lays them out).
head -c $((1 << 20)) /dev/urandom > "$GOLDEN" 2>/dev/null
cat > "$MAP" <<'J'
{"image": "precise", "fs": "ext4", "size_bytes": 1048576, "sector_size": 512,
 "targets": {"block-bitmap:1": {"ranges": [[16, 23]]}, "block-bitmap:2": {"ranges": [[24, 31]]},
             "block-bitmap:3": {"ranges": [[32, 39]]}}}
J

start_server() {  # start_server SCHEDULE
  stop_server
  rm -f "$LOG"
  "$NBD" --image "$GOLDEN" --export disk --map "$MAP" --socket "$SOCK" --schedule "$1" \
    --fault-log "$LOG" -q > "$WORK/server.out" 2> "$WORK/server.err" &
  SERVER_PID=$!
  for _ in $(seq 100); do
    [[ -S "$SOCK" ]] && return 0
    sleep 0.05
  done
  echo "server did not start: $(cat "$WORK/server.err")" >&2
  return 1
}
stop_server() {
  if [[ -n "$SERVER_PID" ]]; then
    kill "$SERVER_PID" 2>/dev/null
    wait "$SERVER_PID" 2>/dev/null
    SERVER_PID=""
  fi
}
# The bytes one qemu-io read returned, as hex (from its -v dump): one request.
read_hex() {  # read_hex OFFSET LENGTH
  qemu-io -f raw "$URI" -c "read -v $1 $2" 2>&1 | grep -E '^[0-9a-f]{8}:  ' | cut -c12-58 | tr -d ' \n'
}
# same_hex NAME GOT WANT: passes when equal, else names the first byte that differs.
same_hex() {
  if [[ "$2" == "$3" ]]; then ok "$1"; return; fi
  local i=0
  while [[ "${2:i:2}" == "${3:i:2}" ]]; do i=$((i + 2)); done
  not_ok "$1" "byte $((i / 2)) of the read: got ${2:i:2}, want ${3:i:2} (${#2} vs ${#3} hex digits)"
}
hex_of() { od -An -v -tx1 | tr -d ' \n'; }
golden_hex() { dd if="$GOLDEN" bs=512 skip="$1" count="$2" status=none | hex_of; }
zero_hex() { head -c "$1" /dev/zero | hex_of; }

# --- one 16-sector read over an 8-sector zero target and its clean neighbour --
cat > "$WORK/zero.toml" <<'T'
[[rule]]
name = "bb1"
match = { op = "read", target = "block-bitmap:1" }
action = { zero = true }
T
start_server "$WORK/zero.toml"
got=$(read_hex 8192 8192)
check "zero: the read returned 8192 bytes" test "${#got}" -eq 16384
same_hex "zero: the target's 8 sectors read as zeros" "${got:0:8192}" "$(zero_hex 4096)"
same_hex "zero: the neighbour's 8 sectors read as stored" "${got:8192}" "$(golden_hex 24 8)"
check "zero: it was one 16-sector request, logged with the bytes zeroed" \
  grep -q '"sector":16,"sectors":16,"action":"zero","bytes":\[\[0,4096\]\]' "$LOG"
# A whole-disk copy (large requests) differs from the golden image in exactly the target.
qemu-img convert -f raw -O raw "$URI" "$WORK/copy.img" 2>/dev/null
want="$WORK/want.img"
cp "$GOLDEN" "$want"
dd if=/dev/zero of="$want" bs=512 seek=16 count=8 conv=notrunc status=none
check "zero: a whole-disk copy is the golden image with exactly the target zeroed" cmp -s "$want" "$WORK/copy.img"

# --- the first 1 KiB of each of three bitmap blocks, one rule, one request -----
cat > "$WORK/first-kib.toml" <<'T'
[[rule]]
name = "first-kib"
match = { op = "read", target = "block-bitmap:1-3" }
action = { zero = { offset = 0, bytes = 1024 } }
T
start_server "$WORK/first-kib.toml"
got=$(read_hex 8192 12288)
want_hex=""
for s in 16 24 32; do want_hex+="$(zero_hex 1024)$(golden_hex $((s + 2)) 6)"; done
same_hex "first KiB: one 24-sector read has zeros in exactly the first KiB of each block" "$got" "$want_hex"
check "first KiB: logged as three byte ranges of one request" \
  grep -q '"sector":16,"sectors":24,"action":"zero","bytes":\[\[0,1024\],\[4096,5120\],\[8192,9216\]\]' "$LOG"

stop_server
finish_checks
