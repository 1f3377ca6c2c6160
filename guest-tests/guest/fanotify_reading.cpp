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
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace fsfault::guest {

using json = nlohmann::json;

int fionread(int fd) {
  int n = 0;
  if (ioctl(fd, FIONREAD, &n) < 0) return -1;
  return n;
}

namespace {

// When each event arrived: fanotify events carry no time, and read-events reads after the
// workload. A watcher thread samples FIONREAD (bytes queued) and keeps, per fd, when the bytes
// ever queued (consumed + FIONREAD) first reached each total. An event that ends at offset E
// of that stream arrived when the total first reached E. A merge into a queued event
// adds no bytes, so a merged event's time is when it was first queued.
struct ArrivalLog {
  std::mutex mu;            // one sample or one read() at a time
  long long consumed = 0;   // FIONREAD units read so far
  int unit = 0;             // 0 unknown, 1 FAN_EVENT_METADATA_LEN per event, 2 whole events
  std::vector<std::pair<long long, long long>> seen;  // (total bytes, ms_since_start)
};

std::mutex g_logs_mu;
std::map<int, std::shared_ptr<ArrivalLog>> g_logs;

std::shared_ptr<ArrivalLog> arrival_log(int fd) {
  std::lock_guard<std::mutex> lock(g_logs_mu);
  auto& l = g_logs[fd];
  if (!l) l = std::make_shared<ArrivalLog>();
  return l;
}

// Returns the bytes queued now (after noting a new total).
int sample_arrivals(int fd, ArrivalLog& log) {
  std::lock_guard<std::mutex> lock(log.mu);
  int n = fionread(fd);
  if (n < 0) return n;
  long long total = log.consumed + n;
  if (log.seen.empty() || total > log.seen.back().first) log.seen.emplace_back(total, ms_since_start());
  return n;
}

// Caller holds log.mu. Read time when no sample saw it (it came and went between samples).
long long arrival_of(const ArrivalLog& log, long long end_offset) {
  for (auto& [total, ms] : log.seen)
    if (total >= end_offset) return ms;
  return ms_since_start();
}

// FIONREAD counts FAN_EVENT_METADATA_LEN per event on 6.1, the whole event on 7.x
// (docs/kernel-facts.md): the unit is learnt from the first read, which drained `queued` bytes
// of FIONREAD into `read_bytes` bytes of `events` events.
bool fionread_counts_whole_events(ArrivalLog& log, int queued, long long read_bytes, int events) {
  if (log.unit == 0) {
    long long meta = static_cast<long long>(events) * FAN_EVENT_METADATA_LEN;
    log.unit = queued == meta && meta != read_bytes ? 1 : 2;
  }
  return log.unit == 2;
}

// Records every event queued on the group now, each with its arrived_ms.
int read_group(Group& g) {
  alignas(fanotify_event_metadata) unsigned char buf[65536];
  int count = 0;
  auto log = arrival_log(g.fd);
  for (;;) {
    std::lock_guard<std::mutex> lock(log->mu);
    int queued = fionread(g.fd);
    ssize_t n = read(g.fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // EAGAIN: empty
    std::vector<fanotify_event_metadata*> mds;
    for (auto* md = reinterpret_cast<fanotify_event_metadata*>(buf); FAN_EVENT_OK(md, n); md = FAN_EVENT_NEXT(md, n))
      mds.push_back(md);
    bool whole = fionread_counts_whole_events(*log, queued, n, static_cast<int>(mds.size()));
    for (auto* md : mds) {
      json j = decode_event(md, g.name);
      j["index"] = g.events++;
      log->consumed += whole ? md->event_len : FAN_EVENT_METADATA_LEN;
      j["arrived_ms"] = arrival_of(*log, log->consumed);
      record(j);
      if (md->fd >= 0) close(md->fd);
      ++count;
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
// The same thread then samples arrivals: every 5 ms while the queue holds bytes, blocked in
// poll() while it is empty.
void watch_first_event(int fd, const std::string& group) {
  auto log = arrival_log(fd);
  std::thread([fd, group, log] {
    bool first = true;
    for (;;) {
      pollfd p{fd, POLLIN, 0};
      int r = poll(&p, 1, -1);
      if (r < 0 && errno != EINTR) return;
      if (r <= 0 || !(p.revents & POLLIN)) continue;
      int queued = sample_arrivals(fd, *log);
      if (first) record(json{{"type", "first-event"}, {"group", group}, {"fionread", queued}});
      first = false;
      while (sample_arrivals(fd, *log) > 0) usleep(5000);
    }
  }).detach();
}

}  // namespace fsfault::guest
