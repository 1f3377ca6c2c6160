#include "guest-tests/guest/disks.h"

namespace fsfault::guest {

std::vector<Disk>& disks() {
  static std::vector<Disk> all;
  return all;
}

void load_disks(const nlohmann::json& scenario_disks) {
  for (auto& d : scenario_disks) {
    Disk disk;
    disk.dev = d.value("dev", std::string());
    disk.mountpoint = d.value("mountpoint", std::string());
    disk.fs = d.value("fs", std::string("ext4"));
    disk.options = d.value("options", std::string());
    disks().push_back(disk);
  }
}

std::string step_path(const nlohmann::json& step) {
  int disk = step.value("disk", 0);
  std::string p = step.value("path", std::string("/"));
  if (disk < 0 || disk >= static_cast<int>(disks().size())) return p;
  if (p.rfind("/abs:", 0) == 0) return p.substr(5);  // "/abs:/sys/..." -> "/sys/..."
  return disks()[disk].mountpoint + (p.empty() || p[0] != '/' ? "/" : "") + p;
}

}  // namespace fsfault::guest
