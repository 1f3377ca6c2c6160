#!/usr/bin/env bash
# Fault actions and firing controls seen through QEMU's own NBD client
# (qemu-io, qemu-img) against the real fsfault-nbd, driven live with
# `fsfault ctl`. Usage: faults_qemu_io.sh BIN_DIR
set -uo pipefail

BIN=${1:?usage: $0 BIN_DIR}
NBD="$BIN/fsfault-nbd"
CTL="$BIN/fsfault"
WORK=$(mktemp -d /tmp/fsfault-faults-it.XXXXXX)
SERVER_PID=""

cleanup() {
  [[ -n "$SERVER_PID" ]] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

source "$(dirname "$0")/../lib/tap_checks.sh"

SOCK="$WORK/nbd.sock"
CTRL="$WORK/ctl.sock"
LOG="$WORK/faults.jsonl"
URI="nbd+unix:///disk?socket=$SOCK"
GOLDEN="$WORK/golden.img"

# 4 MiB of seeded, non-zero content, so flips and zeroes are visible.
head -c $((4 << 20)) /dev/urandom > "$GOLDEN" 2>/dev/null
GOLDEN_SHA=$(sha256sum "$GOLDEN" | cut -d' ' -f1)

start_server() {  # start_server SCHEDULE [extra flags...]
  local schedule=$1; shift
  stop_server
  rm -f "$LOG"
  "$NBD" --image "$GOLDEN" --export disk --socket "$SOCK" --control "$CTRL" \
    --schedule "$schedule" --fault-log "$LOG" -q "$@" > "$WORK/server.out" 2> "$WORK/server.err" &
  SERVER_PID=$!
  for _ in $(seq 100); do
    [[ -S "$SOCK" && -S "$CTRL" ]] && return 0
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
qio() { qemu-io -f raw "$URI" "$@" 2>&1; }
log_lines() { [[ -f "$LOG" ]] && wc -l < "$LOG" || echo 0; }
log_count() { grep -c "$1" "$LOG" 2>/dev/null || true; }
# Bits that differ between two files of equal size (counts set bits of XOR).
bit_diff() {
  cmp -l "$1" "$2" | awk '{
    a = 0; b = 0
    for (i = 1; i <= length($2); i++) a = a * 8 + substr($2, i, 1)
    for (i = 1; i <= length($3); i++) b = b * 8 + substr($3, i, 1)
    for (k = 0; k < 8; k++) if (int(a / 2^k) % 2 != int(b / 2^k) % 2) n++
  } END { print n + 0 }'
}
# The golden bytes of a range, as a file.
slice() { dd if="$1" bs=512 skip="$2" count="$3" status=none; }

# --- fail: the failing range gets EIO, neighbours read fine ----------------
cat > "$WORK/fail.toml" <<'T'
seed = 1
[[rule]]
name = "bad-sectors"
match = { op = "read", sectors = "2048-2055" }
action = { fail = "EIO" }
T
start_server "$WORK/fail.toml"
out=$(qio -c 'read 1048576 4096')
check "fail: read of the failing range gets EIO" grep -q 'read failed: Input/output error' <<<"$out"
out=$(qio -c 'read 1048064 512' -c 'read 1052672 512')
check "fail: the sectors just before and after read fine" \
  test "$(grep -c '^read 512/512 bytes' <<<"$out")" -eq 2
out=$(qio -c 'read 1050112 1' )
check "fail: an unaligned 1-byte read inside the range fails" grep -q 'Input/output error' <<<"$out"
check "fail: the log has one line per failed request (2)" test "$(log_count '"action":"fail"')" -eq 2
check "fail: the log names the rule, op, sector and errno" \
  grep -q '"rule":"bad-sectors".*"op":"read","sector":2048,"sectors":8,"action":"fail","error":"EIO"' "$LOG"

# --- count / after / every --------------------------------------------------
cat > "$WORK/count.toml" <<'T'
[[rule]]
name = "third-and-fifth"
match = { op = "read", sectors = "4096-4103" }
action = { fail = "EIO" }
after = 2
every = 2
count = 2
T
start_server "$WORK/count.toml"
seq_result=""
for _ in 1 2 3 4 5 6 7 8; do
  out=$(qio -c 'read 2097152 4096')
  if grep -q 'failed' <<<"$out"; then seq_result+="F"; else seq_result+="."; fi
done
check "after=2 every=2 count=2: reads 3 and 5 fail, nothing else (got $seq_result)" \
  test "$seq_result" = "..F.F..."

# --- transient flip: exactly N bits, media intact after clear ----------------
cat > "$WORK/flip.toml" <<'T'
seed = 42
[[rule]]
name = "flip3"
match = { op = "read", sectors = "100-107" }
action = { flip = { bits = 3 } }
count = 1
T
start_server "$WORK/flip.toml"
qemu-img convert -f raw -O raw "$URI" "$WORK/read1.img" 2>/dev/null
check "transient flip: exactly 3 bits differ from the golden image" \
  test "$(bit_diff "$GOLDEN" "$WORK/read1.img")" -eq 3
check "transient flip: only sectors 100-107 differ" \
  bash -c "cmp -l '$GOLDEN' '$WORK/read1.img' | awk '{ if (\$1 - 1 < 100*512 || \$1 - 1 >= 108*512) bad=1 } END { exit bad }'"
"$CTL" ctl --control "$CTRL" clear > /dev/null
qemu-img convert -f raw -O raw "$URI" "$WORK/read2.img" 2>/dev/null
check "transient flip: a re-read after clear shows intact media" cmp -s "$GOLDEN" "$WORK/read2.img"
bits_logged=$(grep -o '"bits":\[[0-9,]*\]' "$LOG" | tr -cd ',' | wc -c)
check "transient flip: the log lists 3 bit offsets" test "$((bits_logged + 1))" -eq 3

# --- persistent flip survives ----------------------------------------------
sed 's/bits = 3 }/bits = 2, persist = true }/' "$WORK/flip.toml" > "$WORK/flip-persist.toml"
start_server "$WORK/flip-persist.toml"
qemu-img convert -f raw -O raw "$URI" "$WORK/p1.img" 2>/dev/null
"$CTL" ctl --control "$CTRL" clear > /dev/null
qemu-img convert -f raw -O raw "$URI" "$WORK/p2.img" 2>/dev/null
check "persistent flip: 2 bits differ on the first read" test "$(bit_diff "$GOLDEN" "$WORK/p1.img")" -eq 2
check "persistent flip: the corruption survives with the rule gone" cmp -s "$WORK/p1.img" "$WORK/p2.img"
check "persistent flip: the golden image itself is untouched" \
  test "$(sha256sum "$GOLDEN" | cut -d' ' -f1)" = "$GOLDEN_SHA"

# --- fixed-offset flip --------------------------------------------------------
cat > "$WORK/flip-offset.toml" <<'T'
[[rule]]
name = "one-bit"
match = { op = "read", sectors = "10-10" }
action = { flip = { offset = 13 } }
T
start_server "$WORK/flip-offset.toml"
qemu-img convert -f raw -O raw "$URI" "$WORK/o1.img" 2>/dev/null
diffline=$(cmp -l "$GOLDEN" "$WORK/o1.img")
# byte 1 of sector 10 (cmp counts from 1), bit 5
check "offset flip: exactly byte 10*512+1 differs" test "$(awk '{print $1}' <<<"$diffline")" = "$((10 * 512 + 2))"
check "offset flip: exactly one bit" test "$(bit_diff "$GOLDEN" "$WORK/o1.img")" -eq 1

# --- zero -------------------------------------------------------------------------
cat > "$WORK/zero.toml" <<'T'
[[rule]]
match = { op = "read", sectors = "16-23" }
action = { zero = true }
T
start_server "$WORK/zero.toml"
out=$(qio -c 'read -P 0 8192 4096' -c 'read -v 12288 16')
check "zero: the range reads as zeros" grep -q '^read 4096/4096 bytes' <<<"$out"
check "zero: no pattern mismatch" bash -c "! grep -q 'Pattern verification failed' <<<\"\$1\"" _ "$out"

# --- ENOSPC on writes -----------------------------------------------------------
cat > "$WORK/enospc.toml" <<'T'
[[rule]]
match = { op = "write", sectors = "4096-4103" }
action = { fail = "ENOSPC" }
T
start_server "$WORK/enospc.toml"
out=$(qio -c 'write -P 0x5a 2097152 4096')
check "ENOSPC: a write to the range fails with No space left on device" \
  grep -q 'No space left on device' <<<"$out"
out=$(qio -c 'write -P 0x5a 0 4096' -c 'read -P 0x5a 0 4096')
check "ENOSPC: writes elsewhere succeed" bash -c "! grep -q failed <<<\"\$1\"" _ "$out"

# --- delay measurably delays ---------------------------------------------------
cat > "$WORK/delay.toml" <<'T'
[[rule]]
match = { op = "read", sectors = "0-7" }
action = { delay_ms = 400 }
T
start_server "$WORK/delay.toml"
t0=$(date +%s%N); qio -c 'read 0 4096' > /dev/null; t1=$(date +%s%N)
t2=$(date +%s%N); qio -c 'read 8192 4096' > /dev/null; t3=$(date +%s%N)
delayed_ms=$(( (t1 - t0) / 1000000 )); plain_ms=$(( (t3 - t2) / 1000000 ))
check "delay: the matching read took at least 400 ms (took ${delayed_ms} ms)" test "$delayed_ms" -ge 400
check "delay: the read is delayed by the rule, not the setup (${delayed_ms} vs ${plain_ms} ms)" \
  test "$((delayed_ms - plain_ms))" -ge 350

# --- disconnect drops the connection, the server keeps serving ------------------
cat > "$WORK/disconnect.toml" <<'T'
[[rule]]
match = { op = "read", sectors = "64-71" }
action = { disconnect = true }
count = 1
T
start_server "$WORK/disconnect.toml"
out=$(timeout 30 qemu-io -f raw "$URI" -c 'read 32768 4096' 2>&1)
# qemu-io 7.2: a connection dropped mid-request fails the request with EIO
# ("read failed: Input/output error"); a server it cannot reach fails the open
# instead ("can't open device ...: Failed to connect to ...").
check "disconnect: the client connected, then its read failed with EIO" \
  bash -c "grep -qx 'read failed: Input/output error' <<<\"\$1\" && ! grep -q \"can't open device\" <<<\"\$1\"" _ "$out"
check "disconnect: the fault log records the dropped read" \
  grep -q '"op":"read","sector":64,"sectors":8,"action":"disconnect"' "$LOG"
out=$(qio -c 'read 32768 4096')
check "disconnect: a new connection is served" grep -q '^read 4096/4096 bytes' <<<"$out"
check "disconnect: the server is still alive" kill -0 "$SERVER_PID"

# --- die: everything after fails ------------------------------------------------
cat > "$WORK/die.toml" <<'T'
[[rule]]
name = "and-then-it-died"
match = { op = "read", sectors = "200-207" }
action = { die = true }
T
start_server "$WORK/die.toml"
out=$(qio -c 'read 0 4096' -c 'read 102400 4096' -c 'read 0 4096' -c 'write 4096 4096')
check "die: the read before dying succeeds" test "$(grep -c '^read 4096/4096' <<<"$out")" -eq 1
check "die: the dying read and everything after fail" test "$(grep -c 'failed' <<<"$out")" -eq 3
"$CTL" ctl --json --control "$CTRL" stats > "$WORK/stats.json" 2>&1 || true
check "die: stats report the disk dead" grep -q '"dead":true' "$WORK/stats.json"

# --- a phase switch through fsfault ctl arms a rule before the next request ------
cat > "$WORK/phase.toml" <<'T'
[[rule]]
name = "armed-eio"
phase = "armed"
match = { op = "read", sectors = "0-7" }
action = { fail = "EIO" }
T
start_server "$WORK/phase.toml"
out=$(qio -c 'read 0 4096')
check "phase: before the phase the rule is inactive" grep -q '^read 4096/4096' <<<"$out"
"$CTL" ctl --control "$CTRL" phase armed > "$WORK/phase.out" 2>&1
check "phase: fsfault ctl phase answers" grep -q 'phase: armed' "$WORK/phase.out"
out=$(qio -c 'read 0 4096')
check "phase: the very next request sees the armed rule" grep -q 'Input/output error' <<<"$out"
"$CTL" ctl --control "$CTRL" phase disarmed > /dev/null
out=$(qio -c 'read 0 4096')
check "phase: leaving the phase disarms it" grep -q '^read 4096/4096' <<<"$out"

# --- fsfault ctl load replaces the schedule; bad schedules are precise errors ----
"$CTL" ctl --control "$CTRL" load "$WORK/fail.toml" > /dev/null
out=$(qio -c 'read 1048576 4096')
check "ctl load: the loaded rule is in force" grep -q 'Input/output error' <<<"$out"
printf '[[rule]]\nmatch = { op = "read", sectors = "9-3" }\naction = { fail = "EIO" }\n' > "$WORK/bad.toml"
"$CTL" ctl --control "$CTRL" load "$WORK/bad.toml" > "$WORK/bad.out" 2>&1
rc=$?
check "ctl load: a bad schedule exits non-zero" test "$rc" -ne 0
check "ctl load: the error names file:line:col" grep -q "bad.toml:2:" "$WORK/bad.out"
stop_server
"$NBD" --image "$GOLDEN" --socket "$SOCK" --schedule "$WORK/bad.toml" -q 2> "$WORK/bad-start.err"
rc=$?
check "startup with a bad schedule fails (exit $rc) naming file:line:col" \
  bash -c "test $rc -ne 0 && grep -q 'bad.toml:2:' '$WORK/bad-start.err'"

# --- the fault log lists exactly the faults the client saw; replay is identical --
cat > "$WORK/replay.toml" <<'T'
seed = 99
[[rule]]
name = "coin"
match = { op = "read", sectors = "0-8191" }
action = { fail = "EIO" }
probability = 0.3
[[rule]]
name = "flips"
match = { op = "read", sectors = "0-8191" }
action = { flip = { bits = 2 } }
probability = 0.2
T
run_replay() {
  start_server "$WORK/replay.toml"
  local cmds=()
  for i in $(seq 0 39); do cmds+=(-c "read $((i * 4096 * 7 % (4 << 20))) 4096"); done
  qio "${cmds[@]}" > "$WORK/replay-client-$1.out"
  stop_server
  sed 's/"t_ms":[0-9]*,//' "$LOG" > "$WORK/replay-$1.jsonl"
}
run_replay 1
run_replay 2
client_failures=$(grep -c 'read failed' "$WORK/replay-client-1.out")
logged_failures=$(grep -c '"action":"fail"' "$WORK/replay-1.jsonl")
check "log: every failure the client saw is logged, and nothing else ($client_failures vs $logged_failures)" \
  test "$client_failures" -eq "$logged_failures" -a "$client_failures" -gt 0
check "replay: same schedule, seed and requests give an identical fault log" \
  cmp -s "$WORK/replay-1.jsonl" "$WORK/replay-2.jsonl"
sed -i 's/seed = 99/seed = 100/' "$WORK/replay.toml"
run_replay 3
check "replay: another seed gives another log" bash -c "! cmp -s '$WORK/replay-1.jsonl' '$WORK/replay-3.jsonl'"

check "the golden image is byte-identical after everything" \
  test "$(sha256sum "$GOLDEN" | cut -d' ' -f1)" = "$GOLDEN_SHA"

finish_checks
