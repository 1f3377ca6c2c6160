// Disks hot-plugged into a restored guest (docs/ARCHITECTURE.md, "Boot once, restore per
// scenario"): a guest restored from a saved state booted without disks, so it asks the host for
// each in turn and waits until the kernel has named it.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace fsfault::guest {

// For each of the scenario's disks in order: asks the host to attach it ("attach"), waits for
// the block device the plan names, and checks its serial says it is that disk. One at a time, so
// virtio-blk names them vda, vdb, … in scenario order as a cold boot does. "" on success, else why.
std::string attach_disks(const nlohmann::json& scenario_disks);

}  // namespace fsfault::guest
