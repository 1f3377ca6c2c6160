#!/usr/bin/env bash
# Runs every libFuzzer target for SECONDS seconds each, starting from the
# committed seed corpus (fuzz/corpus/<target>/) and the reproducers of fixed
# crashes (fuzz/regressions/<target>/, so a regression fails the run at once)
# plus a working corpus kept in BUILD/fuzz-corpus/<target>/ (new inputs land
# there, never in the source tree). Crash reproducers go to BUILD/fuzz-artifacts/. Prints one summary
# line per target; exits non-zero when any target found a crash, leak or
# timeout.
#   usage: fuzz/run-all.sh BUILD_DIR [SECONDS] [TARGET...]
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="$(cd "${1:?usage: run-all.sh BUILD_DIR [SECONDS] [TARGET...]}" && pwd)"
seconds="${2:-30}"
shift $(( $# >= 2 ? 2 : $# ))
targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
  targets=(negotiation_fuzzer transmission_fuzzer schedule_fuzzer target_map_fuzzer
           scenario_fuzzer guest_records_fuzzer kernel_config_fuzzer third_party_results_fuzzer
           fs_monitor_output_fuzzer lost_reports_fuzzer)
fi
mkdir -p "$build/fuzz-artifacts" "$build/fuzz-logs"
status=0
for t in "${targets[@]}"; do
  bin="$build/bin/$t"
  if [[ ! -x "$bin" ]]; then
    echo "FAIL $t: $bin not built" >&2
    status=1
    continue
  fi
  work="$build/fuzz-corpus/$t"
  mkdir -p "$work"
  dirs=("$work" "$here/corpus/$t")
  [[ -d "$here/regressions/$t" ]] && dirs+=("$here/regressions/$t")
  log="$build/fuzz-logs/$t.log"
  # -timeout: one input may take at most 10 s (a hang is a finding);
  # -rss_limit_mb: the server must not balloon on one request.
  ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}" \
  "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$build/fuzz-artifacts/$t-" "${dirs[@]}" >"$log" 2>&1
  rc=$?
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
  if [[ $rc -eq 0 ]]; then
    echo "ok   $t: ${execs:-?} execs in ${seconds}s, ${cov:-cov: ?}, corpus $(ls "$work" | wc -l)"
  else
    echo "FAIL $t (exit $rc): see $log; reproducer in $build/fuzz-artifacts/"
    grep -m3 -E 'ERROR|SUMMARY|Deadly|Timeout' "$log" | sed 's/^/     /'
    status=1
  fi
done
exit $status
