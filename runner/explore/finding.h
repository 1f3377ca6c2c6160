// The invariants `fsfault explore` judges on every trial, whatever its faults, and the signature
// a violation is grouped by: the invariant and the kernel functions named in the trial's
// filesystem log lines.
#pragma once

#include "runner/scenario/scenario.h"

#include <set>
#include <string>
#include <utility>
#include <vector>

namespace fsfault::vm::explore {

struct Violation {
  std::string invariant;  // "accounting", "negative-errno", "undocumented-errno", "event-without-fault",
                          // "event-on-unfaulted-fs", "late-event", "blocked", "panic", "timeout",
                          // "runner-error" (docs/explore.md, "Invariants and signatures")
  std::string detail;     // the judge's or the check's words
};

// What one trial's artifacts (records.jsonl, faults-d*.jsonl, result.json) show.
struct TrialVerdict {
  std::string verdict;                 // result.json's ("pass", "fail", "error", ...)
  std::vector<Violation> violations;
  std::vector<std::string> fs_log;     // filesystem kernel log lines (EXT4-fs, XFS, JBD2, ...)
  std::vector<std::string> functions;  // kernel functions named in fs_log, sorted, unique
  std::string kernel_release;          // the guest's hello ("" when it sent none)
};

// The bounds of the invariants that have one.
struct Bounds {
  long long max_latency_ms = 5000;  // an FS_ERROR event's arrival after the step, and after the fault, that caused it
};

// Judges the invariants on a trial's artifact directory.
TrialVerdict judge_trial(const std::string& artifact_dir, const Bounds& bounds = {});

// The errnos FS_ERROR events carry on filesystem `fs` ("ext4", "xfs"); empty for another fs (not
// judged).
const std::vector<int>& documented_errnos(const std::string& fs);

// The kernel functions a log line names: "EXT4-fs error (device vda): ext4_mb_generate_buddy:1217:
// ..." -> ext4_mb_generate_buddy; identifiers of the ext4_/xfs_/jbd2_ families elsewhere too; and
// the ext4 reporter whose format the line has, where that format is its own: "FUNC:LINE: group N, "
// -> __ext4_grp_locked_error, "in FUNC:LINE:" -> __ext4_std_error.
std::vector<std::string> kernel_functions(const std::string& line);

// "accounting@ext4_mb_generate_buddy+ext4_validate_block_bitmap": stable, usable as a folder name.
// split_signature() takes it apart again: ("accounting", {ext4_mb_generate_buddy, ...}).
std::string signature(const Violation& v, const std::vector<std::string>& functions);
std::pair<std::string, std::set<std::string>> split_signature(const std::string& sig);

// The signatures of a trial's violations (one per violation, deduplicated).
std::vector<std::string> signatures(const TrialVerdict& t);

// Whether trial `t` still shows finding `sig` while minimizing: a violation of the same invariant
// whose kernel functions are a subset of the finding's (none when it named none). Dropping a rule
// that only added a reported error (another function) keeps the finding; the smaller signature is
// the minimized one (returned through `narrowed`).
bool shows(const TrialVerdict& t, const std::string& sig, std::string* narrowed = nullptr);

}  // namespace fsfault::vm::explore
