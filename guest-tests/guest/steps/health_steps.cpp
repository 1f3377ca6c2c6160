#include "guest-tests/guest/steps/health_steps.h"

#include "guest-tests/guest/clock.h"
#include "guest-tests/guest/disks.h"
#include "guest-tests/guest/records.h"
#include "guest-tests/guest/small_files.h"
#include "guest-tests/guest/xfs_health_monitor.h"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <map>

namespace fsfault::guest {

namespace {

// Monitor fds by disk; they stay open to the end (closing one detaches the monitor).
std::map<int, int>& monitors() {
  static std::map<int, int> fds;
  return fds;
}

// Reads every whole record available now; returns how many, or -errno.
int drain(int fd, int disk) {
  int n = 0;
  HealthEvent buf[16];
  for (;;) {
    ssize_t got = read(fd, buf, sizeof(buf));
    if (got < 0) return errno == EAGAIN ? n : -errno;
    if (got == 0) return n;  // EOF: the filesystem was unmounted
    for (ssize_t i = 0; i < got / static_cast<ssize_t>(sizeof(HealthEvent)); ++i, ++n) {
      nlohmann::json j = health_record(buf[i]);
      j["disk"] = disk;
      record(std::move(j));
    }
  }
}

}  // namespace

int run_watch_health(const StepCall& c) {
  int disk = c.spec.value("disk", 0);
  if (monitors().count(disk)) return EEXIST;
  nlohmann::json spec = c.spec;
  if (!spec.contains("path")) spec["path"] = "/";
  int fd = open_health_monitor(step_path(spec), c.spec.value("verbose", true));
  if (fd < 0) return -fd;
  monitors()[disk] = fd;
  c.out["fd"] = fd;
  return 0;
}

int run_read_health(const StepCall& c) {
  int disk = c.spec.value("disk", 0);
  auto it = monitors().find(disk);
  if (it == monitors().end()) return EBADF;
  int fd = it->second, total = 0;
  long long timeout = c.spec.value("timeout_ms", 5000), settle = c.spec.value("settle_ms", 300);
  long long min = c.spec.value("min", 1), start = now_ms(), quiet_since = now_ms();
  for (;;) {
    long long now = now_ms();
    bool waiting_first = total < min;
    long long left = waiting_first ? start + timeout - now : quiet_since + settle - now;
    if (left <= 0) break;
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left)) <= 0) continue;
    int n = drain(fd, disk);
    if (n < 0) return -n;
    if (n == 0 && (p.revents & (POLLHUP | POLLERR))) break;
    if (n == 0 && (p.revents & POLLIN)) break;  // readable with nothing: EOF after unmount
    total += n;
    quiet_since = now_ms();
  }
  c.out["events"] = total;
  if (auto info = read_whole_file("/proc/self/fdinfo/" + std::to_string(fd))) c.out["fdinfo"] = *info;
  return total < min ? ETIMEDOUT : 0;
}

}  // namespace fsfault::guest
