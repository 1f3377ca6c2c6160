# Sourced by the VM runner tests: asserts that a finished run left nothing behind.
#   assert_no_orphans OUT_DIR
# Every QEMU and fsfault-nbd of a run names a file under OUT_DIR (console log, fault log) or under
# the run's /tmp/fsfault-vm.* directory (sockets), which commands.txt records.
assert_no_orphans() {
  local out=$1 tmpdirs
  tmpdirs=$(grep -ho '/tmp/fsfault-vm\.[A-Za-z0-9]*' "$out"/*/commands.txt "$out"/*/*/commands.txt 2>/dev/null | sort -u || true)
  local pattern="$out"
  for d in $tmpdirs; do pattern="$pattern|$d"; done
  local left
  # Only our binaries count: this script's own command line names OUT_DIR too.
  left=$(pgrep -af -- "^[^ ]*(qemu-system-x86_64|fsfault-nbd|qemu-nbd|/fsfault) .*($pattern)" || true)
  if [[ -n "$left" ]]; then
    echo "FAIL: processes left behind:"; echo "$left"; return 1
  fi
  for d in $tmpdirs; do
    if [[ -e "$d" ]]; then echo "FAIL: temporary directory left behind: $d"; ls -la "$d"; return 1; fi
  done
  [[ -n "$tmpdirs" ]] || { echo "FAIL: no temporary directory recorded in commands.txt"; return 1; }
  echo "ok: no process or temporary directory left (${tmpdirs//$'\n'/ })"
}
