#include "process/tool_lookup.h"

#include <unistd.h>

#include <cstdlib>
#include <stdexcept>
#include <vector>

namespace fsfault::proc {
namespace {

std::vector<std::string> search_dirs() {
  std::vector<std::string> dirs;
  if (const char* path = std::getenv("PATH")) {
    std::string p = path;
    std::size_t begin = 0;
    while (begin <= p.size()) {
      std::size_t end = p.find(':', begin);
      if (end == std::string::npos) end = p.size();
      if (end > begin) dirs.push_back(p.substr(begin, end - begin));
      begin = end + 1;
    }
  }
  dirs.push_back("/usr/sbin");
  dirs.push_back("/sbin");
  return dirs;
}

}  // namespace

std::optional<std::filesystem::path> lookup_tool(const std::string& name) {
  if (name.empty()) return std::nullopt;
  if (name.find('/') != std::string::npos) {
    if (::access(name.c_str(), X_OK) == 0) return std::filesystem::path(name);
    return std::nullopt;
  }
  for (const auto& d : search_dirs()) {
    std::filesystem::path candidate = std::filesystem::path(d) / name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return std::nullopt;
}

std::filesystem::path find_tool(const std::string& name) {
  if (auto p = lookup_tool(name)) return *p;
  throw std::runtime_error("required tool '" + name +
                           "' not found in PATH, /usr/sbin or /sbin (.ci/install-deps.sh installs every tool fsfault uses)");
}

}  // namespace fsfault::proc
