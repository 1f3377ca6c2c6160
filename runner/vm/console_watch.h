// Follows console.log as QEMU writes it and remembers the kernel's panic line, printed by panic()
// in kernel/panic.c as "Kernel panic - not syncing: ...".
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

namespace fsfault::vm {

class ConsoleWatch {
 public:
  explicit ConsoleWatch(std::string path) : path_(std::move(path)) {}
  // Reads what was appended since the last call (a bounded amount per call).
  std::optional<std::string> panic_line();

 private:
  void scan(const char* b, ssize_t n);
  std::string path_;
  off_t off_ = 0;
  std::string line_;
  std::optional<std::string> panic_;
};

}  // namespace fsfault::vm
