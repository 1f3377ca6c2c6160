#include "runner/repro/flood_timeline.h"

#include "base/files.h"
#include "runner/judge/fault_clock.h"
#include "runner/judge/judge.h"
#include "runner/judge/lost_reports.h"
#include "runner/judge/record_fields.h"

#include <map>

namespace fsfault::vm {

const char* mark_kind_name(MarkKind k) {
  switch (k) {
    case MarkKind::fault: return "fault";
    case MarkKind::kmsg: return "kmsg";
    case MarkKind::event: return "event";
    case MarkKind::overflow: return "overflow";
    case MarkKind::lost: return "lost";
  }
  return "?";
}

namespace {

std::string error_of(const json& event) {
  if (event.contains("error") && event["error"].is_number_integer()) return errno_text(event["error"].get<long long>());
  return "none";
}

// Either of fserror_report()'s "lost ... error report" lines (runner/judge/lost_reports.h).
bool is_lost_line(const std::string& text) { return parse_lost_report(text).has_value(); }

// kernel usec -> guest ms: the implicit mount step's record (written right after mount(2)
// returned) against the filesystem's own "mounted" line (ext4 "mounted filesystem", xfs "Ending
// clean mount"). nullopt without either.
std::optional<long long> kmsg_offset(const std::vector<json>& records) {
  std::optional<long long> mount_t, mount_usec;
  for (auto& r : records) {
    std::string type = r.value("type", std::string());
    if (type == "step" && r.value("do", std::string()) == "mount" && r.value("ok", false) && !mount_t)
      mount_t = r.value("t_ms", 0LL);
    std::string text = r.value("text", std::string());
    if (type == "kmsg" && !mount_usec && r.contains("usec") && r["usec"].is_number_integer() &&
        (text.find("mounted filesystem") != std::string::npos || text.find("Ending clean mount") != std::string::npos))
      mount_usec = r["usec"].get<long long>();
  }
  if (!mount_t || !mount_usec) return std::nullopt;
  return *mount_t - *mount_usec / 1000;
}

void add_record_marks(const std::vector<json>& records, FloodTimeline& tl) {
  auto offset = kmsg_offset(records);
  tl.kmsg_clock = offset ? "kernel log times moved to the guest's clock at the mount (within tens of ms)"
                         : "kernel log lines at the time the guest read them (no mount line to align at)";
  for (auto& r : records) {
    if (!r.is_object()) continue;
    std::string type = r.value("type", std::string());
    long long t = r.value("t_ms", 0LL);
    if (type == "event") {
      for (auto& m : r.value("mask_names", json::array())) {
        if (m == "FS_ERROR")
          tl.marks.push_back({MarkKind::event, t, "FS_ERROR error " + error_of(r) + ", error_count " +
                                                      r.value("error_count", json(0)).dump()});
        if (m == "Q_OVERFLOW") tl.marks.push_back({MarkKind::overflow, t, "Q_OVERFLOW"});
      }
    } else if (type == "kmsg") {
      std::string text = r.value("text", std::string());
      if (offset && r.contains("usec") && r["usec"].is_number_integer()) t = *offset + r["usec"].get<long long>() / 1000;
      if (is_lost_line(text)) tl.marks.push_back({MarkKind::lost, t, text});
      else if (r.value("level", 7) <= 3) tl.marks.push_back({MarkKind::kmsg, t, text});
    }
  }
}

// The guest's phase records: name -> t_ms.
std::map<std::string, long long> guest_phases(const std::vector<json>& records) {
  std::map<std::string, long long> p;
  for (auto& r : records)
    if (r.value("type", std::string()) == "phase") p.emplace(r.value("name", std::string()), r.value("t_ms", 0LL));
  return p;
}

void add_fault_marks(const std::string& dir, const std::vector<json>& records, const FloodCounts& c,
                     FloodTimeline& tl) {
  bool aligned = c.host_to_guest_ms.has_value();
  tl.fault_clock = aligned ? "faults moved to the guest's clock at the first phase (runner.log)"
                           : "faults placed from the first fault of each phase at that phase (no runner.log)";
  auto phases = guest_phases(records);
  HostClock host;
  host.server_spawn_ms = c.server_spawn_ms;
  std::map<std::string, long long> first_in_phase;  // fault t_ms of the phase's first fault
  for (const auto& f : read_fault_logs(dir)) {
    auto tms = int_field(f, "t_ms");
    if (!tms) continue;
    const int d = f["disk"].get<int>();
    long long t = *tms;
    std::string phase = f.value("phase", std::string());
    long long g = t;
    if (auto at = fault_guest_ms(f, d, host, c.host_to_guest_ms)) {
      g = *at;
    } else if (phases.count(phase)) {
      first_in_phase.emplace(phase, t);
      g = phases[phase] + (t - first_in_phase[phase]);
    }
    std::string what = f.value("action", std::string("?")) + " " + f.value("op", std::string("?")) + " sector " +
                       f.value("sector", json(0)).dump() + "+" + f.value("sectors", json(0)).dump() + " (rule " +
                       f.value("rule", std::string("?")) + ", disk " + std::to_string(d) + ")";
    tl.marks.push_back({MarkKind::fault, g, what});
  }
}

}  // namespace

FloodTimeline flood_timeline(const std::string& dir, const FloodCounts& c) {
  FloodTimeline tl;
  auto records = read_jsonl(dir + "/records.jsonl");
  add_fault_marks(dir, records, c, tl);
  add_record_marks(records, tl);
  return tl;
}

}  // namespace fsfault::vm
