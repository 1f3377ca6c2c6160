// drop-caches, sync, read-file, write-file, kmsg, sleep: the kernel's caches, knobs and log.
#include "guest-tests/guest/steps/step.h"

#include "guest-tests/guest/disks.h"
#include "guest-tests/guest/kmsg.h"
#include "guest-tests/guest/small_files.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>

namespace fsfault::guest {

int run_drop_caches(const StepCall& c) {
  // Several passes: the dcache/icache shrinkers give recently referenced
  // objects a second chance (fs/dcache.c dentry_lru_isolate() rotates
  // DCACHE_REFERENCED dentries instead of freeing them), so a single write
  // to drop_caches can leave the dentry -- and the inode below it -- cached.
  int err = 0;
  int passes = c.spec.value("passes", 3);
  for (int i = 0; i < passes && !err; ++i) {
    sync();
    if (!write_existing_file("/proc/sys/vm/drop_caches", c.spec.value("value", std::string("3")))) err = errno;
  }
  // drop_caches leaves the filesystems' metadata buffers (the block
  // device's page cache) in place here -- seen on 6.1: the inode-table
  // block of a mounted ext4 survived three passes. BLKFLSBUF
  // (block/ioctl.c: sync_blockdev + invalidate_bdev) drops them.
  if (!err && c.spec.value("flush_bdev", true))
    for (auto& d : disks()) {
      int fd = open(d.dev.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) continue;
      if (ioctl(fd, BLKFLSBUF, 0) < 0) c.out["flush_errno"] = errno;
      close(fd);
    }
  return err;
}

int run_sync(const StepCall&) {
  sync();
  return 0;
}

// An absolute path, e.g. /sys/fs/ext4/vda/errors_count.
int run_read_file(const StepCall& c) {
  auto v = read_whole_file(c.spec.value("path", std::string()));
  if (!v) return errno;
  c.out["value"] = *v;
  return 0;
}

int run_write_file(const StepCall& c) {
  if (!write_existing_file(c.spec.value("path", std::string()), c.spec.value("value", std::string()))) return errno;
  return 0;
}

int run_kmsg(const StepCall&) {
  drain_kmsg();
  return 0;
}

int run_sleep(const StepCall& c) {
  usleep(static_cast<useconds_t>(c.spec.value("ms", 100)) * 1000);
  return 0;
}

}  // namespace fsfault::guest
