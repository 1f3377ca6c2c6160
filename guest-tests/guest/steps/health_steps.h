// watch-health, read-health: the xfs health monitor as a step (guest-tests/guest/xfs_health_monitor.h).
#pragma once

#include "guest-tests/guest/steps/step.h"

namespace fsfault::guest {

// Opens the monitor on the disk's root (`path`, default "/"; `verbose`, default true); one per disk.
int run_watch_health(const StepCall& c);
// Reads the disk's monitor: waits up to timeout_ms for the first record (min = 0: none needed),
// then until nothing new came for settle_ms; one "health" record each, `events` and `fdinfo` here.
int run_read_health(const StepCall& c);

}  // namespace fsfault::guest
