#include "guest-tests/guest/clock.h"

#include <time.h>

namespace fsfault::guest {

long long now_ms() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<long long>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

namespace {
const long long g_start_ms = now_ms();
}  // namespace

long long ms_since_start() { return now_ms() - g_start_ms; }

}  // namespace fsfault::guest
