#include "nbd-server/log.h"

#include <unistd.h>

#include <string>

namespace fsfault::nbd::log {

namespace {
std::atomic<int> g_level{static_cast<int>(Level::Info)};
const char* name(Level l) {
  switch (l) {
    case Level::Error: return "error";
    case Level::Warn: return "warn";
    case Level::Info: return "info";
    case Level::Debug: return "debug";
  }
  return "?";
}
}  // namespace

void set_level(Level l) { g_level.store(static_cast<int>(l)); }
bool enabled(Level l) { return static_cast<int>(l) <= g_level.load(std::memory_order_relaxed); }

void write(Level l, std::string_view msg) {
  std::string line = fmt::format("fsfault-nbd[{}]: {}: {}\n", ::getpid(), name(l), msg);
  // One write(2) per line keeps lines from interleaving across threads.
  (void)!::write(STDERR_FILENO, line.data(), line.size());
}

}  // namespace fsfault::nbd::log
