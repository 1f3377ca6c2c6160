// What happened over time in a repro run, for report.html: faults injected, kernel error log
// lines, fanotify events, overflows and lost reports, all on the guest's clock.
#pragma once

#include "runner/repro/repro.h"

#include <string>
#include <vector>

namespace fsfault::vm {

enum class MarkKind { fault, kmsg, event, overflow, lost };
// "fault", "kmsg", "event", "overflow", "lost": the mark's CSS class is "mark mark-<name>".
const char* mark_kind_name(MarkKind k);

struct Mark {
  MarkKind kind = MarkKind::fault;
  long long t_ms = 0;  // guest clock (ms since the harness started)
  std::string text;    // from the guest or the fault log: untrusted, escape before rendering
};

struct FloodTimeline {
  std::vector<Mark> marks;  // in file order per kind
  // How faults and kernel log lines were put on the guest's clock (shown under the picture).
  std::string fault_clock, kmsg_clock;
};

// The timeline of an artifact directory (records.jsonl, faults-d*.jsonl) with the clock offsets
// count_flood found (FloodCounts::server_spawn_ms, host_to_guest_ms).
//   faults: server spawn + fault t_ms on the host's clock, moved to the guest's at the first
//           phase; without runner.log, the first fault of each phase at that phase's record.
//   kernel log: kmsg usec (the kernel's clock) moved to the guest's at the implicit mount (its
//           step record ↔ the filesystem's "mounted" line); without one, the time the guest read it.
//   events: when the harness read them; lost: the "lost filesystem error report" line's time.
// Kernel log lines are those at KERN_ERR or more urgent (level <= 3).
FloodTimeline flood_timeline(const std::string& artifact_dir, const FloodCounts& c);

}  // namespace fsfault::vm
