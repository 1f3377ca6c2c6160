// The scenario's disks (block device, mountpoint, default fs and options) and step paths on them.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace fsfault::guest {

struct Disk {
  std::string dev;
  std::string mountpoint;
  std::string fs;
  std::string options;
};

// The disks in scenario order: a step's "disk" is an index here.
std::vector<Disk>& disks();
// Takes the scenario's "disks" array.
void load_disks(const nlohmann::json& scenario_disks);
// The absolute path a step names: "path" below its disk's mountpoint, "/abs:/x" for /x, or
// "path" unchanged when the disk does not exist.
std::string step_path(const nlohmann::json& step);

}  // namespace fsfault::guest
