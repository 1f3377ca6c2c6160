#include "runner/judge/fault_latency.h"

#include "runner/judge/record_fields.h"

namespace fsfault::vm {

namespace {

// The latest arrival of an FS_ERROR event of `disk` (any, when nullopt) before `arrived`.
std::optional<long long> previous_arrival(const Trace& t, std::optional<long long> disk, long long arrived) {
  std::optional<long long> prev;
  for (const auto& r : t.records) {
    if (!is_fs_error_event(r)) continue;
    auto a = int_field(r, "arrived_ms");
    if (!a || *a >= arrived || (disk && int_field(r, "disk") != disk)) continue;
    if (!prev || *a > *prev) prev = a;
  }
  return prev;
}

std::string describe(const json& f, long long disk) {
  auto str = [&](const char* k) { return f.contains(k) && f[k].is_string() ? f[k].get<std::string>() : "?"; };
  auto num = [&](const char* k) { return f.contains(k) ? f[k].dump() : std::string("?"); };
  return "rule " + str("rule") + ", " + str("op") + " sector " + num("sector") + "+" + num("sectors") + ", disk " +
         std::to_string(disk);
}

}  // namespace

FaultLatency fault_latency(const json& event, const Trace& t, std::optional<long long> offset) {
  const std::string none = "no figure from the fault: ";
  auto arrived = int_field(event, "arrived_ms");
  if (!arrived) return {std::nullopt, none + "no arrival time (arrived_ms)"};
  std::optional<long long> disk = int_field(event, "disk");
  std::string where = disk ? "disk " + std::to_string(*disk) : std::string("any disk");
  const auto prev = previous_arrival(t, disk, *arrived);
  bool any = false;
  for (const auto& f : t.faults) {
    long long d = int_field(f, "disk").value_or(0);
    if (disk && d != *disk) continue;
    any = true;
    if (!offset || !t.host.server_spawn_ms.count(static_cast<int>(d)))
      return {std::nullopt, none + "fault times are not on the guest's clock (no server spawn or phase time)"};
    auto at = fault_guest_ms(f, static_cast<int>(d), t.host, offset);
    if (!at || (prev && *at <= *prev) || *at > *arrived) continue;
    return {*arrived - *at, std::to_string(*arrived - *at) + " ms after the first fault since " +
                                (prev ? "the previous event" : "the start") + " (" + describe(f, d) + ")"};
  }
  if (!any) return {std::nullopt, none + "the fault log of " + where + " is missing or empty"};
  return {std::nullopt, none + "no fault on " + where + " fired between " +
                            (prev ? "the previous event (" + std::to_string(*prev) + " ms)" : std::string("the start")) +
                            " and its arrival (" + std::to_string(*arrived) + " ms)"};
}

std::optional<std::string> fault_latency_failure(const json& ex, const FaultLatency& l) {
  if (!ex.contains("max_fault_latency_ms")) return std::nullopt;
  const std::string bound = std::to_string(ex["max_fault_latency_ms"].get<long long>());
  if (!l.ms) return l.text + ", so max_fault_latency_ms " + bound + " cannot be checked";
  if (*l.ms > ex["max_fault_latency_ms"].get<long long>())
    return "event arrived " + l.text + ", bound " + bound + " ms";
  return std::nullopt;
}

}  // namespace fsfault::vm
