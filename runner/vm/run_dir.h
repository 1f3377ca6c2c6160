// A run's private temporary directory (sockets, throwaway artifacts) that a
// later run can recognise as stale once its owner died, even by SIGKILL.
//
// The owner holds an exclusive flock(2) on <dir>/owner.lock for as long as it
// lives; the kernel drops the lock when the last descriptor of the open file
// goes, i.e. when the owner dies however it dies. A pid in the name would not
// do: pids are reused, and "is pid N alive" says nothing about who N is.
#pragma once

#include <string>
#include <vector>

namespace fsfault::vm {

class RunDir {
 public:
  // Creates <tmp>/<prefix>.XXXXXX and locks it. Throws std::runtime_error.
  explicit RunDir(const std::string& prefix, const std::string& tmp = "/tmp");
  ~RunDir();  // removes the directory and everything in it
  RunDir(const RunDir&) = delete;
  RunDir& operator=(const RunDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  int lock_fd_ = -1;
};

// Removes every <tmp>/<prefix>.* directory whose owner is gone (its lock can be
// taken). Directories without owner.lock are left alone: not made by RunDir.
// Returns the directories removed.
std::vector<std::string> sweep_stale_run_dirs(const std::string& prefix, const std::string& tmp = "/tmp");

}  // namespace fsfault::vm
