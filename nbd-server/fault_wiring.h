// Connects the fault engine (faults/, which knows nothing of NBD) to the
// server: one FaultEngine per export wrapped around its store as a
// FaultFilter, the schedule loaded into each, and the control socket's
// commands fanned out to all of them.
#pragma once

#include <memory>
#include <string>

#include "nbd-server/control_handler.h"
#include "nbd-server/storage/block_device.h"

namespace fsfault::nbd {

class FaultWiring {
 public:
  FaultWiring();
  ~FaultWiring();
  // Wraps an export's store; map_path may be empty.
  std::shared_ptr<BlockDevice> wrap(const std::string& export_name,
                                    std::shared_ptr<BlockDevice> store,
                                    const std::string& map_path);
  // Loads the schedule (may be empty) into every export and opens the fault
  // log (may be empty). Throws with a file:line:col message on a bad schedule.
  void configure(const std::string& schedule_path, const std::string& fault_log_path);
  ControlHandler control_handler();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace fsfault::nbd
