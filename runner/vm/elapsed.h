// The runner's one clock: the host's monotonic time, in ms since a start.
#pragma once

#include <chrono>

namespace fsfault::vm {

using Clock = std::chrono::steady_clock;

inline long long ms_since(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count();
}

}  // namespace fsfault::vm
