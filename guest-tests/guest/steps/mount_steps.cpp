// mount, umount.
#include "guest-tests/guest/steps/step.h"

#include "guest-tests/guest/disks.h"
#include "guest-tests/guest/mounts.h"

#include <sys/mount.h>

#include <cerrno>

namespace fsfault::guest {

int run_mount(const StepCall& c) { return mount_disk(c.spec, c.out); }

int run_umount(const StepCall& c) {
  int disk = c.spec.value("disk", 0);
  if (umount2(disks().at(disk).mountpoint.c_str(), c.spec.value("lazy", false) ? MNT_DETACH : 0) < 0) return errno;
  return 0;
}

}  // namespace fsfault::guest
