// `fsfault repro`: a schedule + seed + image + the standard workload, run as a one-scenario
// catalogue; then the error-flood accounting read back from the artifacts (design.md §2).
#pragma once

#include "guest-tests/runner/scenario.h"

#include <optional>
#include <string>

namespace fsfault::vm {

// The standard workload (docs/vm-test.md, "fsfault repro"): watch, drop caches, phase "armed",
// five rounds of metadata and data I/O on /data, then drain the events and the kernel log.
extern const char* const kReproWorkload;

// A scenario named "repro/<schedule stem>" on one disk of `image`, with the schedule's seed and
// [[rule]] tables, `seed` overriding the schedule's, and `workload_steps` (a TOML `step = [...]`
// line) replacing the standard workload when not empty.
Scenario repro_scenario(const std::string& schedule_text, const std::string& schedule_path, const std::string& image,
                        std::optional<std::uint64_t> seed, const std::string& workload_steps = "");

struct FloodCounts {
  long long faults_fired = 0;     // fault log lines
  long long fs_error_events = 0;  // FAN_FS_ERROR events read
  long long error_count_sum = 0;  // sum of their error_count
  long long overflow_events = 0;  // FAN_Q_OVERFLOW events read
  long long lost_reports = 0;     // "lost filesystem error report" kernel log lines (7.0+)
  std::string fault_log_digest;   // hash of the fault log without t_ms and req: same faults, same digest
};

// Counts from a scenario's artifact directory (records.jsonl, faults-d*.jsonl).
FloodCounts count_flood(const std::string& artifact_dir);

}  // namespace fsfault::vm
