// Host directories shared into the guest over virtiofs (the plan's "shares"), and the host's root
// filesystem as a chroot for exec/spawn steps with root = "host" (docs/vm-test.md, "Host tools in
// the guest").
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace fsfault::guest {

// Mounts each share read-only at its guest path before the steps run (mountpoints created) and
// records {"type":"share", tag, guest, ok, errno}; the host ends the run when one failed. Takes
// the plan's "host_root" (its guest path) for enter_host_root.
void mount_shares(const nlohmann::json& scenario);

// In a forked child, before exec: a private mount namespace in which the guest's /dev, /proc,
// /sys, /tmp and /mnt (the scenario's disks) are bound into the host root, then chroot into it
// and chdir to /. 0 or the errno (ENOENT when the scenario shares no host root).
int enter_host_root();

}  // namespace fsfault::guest
