#include "guest-tests/runner/repro.h"

#include "faults/fault_log.h"
#include "guest-tests/runner/judge.h"
#include "guest-tests/runner/util.h"

#include <filesystem>
#include <sstream>

namespace fsfault::vm {

namespace fs = std::filesystem;

// Plain file operations only, so that any ext4 or xfs image with /data works. Every step may
// fail (that is the point); without [[expect]] tables the verdict only says the guest finished.
const char* const kReproWorkload =
    "step = [\n"
    "  { do = \"watch\" },\n"
    "  { do = \"drop-caches\" },\n"
    "  { do = \"phase\", name = \"armed\" },\n"
    "  { do = \"repeat\", times = 5, steps = [\n"
    "    { do = \"stat\", path = \"/data/f1\" },\n"
    "    { do = \"read\", path = \"/data/f1\" },\n"
    "    { do = \"create\", path = \"/data\", count = 20 },\n"
    "    { do = \"readdir\", path = \"/data\" },\n"
    "    { do = \"write\", path = \"/data/w\", bytes = 65536, fsync = true },\n"
    "    { do = \"drop-caches\" } ] },\n"
    "  { do = \"read-events\", timeout_ms = 3000, settle_ms = 500, min = 0 },\n"
    "]\n";

Scenario repro_scenario(const std::string& schedule_text, const std::string& schedule_path, const std::string& image,
                        std::optional<std::uint64_t> seed, const std::string& workload_steps) {
  // A schedule is a scenario without steps or disks: its top-level keys (seed) and [[rule]]
  // tables follow the name and the steps unchanged; the disk comes last.
  std::string doc = "name = \"repro/" + fs::path(schedule_path).stem().string() + "\"\n";
  doc += workload_steps.empty() ? kReproWorkload : workload_steps;
  doc += schedule_text + "\n\n[[disk]]\nimage = " + toml_value(image) + "\n";
  Scenario s = parse_scenario_text(doc, schedule_path);
  s.file = fs::absolute(schedule_path).string();
  if (seed) s.seed = *seed;
  return s;
}

FloodCounts count_flood(const std::string& dir) {
  FloodCounts c;
  for (auto& r : read_jsonl(dir + "/records.jsonl")) {
    std::string type = r.value("type", std::string());
    if (type == "event") {
      for (auto& m : r.value("mask_names", json::array())) {
        if (m == "FS_ERROR") {
          ++c.fs_error_events;
          c.error_count_sum += r.value("error_count", 0LL);
        }
        if (m == "Q_OVERFLOW") ++c.overflow_events;
      }
    } else if (type == "kmsg" && r.value("text", std::string()).find("lost filesystem error report") != std::string::npos) {
      // fs/fserror.c (7.0+) logs one line per report it had to drop (design.md §5).
      ++c.lost_reports;
    }
  }
  std::uint64_t h = fnv1a("fsfault-fault-log");
  for (int d = 0; exists(dir + "/faults-d" + std::to_string(d) + ".jsonl"); ++d) {
    std::istringstream in(read_file(dir + "/faults-d" + std::to_string(d) + ".jsonl"));
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      ++c.faults_fired;
      // Without t_ms and req: req numbers every request the server saw, including the kernel's
      // background writeback before the workload, whose count varies from boot to boot.
      json j = json::parse(faults::FaultLog::without_time(line), nullptr, false);
      if (j.is_object()) j.erase("req");
      h = fnv1a(std::to_string(d) + ":" + j.dump() + "\n", h);
    }
  }
  c.fault_log_digest = hex64(h);
  return c;
}

}  // namespace fsfault::vm
