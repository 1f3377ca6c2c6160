// The step kinds by name (the scenario's `do`), like LTP's table of tests to functions.
#pragma once

#include "guest-tests/guest/steps/step.h"

#include <span>
#include <string_view>

namespace fsfault::guest {

struct StepKind {
  std::string_view name;
  StepFunction run;
  // False for steps that only run other steps (repeat): they record nothing themselves.
  bool records = true;
  // True for steps whose `timeout_ms` is their own (read-events, wait), not the watchdog's bound.
  bool owns_timeout = false;
};

// Every known step kind.
std::span<const StepKind> step_kinds();
// The kind named `name`; for an unknown name a kind whose run fails with ENOSYS and detail
// "unknown step" (the host judges that record).
const StepKind& step_kind(std::string_view name);

}  // namespace fsfault::guest
