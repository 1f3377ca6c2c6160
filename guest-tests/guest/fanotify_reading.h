// Reading a group's queue: now, after it settles, and the moment it first holds an event.
#pragma once

#include "guest-tests/guest/fanotify_groups.h"

#include <nlohmann/json.hpp>

#include <string>

namespace fsfault::guest {

// Bytes queued on the fd (FIONREAD), -1 on error.
int fionread(int fd);
// Waits up to timeout_ms for an event (when min_events > 0), then for the queue to settle
// (FIONREAD unchanged for settle_ms), then records every queued event. Returns
// {events, fionread_before, waited_ms}.
nlohmann::json read_events(Group& g, int timeout_ms, int settle_ms, int min_events);
// Records {"type":"first-event"} from a thread of its own when fd first holds an event.
void watch_first_event(int fd, const std::string& group);

}  // namespace fsfault::guest
