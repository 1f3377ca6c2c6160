#include "runner/judge/fs_monitor_parity.h"

#include "runner/judge/fs_monitor_output.h"
#include "runner/judge/program_checks.h"
#include "runner/judge/record_fields.h"

namespace fsfault::vm {

namespace {

std::string shown(const std::optional<long long>& v) { return v ? std::to_string(*v) : "none"; }

// The harness's FS_ERROR events in the order it read them.
std::vector<const json*> harness_errors(const Trace& t) {
  std::vector<const json*> evs;
  for (const auto& r : t.records)
    if (is_fs_error_event(r)) evs.push_back(&r);
  return evs;
}

// What differs between fs-monitor's record and the harness's event, "" when nothing.
std::string disagreement(const FsMonitorRecord& m, const json& e) {
  auto differ = [](const char* name, const std::optional<long long>& mon, const std::optional<long long>& h) {
    if (mon == h) return std::string();
    return std::string(name) + ": fs-monitor " + shown(mon) + ", harness " + shown(h);
  };
  std::string d = differ("error", m.error, int_field(e, "error"));
  if (d.empty()) d = differ("error_count", m.error_count, int_field(e, "error_count"));
  auto type = int_field(e, "handle_type"), bytes = int_field(e, "handle_bytes");
  bool h_sb = type == 255 && bytes == 0;
  if (d.empty() && m.superblock != h_sb)
    d = std::string("handle: fs-monitor ") + (m.superblock ? "superblock" : "inode " + shown(m.ino)) +
        ", harness " + (h_sb ? "superblock" : "handle_type " + shown(type) + " ino " + shown(int_field(e, "ino")));
  if (d.empty() && !h_sb && type == 1) d = differ("inode", m.ino, int_field(e, "ino"));
  if (d.empty() && !h_sb && type == 1) d = differ("gen", m.gen, int_field(e, "gen"));
  if (d.empty() && type != 1 && !h_sb)
    d = "handle: the harness's handle_type " + shown(type) + " is not FILEID_INO32_GEN (1); fs-monitor decodes only that";
  return d;
}

}  // namespace

void judge_fs_monitor_parity(const json& rec, const std::string& what, const Trace& t, Outcome& o) {
  std::string out = rec.value("output", std::string());
  std::string where = what + ": fs-monitor: ";
  FsMonitorOutput mon = parse_fs_monitor(out);
  for (const auto& p : mon.problems) o.reasons.push_back(where + p);
  std::vector<const json*> harness = harness_errors(t);
  if (mon.records.empty()) {
    o.reasons.push_back(where + "no FAN_FS_ERROR record in its output " + output_excerpt(out) + " (the harness saw " +
                        std::to_string(harness.size()) + ")");
    return;
  }
  if (mon.records.size() != harness.size()) {
    o.reasons.push_back(where + std::to_string(mon.records.size()) + " FAN_FS_ERROR record(s), the harness " +
                        std::to_string(harness.size()) + " FS_ERROR event(s)");
    return;
  }
  for (size_t i = 0; i < harness.size(); ++i) {
    std::string d = disagreement(mon.records[i], *harness[i]);
    if (d.empty()) continue;
    o.reasons.push_back(where + "record " + std::to_string(i + 1) + " (output line " +
                        std::to_string(mon.records[i].line) + ") disagrees with the harness: " + d);
    return;
  }
  o.notes.push_back(where + std::to_string(harness.size()) + " FAN_FS_ERROR record(s) equal the harness's");
}

}  // namespace fsfault::vm
