// A child of the runner whose stdout and stderr go to one log file (QEMU, servers, virtiofsd).
#pragma once

#include "process/process.h"

#include <string>
#include <vector>

namespace fsfault::vm {

// Spawns argv with stdout and stderr into log_path (created or truncated). Throws like Child::spawn.
proc::Child spawn_logged(const std::vector<std::string>& argv, const std::string& log_path);

}  // namespace fsfault::vm
