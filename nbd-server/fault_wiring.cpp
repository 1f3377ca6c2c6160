#include "nbd-server/fault_wiring.h"

#include <stdexcept>

namespace fsfault::nbd {

// Placeholder until faults/ lands: no engine, schedules are refused.
struct FaultWiring::Impl {};
FaultWiring::FaultWiring() : impl_(std::make_unique<Impl>()) {}
FaultWiring::~FaultWiring() = default;
std::shared_ptr<BlockDevice> FaultWiring::wrap(const std::string&, std::shared_ptr<BlockDevice> s,
                                               const std::string&) {
  return s;
}
void FaultWiring::configure(const std::string& schedule, const std::string&) {
  if (!schedule.empty()) throw std::runtime_error("fault engine not wired yet");
}
ControlHandler FaultWiring::control_handler() { return {}; }

}  // namespace fsfault::nbd
