#!/usr/bin/env bash
# Fails when a function in the runner, the front binary, the guest harness or the image builder is
# longer than the threshold (default 80 lines, whitespace and comments included), as measured by
# clang-tidy's readability-function-size on the build's compile_commands.json. Lambdas count toward
# the function that holds them. Tests are exempt: a test is a list of facts, not a design.
# Usage: .ci/function-size.sh BUILD_DIR [THRESHOLD]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:?usage: .ci/function-size.sh BUILD_DIR [THRESHOLD]}
limit=${2:-80}
[[ -f "$build/compile_commands.json" ]] || { echo "no $build/compile_commands.json: configure first" >&2; exit 2; }
# A unity build's database names its unity_N.cxx files, not the sources: clang-tidy then reads
# each source from a configure-only database of the same flags, one entry per file (seconds).
db=$build
# (-DCMAKE_UNITY_BUILD=ON on the command line caches it untyped: CMAKE_UNITY_BUILD:UNINITIALIZED=ON.)
if grep -Eqi '^CMAKE_UNITY_BUILD:[A-Z]+=(ON|TRUE|YES|1)$' "$build/CMakeCache.txt" 2>/dev/null; then
  db=$build/lint-db
  cmake -S . -B "$db" -G Ninja -DCMAKE_UNITY_BUILD=OFF -DFSFAULT_CCACHE=OFF >/dev/null
fi
mapfile -t files < <(git ls-files 'runner/*.cpp' 'cli/*.cpp' 'guest-tests/guest/*.cpp' 'images/*.cpp' \
                     'process/*.cpp' 'base/*.cpp' | grep -v '/tests/')
config="{CheckOptions: [{key: readability-function-size.LineThreshold, value: $limit}]}"
# A file clang-tidy cannot compile is not measured: that fails the lint rather than passing it.
status=0
out=$(printf '%s\n' "${files[@]}" | xargs -P "$(nproc)" -n 4 clang-tidy -p "$db" --quiet \
        --checks='-*,readability-function-size' --config="$config" 2>&1) || status=$?
if [[ $status -ne 0 ]]; then
  echo "clang-tidy could not analyse every file (exit $status), so function sizes are unchecked:" >&2
  grep -E 'error:' <<<"$out" | sort -u | head -10 >&2
  echo "$(grep -c 'Error while processing' <<<"$out") of ${#files[@]} files not analysed" >&2
  exit 1
fi
report=$(grep -A1 'readability-function-size' <<<"$out" | grep -E 'warning:|lines including' || true)
if [[ -n "$report" ]]; then
  echo "functions over $limit lines:" >&2
  echo "$report" >&2
  exit 1
fi
echo "function size: ${#files[@]} files, no function over $limit lines"
