#include "guest-tests/guest/shares.h"

#include "base/errno_names.h"
#include "guest-tests/guest/clock.h"
#include "guest-tests/guest/records.h"
#include "guest-tests/guest/small_files.h"

#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace fsfault::guest {

using json = nlohmann::json;

namespace {

std::string& host_root_path() {
  static std::string path;
  return path;
}

// mount -t virtiofs -o ro TAG GUEST; 0 or the errno. In a restored guest the device was just
// hot-plugged and may still be probing: an unknown tag is EINVAL (virtio_fs_get_tree(),
// fs/fuse/virtio_fs.c), so that is retried for a while.
int mount_share(const std::string& tag, const std::string& guest) {
  if (int e = mkdir_parents(guest + "/x")) return e;
  const long long t0 = now_ms();
  while (mount(tag.c_str(), guest.c_str(), "virtiofs", MS_RDONLY, nullptr) < 0) {
    if ((errno != EINVAL && errno != ENODEV) || now_ms() - t0 > 10000) return errno;
    usleep(10000);
  }
  return 0;
}

}  // namespace

void mount_shares(const json& scenario) {
  for (auto& sh : scenario.value("shares", json::array())) {
    std::string tag = sh.value("tag", std::string());
    std::string guest = sh.value("guest", std::string());
    int err = mount_share(tag, guest);
    record(json{{"type", "share"}, {"tag", tag}, {"guest", guest}, {"ok", err == 0}, {"errno", err},
                {"errno_name", fsfault::base::errno_name(err)}});
  }
  host_root_path() = scenario.value("host_root", std::string());
}

int enter_host_root() {
  const std::string& root = host_root_path();
  if (root.empty()) return ENOENT;
  // Private: the binds (and whatever the program mounts) stay in this child's namespace, and the
  // disks as mounted at this step are what it sees.
  if (unshare(CLONE_NEWNS) < 0) return errno;
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0) return errno;
  for (const char* d : {"/dev", "/proc", "/sys", "/tmp", "/mnt"})
    if (mount(d, (root + d).c_str(), nullptr, MS_BIND | MS_REC, nullptr) < 0) return errno;
  if (chroot(root.c_str()) < 0 || chdir("/") < 0) return errno;
  return 0;
}

}  // namespace fsfault::guest
