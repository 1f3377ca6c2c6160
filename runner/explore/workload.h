// The built-in workloads of `fsfault explore`: step lists over the files and directories the
// image's map names (paths relative to the disk's mountpoint, docs/vm-test.md).
#pragma once

#include "faults/target_map.h"
#include "runner/scenario/scenario.h"

#include <string>
#include <vector>

namespace fsfault::vm::explore {

// "walk", "read", "create", "write-fsync", "rm-sync", "remount".
const std::vector<std::string>& workload_names();

// The steps of workload `name` on an image with `map`. Throws on an unknown name, listing them.
json workload_steps(const std::string& name, const faults::TargetMap& map);

}  // namespace fsfault::vm::explore
