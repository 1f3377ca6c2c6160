#include "runner/repro/repro.h"

#include "runner/scenario/disk_source.h"

#include "faults/fault_log.h"
#include "runner/judge/fault_clock.h"
#include "runner/judge/judge.h"
#include "runner/judge/lost_reports.h"
#include "base/files.h"
#include "base/errno_names.h"
#include "base/sha256.h"

#include <toml++/toml.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <sstream>

namespace fsfault::vm {

namespace fs = std::filesystem;

namespace {

// Plain file operations only, so that any ext4 or xfs image with /data works. Every step may
// fail (that is the point); without [[expect]] tables the verdict only says the guest finished.
const char* const kStandardIo = R"([
  { do = "repeat", times = 5, steps = [
    { do = "stat", path = "/data/f1" },
    { do = "read", path = "/data/f1" },
    { do = "create", path = "/data", count = 20 },
    { do = "readdir", path = "/data" },
    { do = "write", path = "/data/w", bytes = 65536, fsync = true },
    { do = "drop-caches" } ] },
])";

// ext4's error counter of disk 0 (/dev/vda): es->s_error_count, shown by ext4_attr_show()
// (fs/ext4/sysfs.c, attr_pointer_u32 "errors_count"). No such file on xfs: the step records
// ENOENT and the report says n/a.
json read_errors_count(const char* label) {
  return json{{"do", "read-file"}, {"path", "/sys/fs/ext4/vda/errors_count"}, {"label", label}};
}

// errors=continue folds counted errors into es->s_error_count from s_error_work
// (fs/ext4/super.c flush_stashed_error_work -> ext4_update_super), not synchronously: give it a
// moment before the second read, as ext4/flood-accounting does.
json counter_settle() { return json{{"do", "sleep"}, {"ms", 500}}; }

std::string toml_error(const toml::parse_error& e, const std::string& file) {
  std::ostringstream os;
  os << file << ":" << e.source().begin.line << ":" << e.source().begin.column << ": " << e.description();
  return os.str();
}

// Guest-clock times from records.jsonl (ms since the harness started).
struct GuestTimes {
  std::optional<long long> first_event, phase, phase_rtt;
  std::string phase_name;  // the first phase
};

// Host-clock times from runner.log (ms since the scenario started, scenario_run.cpp).
struct HostTimes {
  std::map<int, long long> spawned;  // disk -> "server for disk N started at T ms"
  std::optional<long long> servers_up, phase;
};

template <typename T>
std::optional<T> number_field(const json& r, const char* key) {
  if (!r.contains(key) || !r[key].is_number_integer()) return std::nullopt;
  return r[key].get<T>();
}

void count_event(const json& r, FloodCounts& c) {
  for (auto& m : r.value("mask_names", json::array())) {
    if (m != "FS_ERROR" && m != "Q_OVERFLOW") continue;
    FloodEvent e;
    e.t_ms = r.value("t_ms", 0LL);
    e.kind = m.get<std::string>();
    if (m == "FS_ERROR") {
      ++c.fs_error_events;
      e.error_count = r.value("error_count", 0LL);
      c.error_count_sum += e.error_count;
      e.error = number_field<long long>(r, "error");
      e.ino = number_field<unsigned long long>(r, "ino");
      e.handle_type = number_field<int>(r, "handle_type");
      e.disk = number_field<int>(r, "disk");
    } else {
      ++c.overflow_events;
    }
    c.events.push_back(e);
  }
}

// Paths for the events' inode numbers: the map's "inode:PATH" targets that carry an ino.
void name_event_inodes(const json& map, FloodCounts& c) {
  if (!map.contains("targets") || !map["targets"].is_object()) return;
  std::map<unsigned long long, std::string> paths;
  for (auto& [name, t] : map["targets"].items())
    if (name.starts_with("inode:") && t.is_object())
      if (auto ino = number_field<unsigned long long>(t, "ino")) paths[*ino] = name.substr(6);
  for (auto& e : c.events)
    if (e.ino && paths.count(*e.ino)) e.path = paths[*e.ino];
}

// The "errors-before"/"errors-after" reads of ext4's errors_count.
void note_counter(const json& r, FloodCounts& c) {
  std::string label = r.value("label", std::string());
  if (label != "errors-before" && label != "errors-after") return;
  try {
    (label == "errors-before" ? c.errors_before : c.errors_after) = std::stoll(r.value("value", std::string()));
  } catch (const std::exception&) {  // an unreadable value stays unset: the report says so
  }
}

