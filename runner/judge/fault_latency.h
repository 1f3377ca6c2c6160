// An FS_ERROR event's latency from the fault that caused it (docs/scenarios.md, "Latency"): the
// first fault that fired on the event's disk after the previous FS_ERROR event of that disk
// arrived (for the first event: the scenario's first fault) to this event's arrival, both on the
// guest's clock (fault times moved there as runner/judge/fault_clock.h does for repro too).
#pragma once

#include "runner/judge/judge.h"

#include <optional>
#include <string>

namespace fsfault::vm {

struct FaultLatency {
  std::optional<long long> ms;  // nullopt: no figure, `text` says why
  // "15003 ms after the first fault since the previous event (rule r1, read sector 8+8, disk 0)",
  // or "no figure from the fault: ..."
  std::string text;
};

// `offset`: host_to_guest_offset(t.records, t.host) (runner/judge/fault_clock.h), taken once per
// trace by the caller rather than once per event.
FaultLatency fault_latency(const json& event, const Trace& t, std::optional<long long> offset);

// max_fault_latency_ms of an event expectation: a reason when `l` is over the bound or has no
// figure (a bound that cannot be checked fails rather than passing unchecked).
std::optional<std::string> fault_latency_failure(const json& ex, const FaultLatency& l);

}  // namespace fsfault::vm
