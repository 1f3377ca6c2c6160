// The invariants `fsfault explore` judges on every trial, whatever its faults, and the signature
// a violation is grouped by: the invariant and the kernel functions named in the trial's
// filesystem log lines.
#pragma once

#include "runner/scenario/scenario.h"

#include <string>
#include <vector>

namespace fsfault::vm::explore {

struct Violation {
  std::string invariant;  // "accounting", "negative-errno", "event-without-fault", "blocked",
                          // "panic", "timeout", "runner-error"
  std::string detail;     // the judge's or the check's words
};

// What one trial's artifacts (records.jsonl, faults-d*.jsonl, result.json) show.
struct TrialVerdict {
  std::string verdict;                 // result.json's ("pass", "fail", "error", ...)
  std::vector<Violation> violations;
  std::vector<std::string> fs_log;     // filesystem kernel log lines (EXT4-fs, XFS, JBD2, ...)
  std::vector<std::string> functions;  // kernel functions named in fs_log, sorted, unique
};

// Judges the invariants on a trial's artifact directory.
TrialVerdict judge_trial(const std::string& artifact_dir);

// The kernel functions a log line names: "EXT4-fs error (device vda): ext4_mb_generate_buddy:1217:
// ..." -> ext4_mb_generate_buddy; identifiers of the ext4_/xfs_/jbd2_ families elsewhere too.
std::vector<std::string> kernel_functions(const std::string& line);

// "accounting@ext4_mb_generate_buddy+ext4_validate_block_bitmap": stable, usable as a folder name.
std::string signature(const Violation& v, const std::vector<std::string>& functions);

// The signatures of a trial's violations (one per violation, deduplicated).
std::vector<std::string> signatures(const TrialVerdict& t);

// Whether trial `t` still shows finding `sig` while minimizing: a violation of the same invariant
// whose kernel functions are a subset of the finding's (none when it named none). Dropping a rule
// that only added a reported error (another function) keeps the finding; the smaller signature is
// the minimized one (returned through `narrowed`).
bool shows(const TrialVerdict& t, const std::string& sig, std::string* narrowed = nullptr);

}  // namespace fsfault::vm::explore
