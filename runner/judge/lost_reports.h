// The 7.x "lost … error report" kernel log lines, by kind and type. fserror_report() (fs/fserror.c
// in 7.2.13, lines 174-183) drops a report it cannot allocate or whose inode it cannot grab and
// prints one of
//   "%s: lost file I/O error report for ino %llu type %u pos 0x%llx len 0x%llx error %d"
//   "%s: lost filesystem error report for type %u error %d"      (no inode)
// with pr_err_ratelimited (10 lines per 5 s: include/linux/ratelimit_types.h), so the lines are a
// lower bound of what was lost. Kernel log text is untrusted: the parser never throws
// (fuzz/lost_reports_fuzzer.cpp).
#pragma once

#include "runner/judge/judge.h"
#include "runner/scenario/scenario.h"  // json

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fsfault::vm {

enum class LostKind { file_io, filesystem };

struct LostReport {
  LostKind kind = LostKind::filesystem;
  std::string device;                    // sb->s_id, "" when the line has no "DEV: " prefix
  std::optional<unsigned long long> ino;  // file I/O only
  unsigned type = 0;                     // enum fserror_type (include/linux/fserror.h)
  long long error = 0;                   // negative errno as the kernel printed it
};

// The report a kernel log line names, nullopt when it is not one of the two formats.
std::optional<LostReport> parse_lost_report(std::string_view text);

// "buffered read", "buffered write", "direct I/O read", "direct I/O write", "data lost", "metadata"
// (enum fserror_type's order in include/linux/fserror.h, 7.2.13); "unknown" past it.
const char* fserror_type_name(unsigned type);

struct LostTally {
  std::map<std::pair<LostKind, unsigned>, long long> by_kind_type;
  long long total = 0;
};

// The lost-report lines among the guest's kmsg records.
LostTally tally_lost_reports(const std::vector<json>& records);

// "file I/O type 1 (buffered write) 7, filesystem type 5 (metadata) 1 (a lower bound: ...)", or
// "" for no line.
std::string lost_tally_text(const LostTally& t);

// "lost reports (kernel log): <tally>" in o's notes when the trace has lost-report lines, with an
// accounting expectation or without (an accounting note carries only their number).
void note_lost_reports(const Trace& t, Outcome& o);

}  // namespace fsfault::vm