// Events, lost reports and counters into c; the guest's times for the clock alignment.
GuestTimes count_records(const std::string& dir, FloodCounts& c) {
  GuestTimes g;
  for (auto& r : read_jsonl(dir + "/records.jsonl")) {
    if (!r.is_object()) continue;
    std::string type = r.value("type", std::string());
    if (type == "event") {
      count_event(r, c);
    } else if (type == "kmsg" && parse_lost_report(r.value("text", std::string()))) {
      // fs/fserror.c (7.0+) logs one of two "lost ... error report" lines per report it drops
      // (runner/judge/lost_reports.h).
      ++c.lost_reports;
    } else if (type == "first-event") {
      long long t = r.value("t_ms", 0LL);
      if (!g.first_event || t < *g.first_event) g.first_event = t;
    } else if (type == "phase" && !g.phase) {
      g.phase = r.value("t_ms", 0LL);
      g.phase_name = r.value("name", std::string());
    } else if (type == "step" && r.value("do", std::string()) == "phase" && !g.phase_rtt) {
      g.phase_rtt = r.value("ms", 0LL);
    } else if (type == "step" && r.value("ok", false) && r.contains("label")) {
      note_counter(r, c);
    }
  }
  return g;
}

// Server spawns, "servers up" and the first "phase NAME" line of runner.log (missing: none),
// parsed as the judge parses it (runner/judge/fault_clock.h).
HostTimes read_runner_log(const std::string& dir, const std::string& phase_name) {
  HostClock clock = parse_runner_log(base::try_read_file(dir + "/runner.log").value_or(""));
  HostTimes h;
  h.spawned = clock.server_spawn_ms;
  h.servers_up = clock.servers_up_ms;
  if (auto p = clock.phase_ms.find(phase_name); p != clock.phase_ms.end()) h.phase = p->second;
  return h;
}

// Fault log lines into c (count and digest); the first fault on the host's clock.
std::optional<long long> count_fault_logs(const std::string& dir, HostTimes& host, FloodCounts& c) {
  base::Sha256 digest;  // of the fault logs without times: same schedule, seed and workload -> same digest
  std::optional<long long> first_fault;
  for (int d = 0; base::exists(dir + "/faults-d" + std::to_string(d) + ".jsonl"); ++d) {
    std::istringstream in(base::read_file(dir + "/faults-d" + std::to_string(d) + ".jsonl"));
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      ++c.faults_fired;
      json j = json::parse(line, nullptr, false);
      if (j.is_object() && host.spawned.count(d) && j.contains("t_ms") && j["t_ms"].is_number()) {
        long long t = host.spawned[d] + j["t_ms"].get<long long>();
        if (!first_fault || t < *first_fault) first_fault = t;
      }
      // Without t_ms and req: req numbers every request the server saw, including the kernel's
      // background writeback before the workload, whose count varies from boot to boot.
      j = json::parse(faults::FaultLog::without_time(line), nullptr, false);
      if (j.is_object()) j.erase("req");
      digest.update(std::to_string(d) + ":" + j.dump() + "\n");
    }
  }
  c.fault_log_digest = digest.hex_finish();
  return first_fault;
}

}  // namespace

bool is_shell_workload(const std::string& path) {
  if (fs::path(path).extension() == ".sh") return true;
  return base::read_file(path).starts_with("#!");
}

namespace {

// The [[disk]] table of the repro scenario: the --image and --map paths resolved against the
// current directory now (errors name the option), so the scenario's own parse sees absolute ones.
std::string repro_disk_table(const ReproDisk& disk, const std::optional<std::string>& workload_options) {
  DiskSpec ds;
  try {
    resolve_disk_image(disk.image, ".", ds);
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string("--image: ") + e.what());
  }
  try {
    if (!disk.map.empty()) resolve_disk_map(disk.map, ".", ds);
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string("--map: ") + e.what());
  }
  std::string t = "\n\n[[disk]]\nimage = " + toml_value(ds.path.empty() ? disk.image : ds.path) + "\n";
  if (!ds.map.empty()) t += "map = " + toml_value(ds.map) + "\n";
  if (auto o = disk.mount_options ? disk.mount_options : workload_options)
    t += "mount = { options = " + toml_value(*o) + " }\n";
  return t;
}

// mount = { options = "..." } of a TOML workload file.
std::optional<std::string> workload_mount_options(const toml::table& t, const std::string& workload) {
  const toml::node* m = t.get("mount");
  if (!m) return std::nullopt;
  const toml::node* o = m->is_table() ? m->as_table()->get("options") : nullptr;
  if (!o || !o->is_string() || m->as_table()->size() != 1) {
    std::ostringstream os;
    os << workload << ":" << m->source().begin.line << ":" << m->source().begin.column
       << ": mount must be { options = \"...\" } (the disk's mount options)";
    throw std::runtime_error(os.str());
  }
  return o->as_string()->get();
}

}  // namespace

