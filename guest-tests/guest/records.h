// Records: the facts the guest streams to the host, one JSON line each (the host judges them,
// runner/judge/).
#pragma once

#include <nlohmann/json.hpp>

namespace fsfault::guest {

// Sends one record with the next seq and its t_ms. Every record after the hello goes through
// here, from any thread: one seq order, whole lines.
void record(nlohmann::json j);

}  // namespace fsfault::guest
