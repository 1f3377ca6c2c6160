#include "guest-tests/guest/console.h"

#include <unistd.h>

namespace fsfault::guest {

void console(const std::string& s) {
  std::string line = "fsfault-guest: " + s + "\n";
  ssize_t r = write(2, line.data(), line.size());
  (void)r;
}

}  // namespace fsfault::guest