namespace {

// "PATH:LINE:..." of the document repro builds, as PATH's own line: the schedule follows
// prefix_lines generated lines (the name and the steps).
std::string schedule_line(const std::string& message, const std::string& path, long prefix_lines) {
  if (message.rfind(path + ":", 0) != 0) return message;
  size_t at = path.size() + 1, end = message.find_first_not_of("0123456789", at);
  if (end == at || end == std::string::npos) return message;
  long line = std::stol(message.substr(at, end - at));
  if (line <= prefix_lines) return message;
  return path + ":" + std::to_string(line - prefix_lines) + message.substr(end);
}

}  // namespace

Scenario repro_scenario(const std::string& schedule_text, const std::string& schedule_path, const ReproDisk& disk,
                        std::optional<std::uint64_t> seed, const std::string& workload) {
  // The schedule alone first: its errors then carry its own line numbers.
  try {
    (void)toml::parse(schedule_text, schedule_path);
  } catch (const toml::parse_error& e) {
    throw std::runtime_error(toml_error(e, schedule_path));
  }
  std::string body = kStandardIo, file_table;
  std::optional<std::string> options;
  bool framed = true;
  if (!workload.empty() && is_shell_workload(workload)) {
    if (fs::file_size(workload) > kMaxShippedBytes)
      throw std::runtime_error(workload + ": a script workload is limited to " + std::to_string(kMaxShippedBytes) +
                               " bytes");
    // $1 and the working directory are disk 0's mountpoint (guest_plan(): /mnt/d0).
    body = std::string("[ { do = \"exec\", label = \"workload\", cwd = \"/mnt/d0\", argv = [\"") + kReproScriptDst +
           "\", \"/mnt/d0\"] } ]";
    file_table = "\n[[file]]\nsrc = " + toml_value(fs::absolute(workload).string()) + "\ndst = \"" + kReproScriptDst +
                 "\"\nmode = 0o755\n";
  } else if (!workload.empty()) {
    toml::table t;
    try {
      t = toml::parse_file(workload);
    } catch (const toml::parse_error& e) {
      throw std::runtime_error(toml_error(e, workload));
    }
    auto* st = t["step"].as_array();
    if (!st) throw std::runtime_error(workload + ": no step = [...] array (nor a shell script: .sh or #!)");
    std::ostringstream os;
    os << *st;
    body = os.str();
    options = workload_mount_options(t, workload);
    framed = false;
  }
  // A schedule is a scenario without steps or disks: its top-level keys (seed) and [[rule]]
  // tables follow the name and the steps unchanged; the disk and the file come last.
  std::string doc = "name = \"repro/" + fs::path(schedule_path).stem().string() + "\"\nstep = " + body + "\n";
  const long prefix_lines = std::count(doc.begin(), doc.end(), '\n');
  doc += schedule_text + repro_disk_table(disk, options) + file_table;
  Scenario s;
  try {
    s = parse_scenario_text(doc, schedule_path);
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(schedule_line(e.what(), schedule_path, prefix_lines));
  }
  s.file = fs::absolute(schedule_path).string();
  if (seed) s.seed = *seed;
  json steps = json::array();
  if (framed) {
    steps.push_back(json{{"do", "watch"}});
    steps.push_back(read_errors_count("errors-before"));
    steps.push_back(json{{"do", "drop-caches"}});
    steps.push_back(json{{"do", "phase"}, {"name", "armed"}});
  } else {
    steps.push_back(read_errors_count("errors-before"));
  }
  for (auto& st : s.steps) steps.push_back(st);
  if (framed) steps.push_back(json{{"do", "read-events"}, {"timeout_ms", 3000}, {"settle_ms", 500}, {"min", 0}});
  steps.push_back(counter_settle());
  steps.push_back(read_errors_count("errors-after"));
  // Events queued while the counter settled.
  if (framed) steps.push_back(json{{"do", "read-events"}, {"timeout_ms", 500}, {"settle_ms", 200}, {"min", 0}});
  s.steps = steps;
  return s;
}

FloodCounts count_flood(const std::string& dir) {
  FloodCounts c;
  GuestTimes guest = count_records(dir, c);
  if (auto map = base::try_read_file(dir + "/map-d0.json")) {
    json j = json::parse(*map, nullptr, false);
    if (j.is_object() && j.contains("fs") && j["fs"].is_string()) c.fs = j["fs"];
    if (j.is_object()) name_event_inodes(j, c);
  }
  if (c.fs != "ext4") c.errors_before = c.errors_after = std::nullopt;
  HostTimes host = read_runner_log(dir, guest.phase_name);
  std::optional<long long> first_fault_host = count_fault_logs(dir, host, c);
  c.server_spawn_ms = host.spawned;
  if (guest.phase && host.phase) c.host_to_guest_ms = *guest.phase - *host.phase;
  if (first_fault_host && guest.first_event && guest.phase && host.phase) {
    long long event_host = *host.phase + (*guest.first_event - *guest.phase);
    c.first_fault_to_event_ms = event_host - *first_fault_host;
    long long startup =
        host.servers_up && host.spawned.count(0) ? std::max(0LL, *host.servers_up - host.spawned.begin()->second) : 0;
    c.first_fault_to_event_slack_ms = startup + guest.phase_rtt.value_or(0);
  }
  return c;
}

