// The kernel log (/dev/kmsg) as records of type "kmsg".
#pragma once

namespace fsfault::guest {

// Opens /dev/kmsg non-blocking from its first record; without it drain_kmsg records nothing.
void open_kmsg();
// Records every kernel log record not read yet.
void drain_kmsg();

}  // namespace fsfault::guest
