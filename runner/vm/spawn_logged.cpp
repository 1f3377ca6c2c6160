#include "runner/vm/spawn_logged.h"

#include <fcntl.h>
#include <unistd.h>

namespace fsfault::vm {

proc::Child spawn_logged(const std::vector<std::string>& argv, const std::string& log_path) {
  int logfd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  proc::ProcessOptions so;
  so.stdout_fd = logfd;
  so.stderr_fd = logfd;
  try {
    proc::Child c = proc::Child::spawn(argv, so);
    if (logfd >= 0) close(logfd);
    return c;
  } catch (...) {
    if (logfd >= 0) close(logfd);
    throw;
  }
}

}  // namespace fsfault::vm
