#include "runner/vm/console_watch.h"

#include <fcntl.h>
#include <unistd.h>

namespace fsfault::vm {

std::optional<std::string> ConsoleWatch::panic_line() {
  if (panic_) return panic_;
  int fd = open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  char b[65536];
  for (int i = 0; i < 64 && !panic_; ++i) {
    ssize_t n = pread(fd, b, sizeof b, off_);
    if (n <= 0) break;
    off_ += n;
    scan(b, n);
  }
  close(fd);
  return panic_;
}

void ConsoleWatch::scan(const char* b, ssize_t n) {
  for (ssize_t k = 0; k < n && !panic_; ++k) {
    if (b[k] != '\n') {
      if (line_.size() < 4096) line_ += b[k];
      continue;
    }
    if (!line_.empty() && line_.back() == '\r') line_.pop_back();
    auto at = line_.find("Kernel panic - not syncing");
    if (at != std::string::npos) panic_ = line_.substr(at);
    line_.clear();
  }
}

}  // namespace fsfault::vm
