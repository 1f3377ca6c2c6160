#include "guest-tests/guest/fanotify_reading.h"

#include "guest-tests/guest/clock.h"
#include "guest-tests/guest/fanotify_events.h"
#include "guest-tests/guest/records.h"

#include <poll.h>
#include <sys/fanotify.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <thread>

namespace fsfault::guest {

using json = nlohmann::json;

int fionread(int fd) {
  int n = 0;
  if (ioctl(fd, FIONREAD, &n) < 0) return -1;
  return n;
}

namespace {

// Records every event queued on the group now.
int read_group(Group& g) {
  alignas(fanotify_event_metadata) unsigned char buf[65536];
  int count = 0;
  for (;;) {
    ssize_t n = read(g.fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;  // EAGAIN: empty
    }
    if (n == 0) break;
    auto* md = reinterpret_cast<fanotify_event_metadata*>(buf);
    while (FAN_EVENT_OK(md, n)) {
      json j = decode_event(md, g.name);
      j["index"] = g.events++;
      record(j);
      if (md->fd >= 0) close(md->fd);
      ++count;
      md = FAN_EVENT_NEXT(md, n);
    }
  }
  return count;
}

}  // namespace

// Events on 7.x arrive from a workqueue (fs/fserror.c), so a fixed sleep would be wrong both
// ways: wait for the first, then for the queue to settle.
json read_events(Group& g, int timeout_ms, int settle_ms, int min_events) {
  long long start = now_ms();
  long long deadline = start + timeout_ms;
  int last = fionread(g.fd);
  long long last_change = now_ms();
  // Phase 1: how many bytes min_events take is unknowable, so wait for the queue to be
  // non-empty when min_events > 0.
  if (min_events > 0) {
    while (fionread(g.fd) <= 0 && now_ms() < deadline) {
      pollfd p{g.fd, POLLIN, 0};
      poll(&p, 1, static_cast<int>(std::max(1LL, std::min(100LL, deadline - now_ms()))));
    }
    last = fionread(g.fd);
    last_change = now_ms();
  }
  // Phase 2: settle.
  while (now_ms() < deadline || (min_events > 0 && last > 0 && now_ms() - last_change < settle_ms)) {
    if (now_ms() - last_change >= settle_ms) break;
    usleep(20000);
    int cur = fionread(g.fd);
    if (cur != last) {
      last = cur;
      last_change = now_ms();
    }
    if (now_ms() > deadline + settle_ms * 4) break;
  }
  int queued = fionread(g.fd);
  int n = read_group(g);
  return json{{"events", n}, {"fionread_before", queued}, {"waited_ms", now_ms() - start}};
}

// read-events runs after the workload, so an event record's t_ms says when it was read, not
// when the kernel queued it. poll() does not consume; fsfault repro reports "first fault ->
// first event" from this record (docs/vm-test.md).
void watch_first_event(int fd, const std::string& group) {
  std::thread([fd, group] {
    for (;;) {
      pollfd p{fd, POLLIN, 0};
      int r = poll(&p, 1, -1);
      if (r > 0 && (p.revents & POLLIN)) {
        record(json{{"type", "first-event"}, {"group", group}, {"fionread", fionread(fd)}});
        return;
      }
      if (r < 0 && errno != EINTR) return;
    }
  }).detach();
}

}  // namespace fsfault::guest
