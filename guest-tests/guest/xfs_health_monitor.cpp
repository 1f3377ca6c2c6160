#include "guest-tests/guest/xfs_health_monitor.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace fsfault::guest {

namespace {

// XFS_IOC_HEALTH_MONITOR = _IOW('X', 68, struct xfs_health_monitor) (fs/xfs/libxfs/xfs_fs.h)
constexpr unsigned long kIocHealthMonitor = _IOW('X', 68, HealthMonitorArgs);

const char* domain_name(uint32_t d) {
  static const char* const names[] = {"mount", "fs", "ag", "inode", "rtgroup",
                                      "datadev", "rtdev", "logdev", "filerange"};
  return d < std::size(names) ? names[d] : "unknown";
}

const char* type_name(uint32_t t) {
  static const char* const names[] = {"running", "lost", "unmount", "sick", "corrupt",
                                      "healthy", "shutdown", "media_error", "bufread", "bufwrite",
                                      "dioread", "diowrite", "datalost"};
  return t < std::size(names) ? names[t] : "unknown";
}

uint32_t low32(uint64_t v) { return static_cast<uint32_t>(v); }
uint32_t high32(uint64_t v) { return static_cast<uint32_t>(v >> 32); }

}  // namespace

int open_health_monitor(const std::string& root, bool verbose) {
  int dir = open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return -errno;
  HealthMonitorArgs args{};
  args.flags = verbose ? 1 : 0;
  int fd = ioctl(dir, kIocHealthMonitor, &args);
  int err = fd < 0 ? errno : 0;
  close(dir);
  if (fd < 0) return -err;
  fcntl(fd, F_SETFL, O_NONBLOCK);  // the read step polls; a blocking read would hang the harness
  return fd;
}

nlohmann::json health_record(const HealthEvent& ev) {
  nlohmann::json j{{"type", "health"}, {"domain", domain_name(ev.domain)}, {"domain_code", ev.domain},
                   {"event", type_name(ev.type)}, {"event_code", ev.type}, {"time_ns", ev.time_ns}};
  if (ev.domain == 0 && ev.type == 1) j["lostcount"] = ev.e[0];           // lost.count
  if (ev.domain == 0 && ev.type == 6) j["reasons"] = low32(ev.e[0]);      // shutdown.reasons
  if (ev.domain == 1) j["mask"] = low32(ev.e[0]);                         // fs.mask
  if (ev.domain == 2 || ev.domain == 4) {                                 // group: mask, gno
    j["mask"] = low32(ev.e[0]);
    j["gno"] = high32(ev.e[0]);
  }
  if (ev.domain == 3) {  // inode: mask, gen, ino
    j["mask"] = low32(ev.e[0]);
    j["gen"] = high32(ev.e[0]);
    j["ino"] = ev.e[1];
  }
  if (ev.domain >= 5 && ev.domain <= 7) {  // media: daddr, bbcount
    j["daddr"] = ev.e[0];
    j["bbcount"] = ev.e[1];
  }
  if (ev.domain == 8) {  // filerange: pos, len, ino, gen, error
    j["pos"] = ev.e[0];
    j["len"] = ev.e[1];
    j["ino"] = ev.e[2];
    j["gen"] = low32(ev.e[3]);
    j["error"] = high32(ev.e[3]);
  }
  return j;
}

}  // namespace fsfault::guest