std::string errno_text(long long error) {
  if (error >= 0) return base::errno_name(static_cast<int>(error)) + " (" + std::to_string(error) + ")";
  // 6.1's __ext4_std_error() hands fsnotify_sb_error() its errno unchanged, negative
  // (docs/kernel-facts.md, "6.x __ext4_std_error() passes a negative errno").
  return "-" + base::errno_name(static_cast<int>(-error)) + " (" + std::to_string(error) +
         ") [negative errno: kernel reports " + std::to_string(error) + "]";
}

void expect_accounting(Scenario& s) {
  s.expects.push_back(json{{"accounting", "errors"}, {"before", "errors-before"}, {"after", "errors-after"},
                           {"disk", 0}, {"fs", "ext4"}, {"require_errors", false}});
}

std::optional<std::string> flood_accounting_failure(const FloodCounts& c) {
  if (!c.errors_before || !c.errors_after) {
    if (c.fs == "ext4") return std::string("ext4's errors_count was not read before and after the workload");
    return std::nullopt;
  }
  AccountingNumbers n;
  n.before = *c.errors_before;
  n.after = *c.errors_after;
  n.counted = n.after - n.before;
  n.reported = c.error_count_sum;
  n.events = c.fs_error_events;
  n.overflows = c.overflow_events;
  n.lost = c.lost_reports;
  return accounting_failure(n, false);
}

namespace {

// "event 1: FS_ERROR error EIO (5), error_count 20, inode 19 (/data/many), disk 0, read at 1597 ms"
std::string event_line(std::size_t i, const FloodEvent& e) {
  std::string s = "event " + std::to_string(i + 1) + ": " + e.kind;
  if (e.kind == "FS_ERROR") {
    s += " error " + (e.error ? errno_text(*e.error) : std::string("none")) + ", error_count " +
         std::to_string(e.error_count);
    if (e.handle_type == 0xff) s += ", no inode (FILEID_INVALID)";
    else if (e.ino) s += ", inode " + std::to_string(*e.ino) + (e.path.empty() ? "" : " (" + e.path + ")");
    if (e.disk) s += ", disk " + std::to_string(*e.disk);
  }
  return s + ", read at " + std::to_string(e.t_ms) + " ms (guest clock)\n";
}

std::string accounting_line(const FloodCounts& c, bool accounting) {
  if (!accounting) return "accounting:                 not judged (--no-accounting)\n";
  if (c.fs != "ext4") return "accounting:                 n/a (" + (c.fs.empty() ? "unknown fs" : c.fs) + " has no error counter)\n";
  if (auto why = flood_accounting_failure(c)) return "accounting:                 FAIL " + *why + "\n";
  return "accounting:                 PASS (every error ext4 counted is in an event's error_count, "
         "an overflow or a lost-report line)\n";
}

}  // namespace

std::string flood_report(const FloodCounts& c, bool accounting) {
  std::ostringstream os;
  os << "faults injected:            " << c.faults_fired << " (fault log lines)\n";
  os << "errors the kernel counted:  ";
  if (c.errors_before && c.errors_after)
    os << (*c.errors_after - *c.errors_before) << " (ext4 errors_count " << *c.errors_before << " -> "
       << *c.errors_after << ")\n";
  else
    os << "n/a (" << (c.fs == "ext4" ? "errors_count unreadable" : (c.fs.empty() ? "unknown fs" : c.fs) + " has no error counter") << ")\n";
  os << "FS_ERROR events received:   " << c.fs_error_events << "\n";
  os << "sum of error_count:         " << c.error_count_sum << "\n";
  os << "overflows (Q_OVERFLOW):     " << c.overflow_events << "\n";
  os << "lost reports (kernel log):  " << c.lost_reports
     << " (\"lost file I/O / filesystem error report\" lines, 7.0+; rate-limited, so a lower bound)\n";
  os << "first fault -> first event: ";
  if (c.first_fault_to_event_ms)
    os << *c.first_fault_to_event_ms << " ms (host clock; the true value may be up to "
       << c.first_fault_to_event_slack_ms << " ms less)\n";
  else
    os << "n/a (no fault, no event, or no phase to align the clocks)\n";
  os << "fault log digest:           " << c.fault_log_digest << " (without t_ms and req)\n";
  for (std::size_t i = 0; i < c.events.size(); ++i) os << event_line(i, c.events[i]);
  os << accounting_line(c, accounting);
  return os.str();
}

}  // namespace fsfault::vm
