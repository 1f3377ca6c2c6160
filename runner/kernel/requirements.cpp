#include "runner/kernel/requirements.h"

#include "base/files.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <map>
#include <stdexcept>
#include <string_view>

namespace fsfault::vm {
namespace {

// The filesystems fsfault puts on its disks (images/ builds ext4 and xfs).
constexpr std::array<std::string_view, 2> kDiskFilesystems{"ext4", "xfs"};

// "ext4" -> "CONFIG_EXT4_FS": Kconfig's name for a filesystem (fs/ext4/Kconfig, fs/xfs/Kconfig).
std::string fs_option(std::string_view fs) {
  std::string o = "CONFIG_";
  for (char c : fs) o += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return o + "_FS";
}

bool is_fs_option(const std::string& option) {
  return std::any_of(kDiskFilesystems.begin(), kDiskFilesystems.end(),
                     [&](std::string_view fs) { return fs_option(fs) == option; });
}

std::string join(const std::vector<std::string>& v) {
  std::string o;
  for (const auto& x : v) o += (o.empty() ? "" : ", ") + x;
  return o;
}

}  // namespace

std::vector<ConfigRequirement> catalogue_requirements(const std::vector<ConfigRequirement>& fragment,
                                                      const std::vector<Scenario>& scenarios) {
  std::map<std::string, std::string> mounted;  // CONFIG_<FS>_FS -> the first scenario using it
  for (const auto& s : scenarios)
    for (const auto& d : s.disks) mounted.emplace(fs_option(d.fs.empty() ? "ext4" : d.fs), s.name);
  std::vector<ConfigRequirement> out;
  for (auto r : fragment) {
    if (is_fs_option(r.option)) {
      auto it = mounted.find(r.option);
      if (it == mounted.end()) continue;
      r.needed_by = it->second;
    }
    out.push_back(r);
  }
  return out;
}

std::string fragment_text(const std::string& source_dir, bool fault_injection) {
  std::string text = base::read_file(source_dir + "/guest-tests/config");
  text += "\n" + base::read_file(source_dir + "/guest-tests/config.optional");
  if (fault_injection) text += "\n" + base::read_file(source_dir + "/guest-tests/config.fault-injection");
  return text;
}

namespace {

// What a scenario needs: its `requires`, and virtio-fs on FUSE when it shares host directories
// ([[share]], exec root = "host"). The share options are in guest-tests/config.optional, not in
// guest-tests/config, which every run needs.
std::vector<std::string> scenario_options(const Scenario& s) {
  std::vector<std::string> need = s.config;
  if (!s.shares.empty() || s.host_root)
    for (const char* o : {"CONFIG_FUSE_FS", "CONFIG_VIRTIO_FS"})
      if (std::find(need.begin(), need.end(), o) == need.end()) need.push_back(o);
  return need;
}

}  // namespace

std::optional<std::string> config_gate(const Scenario& s, const std::optional<KernelConfig>& config) {
  const std::vector<std::string> need = scenario_options(s);
  if (need.empty()) return std::nullopt;
  if (!config) return "kernel config unknown, needs " + join(need);
  std::vector<std::string> missing;
  for (const auto& o : need)
    if (!config->enabled(o)) missing.push_back(o);
  if (missing.empty()) return std::nullopt;
  return "kernel lacks " + join(missing);
}

}  // namespace fsfault::vm
