// Running a scenario's steps: each step's record, in order, until one stops the run.
#pragma once

#include "guest-tests/guest/steps/step.h"

#include <nlohmann/json.hpp>

#include <string>

namespace fsfault::guest {

// Runs one step and records {"type":"step", id, do, ..., ms, errno, errno_name, ok}.
void run_step(const nlohmann::json& s, const std::string& id, RunState& state);
// Runs the steps in order with ids prefix0, prefix1, ... until state.stop.
void run_steps(const nlohmann::json& steps, const std::string& prefix, RunState& state);

}  // namespace fsfault::guest
