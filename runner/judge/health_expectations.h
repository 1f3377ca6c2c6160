// Expectations on the xfs health monitor's records (guest step read-health, records of type
// "health"): the second error channel beside fanotify on 7.x xfs.
#pragma once

#include "runner/judge/judge.h"

namespace fsfault::vm {

// [[expect]] health = "lost" (an event name as the guest records it: running, lost, unmount,
// sick, corrupt, healthy, shutdown, media_error, bufread, bufwrite, dioread, diowrite, datalost),
// optional domain = "mount" (…, "inode", "filerange"), count (default ">=1"), disk, and
// lostcount (a count spec on the LOST record's count, e.g. ">=1"), reasons (shutdown bits, exact).
// Every record matching health/domain/disk is counted; lostcount/reasons must hold for each.
void judge_health(const json& ex, const Trace& t, Outcome& o);

}  // namespace fsfault::vm
