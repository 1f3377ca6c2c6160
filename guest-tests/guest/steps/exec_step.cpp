// exec: runs a program (or `sh -c`) in the guest and records its exit status and output.
#include "guest-tests/guest/steps/step.h"

#include "guest-tests/guest/child_process.h"
#include "guest-tests/guest/output_collector.h"

#include <cerrno>
#include <memory>

namespace fsfault::guest {

int run_exec(const StepCall& c) {
  StartedChild child = start_child(c.spec, false);
  if (child.error) return child.error;
  std::unique_ptr<OutputCollector> output;
  if (child.output_fd >= 0) output = std::make_unique<OutputCollector>(child.output_fd);
  std::optional<int> st = wait_child(child.pid, -1);
  if (!st) return ECHILD;
  c.out["exit"] = exit_code(*st);
  if (output) {
    // A program that left something running with our pipe as its stdout (`sleep 9999 &`) must
    // not hang the step: what came within a moment after the exit is the output.
    bool complete = false;
    c.out["output"] = output->take(500, complete);
    if (!complete) c.out["output_held_open"] = true;
    if (output->dropped()) c.out["output_dropped_bytes"] = output->dropped();
  }
  return 0;
}

}  // namespace fsfault::guest
