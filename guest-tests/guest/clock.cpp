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

void set_realtime_ms(long long ms) {
  timespec ts{static_cast<time_t>(ms / 1000), static_cast<long>(ms % 1000) * 1000000};
  clock_settime(CLOCK_REALTIME, &ts);
}

}  // namespace fsfault::guest
