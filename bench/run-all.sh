#!/usr/bin/env bash
# All benchmarks, in order, each printing its table (`make bench`). Builds
# nothing: BUILD_DIR must already hold bin/bench_faults, bin/bench_nbd_flood,
# bin/fsfault-nbd and bin/fsfault. Numbers are for humans (docs/performance.md);
# nothing here is asserted. Extra knobs via the environment:
#   BENCH_RUNS (3), BENCH_SECONDS (3), BENCH_SIZE (1G), BENCH_KERNELS ("bookworm"),
#   BENCH_RSS_MINUTES (1; the issue's figure is 10), BENCH_CACHE (kernels/images
#   for the VM part; default BUILD_DIR),
#   BENCH_SKIP (space-separated subset of: faults flood datapath rss vm)
#
# Usage: bench/run-all.sh [BUILD_DIR]
set -euo pipefail
BUILD=${1:-build}
BIN=$BUILD/bin
HERE=$(cd "$(dirname "$0")" && pwd)
RUNS=${BENCH_RUNS:-3}
SECS=${BENCH_SECONDS:-3}
SIZE=${BENCH_SIZE:-1G}
SKIP=" ${BENCH_SKIP:-} "
banner() {
  echo
  echo "=== $1 — $(date -u +%FT%TZ), nproc $(nproc), load $(cut -d' ' -f1-3 /proc/loadavg)"
}
skipped() { [[ $SKIP == *" $1 "* ]]; }

echo "machine: $(nproc) × $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"

if ! skipped faults; then
  banner "decide(): bench_faults (0 / 1k / 100k / 1M rules)"
  if [[ -x $BIN/bench_faults ]]; then
    "$BIN/bench_faults" --benchmark_repetitions="$RUNS" --benchmark_report_aggregates_only=true \
      --benchmark_min_time=0.2
  else
    echo "bench_faults not built (Google Benchmark not installed)"
  fi
fi

if ! skipped flood; then
  banner "error flood: bench_nbd_flood, 4k random reads QD32, req/s"
  bash "$HERE/nbd-flood" "$BIN" --runs "$RUNS" --seconds "$SECS" --qd 32
fi

if ! skipped datapath; then
  banner "data path: fio nbd engine, medians of $RUNS × ${SECS}s, $SIZE image"
  bash "$HERE/nbd-datapath" "$BIN" --runs "$RUNS" --seconds "$SECS" --size "$SIZE"
fi

if ! skipped rss; then
  banner "memory: server RSS over a ${BENCH_RSS_MINUTES:-1}-minute EIO flood, overlay growth"
  bash "$HERE/nbd-flood-rss" "$BIN" --minutes "${BENCH_RSS_MINUTES:-1}" --interval 5
fi

if ! skipped vm; then
  kargs=(--cache "${BENCH_CACHE:-$BUILD}")
  for k in ${BENCH_KERNELS:-bookworm}; do kargs+=(--kernel "$k"); done
  banner "vm: bare boot vs scenarios, catalogue --jobs 1 / 2"
  bash "$HERE/vm" "$BIN" "${kargs[@]}" --bare-runs "$RUNS"
fi
