#include "runner/explore/workload.h"

#include <algorithm>
#include <stdexcept>

namespace fsfault::vm::explore {

namespace {

// Bounded so that a trial stays a few seconds under TCG whatever the image holds.
constexpr std::size_t kMaxPaths = 16;

// Paths of the map's "PREFIX:/path" targets (e.g. "inode:", "dir:"), at most kMaxPaths.
std::vector<std::string> paths_with(const faults::TargetMap& map, const std::string& prefix) {
  std::vector<std::string> out;
  for (auto& [name, t] : map.targets())
    if (name.starts_with(prefix + "/") && out.size() < kMaxPaths) out.push_back(name.substr(prefix.size()));
  return out;
}

// Regular files: inode:PATH targets that are not also dir:PATH.
std::vector<std::string> files(const faults::TargetMap& map) {
  std::vector<std::string> out;
  for (auto& p : paths_with(map, "inode:"))
    if (!map.find("dir:" + p)) out.push_back(p);
  return out;
}

json step(const char* what, const std::string& path) { return json{{"do", what}, {"path", path}}; }

json walk(const faults::TargetMap& map) {
  json s = json::array({step("readdir", "/")});
  for (auto& p : paths_with(map, "dir:")) s.push_back(step("readdir", p));
  for (auto& p : paths_with(map, "inode:")) s.push_back(step("stat", p));
  return s;
}

json reads(const faults::TargetMap& map) {
  json s = json::array();
  for (auto& p : files(map)) s.push_back(json{{"do", "read"}, {"path", p}, {"bytes", 1 << 20}});
  return s;
}

json rm_sync(const faults::TargetMap& map) {
  json s = json::array();
  for (auto& p : files(map)) s.push_back(step("unlink", p));
  s.push_back(json{{"do", "exec"}, {"sh", "sync"}});
  return s;
}

// The faults may make the second mount fail (a corrupt AGI, an unreadable superblock): that is an
// outcome the trial judges by its reports, not a trial that could not run.
json remount(const faults::TargetMap& map) {
  json refused = json::array({"OK", "EFSCORRUPTED", "EFSBADCRC", "EIO"});
  return json::array({json{{"do", "umount"}, {"disk", 0}},
                      json{{"do", "mount"}, {"disk", 0}, {"fs", map.fs}, {"errno", refused}}, step("readdir", "/")});
}

}  // namespace

const std::vector<std::string>& workload_names() {
  static const std::vector<std::string> n = {"walk", "read", "create", "write-fsync", "rm-sync", "remount"};
  return n;
}

json workload_steps(const std::string& name, const faults::TargetMap& map) {
  if (name == "walk") return walk(map);
  if (name == "read") return reads(map);
  if (name == "create")
    return json::array({json{{"do", "create"}, {"path", "/"}, {"prefix", "explore-c"}, {"count", 20}},
                        json{{"do", "exec"}, {"sh", "sync"}}});
  if (name == "write-fsync")
    return json::array({json{{"do", "write"}, {"path", "/explore-w"}, {"bytes", 262144}, {"fsync", true}}});
  if (name == "rm-sync") return rm_sync(map);
  if (name == "remount") return remount(map);
  std::string known;
  for (auto& n : workload_names()) known += (known.empty() ? "" : ", ") + n;
  throw std::runtime_error("unknown workload \"" + name + "\" (built-in: " + known + ")");
}

}  // namespace fsfault::vm::explore
