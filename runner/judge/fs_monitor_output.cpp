#include "runner/judge/fs_monitor_output.h"

#include <charconv>
#include <sstream>

namespace fsfault::vm {

namespace {

// The decimal number at the start of s (after blanks), or nothing; "-5" is read (error is %d).
std::optional<long long> leading_number(const std::string& s) {
  size_t i = s.find_first_not_of(" \t");
  if (i == std::string::npos) return std::nullopt;
  long long v = 0;
  auto [p, ec] = std::from_chars(s.data() + i, s.data() + s.size(), v);
  if (ec != std::errc() || p == s.data() + i) return std::nullopt;
  return v;
}

// The text after `key` when the tab-stripped line starts with it.
std::optional<std::string> after(const std::string& line, const std::string& key) {
  if (line.rfind(key, 0) != 0) return std::nullopt;
  return line.substr(key.size());
}

// "inode=%u gen=%u", "Type %d (Superblock error)", "Type %d (Unknown)" (print_fh()).
void read_decoded(const std::string& rest, FsMonitorRecord& r) {
  if (auto ino = after(rest, "inode=")) {
    r.ino = leading_number(*ino);
    size_t g = ino->find(" gen=");
    if (g != std::string::npos) r.gen = leading_number(ino->substr(g + 5));
  } else if (auto type = after(rest, "Type ")) {
    if (type->find("(Superblock error)") != std::string::npos) r.superblock = true;
    else r.unknown_type = leading_number(*type).value_or(-1);
  }
}

bool is_problem(const std::string& line) {
  for (const char* p : {"unexpected FAN MARK", "Unexpected fd", "Unknown info type", "Missing path argument"})
    if (line.rfind(p, 0) == 0) return true;
  // errx(1, "fanotify_init") and friends: "fs-monitor: fanotify_mark" on stderr (err.h).
  return line.find(": fanotify_") != std::string::npos || line.find(": read") != std::string::npos;
}

}  // namespace

FsMonitorOutput parse_fs_monitor(const std::string& output) {
  FsMonitorOutput out;
  std::istringstream in(output);
  std::string raw;
  FsMonitorRecord* cur = nullptr;
  for (int n = 1; std::getline(in, raw); ++n) {
    std::string line = raw.substr(std::min(raw.size(), raw.find_first_not_of('\t')));
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.rfind("FAN_FS_ERROR", 0) == 0) {
      out.records.push_back(FsMonitorRecord{});
      cur = &out.records.back();
      cur->line = n;
    } else if (line == "---") {
      cur = nullptr;
    } else if (is_problem(line)) {
      out.problems.push_back("line " + std::to_string(n) + ": " + line.substr(0, 120));
    } else if (!cur) {
      continue;
    } else if (auto e = after(line, "error: ")) {
      cur->error = leading_number(*e);
    } else if (auto c = after(line, "error_count: ")) {
      cur->error_count = leading_number(*c);
    } else if (auto d = after(line, "decoded fh: ")) {
      read_decoded(*d, *cur);
    }
  }
  return out;
}

}  // namespace fsfault::vm
