// The tools kernel provisioning runs (apt-get, apt-cache, dpkg-deb, depmod, busybox), each to
// completion under a time limit, and the small text helpers their output needs.
#pragma once

#include "process/process.h"

#include <string>
#include <vector>

namespace fsfault::vm {

// Runs argv to completion; limit_s bounds network steps such as apt-get update. A timeout is
// noted in the result's err.
proc::ProcessResult run_tool(const std::vector<std::string>& argv, int limit_s = 120, proc::ProcessOptions opts = {});

// s without leading and trailing white space.
std::string trim(std::string s);

// The names in directory d, sorted ("" entries never; nothing when d cannot be read).
std::vector<std::string> list_dir(const std::string& d);

// An exclusive flock on dir/.lock for the object's lifetime, so that two runners (ctest and a
// developer's vm-test) never fetch or extract into the same cache directory at once.
class DirLock {
 public:
  explicit DirLock(const std::string& dir);
  ~DirLock();
  DirLock(const DirLock&) = delete;
  DirLock& operator=(const DirLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace fsfault::vm
