// Monotonic milliseconds: step durations and every record's t_ms.
#pragma once

namespace fsfault::guest {

long long now_ms();
// Milliseconds since the harness started (a record's t_ms).
long long ms_since_start();
// Sets the wall clock: a guest restored from a saved state wakes with the clock of the save.
void set_realtime_ms(long long ms);

}  // namespace fsfault::guest
