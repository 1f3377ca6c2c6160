// The judge: checks a scenario's [[expect]] entries and step errno
// expectations against what the guest recorded, the fault log and the image
// maps. Pure functions, unit-tested on recorded traces (guest-tests/tests).
#pragma once

#include "faults/target_map.h"
#include "runner/judge/fault_clock.h"
#include "runner/judge/third_party_results.h"
#include "runner/scenario/scenario.h"

#include <optional>
#include <string>
#include <vector>

namespace fsfault::vm {

// interrupted: the runner got SIGINT/SIGTERM/SIGHUP while the scenario ran (set by the runner).
// xfail: only expectations marked known_gap failed (the kernel still shows a catalogued gap; the
// run passes). fixed: a known_gap expectation held (the catalogue is out of date; a failure).
enum class Verdict { pass, fail, skip, timeout, error, interrupted, xfail, fixed };
const char* verdict_name(Verdict v);

struct Outcome {
  Verdict verdict = Verdict::error;
  std::vector<std::string> reasons;  // failures ("expected X, saw Y") or skip/error reason
  std::vector<std::string> notes;    // informative: events seen, counts, "latency: ..."
  std::vector<std::string> gaps;     // known gaps the kernel showed: "WHAT (FUNCTION)"
  std::vector<ThirdPartyResult> subtests;  // results of steps with `format` (nested in reports)
  double seconds = 0;
  std::string boot;  // "restored" or "cold" once a VM ran (runner/vm), "" when none did
};

struct Trace {
  std::vector<json> records;   // guest JSONL
  std::vector<json> faults;    // fault log lines, all disks (each with "disk")
  std::vector<faults::TargetMap> maps;  // one image map per disk (may be empty)
  HostClock host;              // the runner's spawn and phase times (runner.log): fault times to the guest's
  std::string kernel_release;  // from the guest's hello
  bool completed = false;      // guest sent "done"
  bool timed_out = false;
};

// Reads a JSONL file; malformed lines are skipped.
std::vector<json> read_jsonl(const std::string& path);

// A finished run's fault log lines from its artifact directory (faults-d0.jsonl, faults-d1.jsonl, …
// up to the first missing), each tagged with its disk as the runner tags them in Trace::faults.
std::vector<json> read_fault_logs(const std::string& dir);

// errno names accepted in scenarios: "EIO", "EFSCORRUPTED", numbers too.
int errno_from_name(const json& v);

// Count specs: 3, "3", ">=1", "<=2", "1-3", "any".
bool count_matches(const json& spec, long long n);

// An expectation's value as a reason quotes it: a string as written ("any", ">=1"), else its JSON.
std::string spec_text(const json& v);

Outcome judge(const Scenario& s, const Trace& t);

// Whether a verdict fails a run: fail, timeout, error, interrupted, fixed (not pass, skip, xfail).
bool verdict_fails(Verdict v);

// Flood accounting's numbers: the filesystem's error counter before and after, the FS_ERROR
// events and the sum of their error_count, FAN_Q_OVERFLOW events, "lost filesystem error
// report" kernel log lines.
struct AccountingNumbers {
  long long before = 0, after = 0, counted = 0;
  long long reported = 0, events = 0, overflows = 0, lost = 0;
};
// "the filesystem counted N errors (B -> A), fanotify reported R in E event(s), ..."
std::string accounting_summary(const AccountingNumbers& n);
// Why the numbers fail accounting ("N error(s) vanished silently: ..."), nullopt when they hold:
// reported == counted, or fewer reported with a visible loss. require_errors: a counter that did
// not move fails ("nothing was checked"); without it 0 counted and 0 reported hold.
std::optional<std::string> accounting_failure(const AccountingNumbers& n, bool require_errors = true);

}  // namespace fsfault::vm
