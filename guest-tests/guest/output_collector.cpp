#include "guest-tests/guest/output_collector.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <chrono>

namespace fsfault::guest {

OutputCollector::OutputCollector(int fd) : fd_(fd) {
  if (pipe2(stop_pipe_, O_CLOEXEC) < 0) stop_pipe_[0] = stop_pipe_[1] = -1;
  reader_ = std::thread([this] { read_loop(); });
}

OutputCollector::~OutputCollector() {
  bool complete = false;
  (void)take(0, complete);
  for (int fd : stop_pipe_)
    if (fd >= 0) close(fd);
}

void OutputCollector::read_loop() {
  char buf[4096];
  for (;;) {
    pollfd p[2] = {{fd_, POLLIN, 0}, {stop_pipe_[0], POLLIN, 0}};
    if (poll(p, stop_pipe_[0] >= 0 ? 2 : 1, -1) < 0) continue;
    if (p[1].revents) break;  // take() gave up waiting
    ssize_t n = read(fd_, buf, sizeof buf);
    if (n <= 0) break;  // the end: every writer closed the pipe
    std::lock_guard<std::mutex> lock(mu_);
    size_t keep = out_.size() < kMaxBytes ? std::min(static_cast<size_t>(n), kMaxBytes - out_.size()) : 0;
    out_.append(buf, keep);
    dropped_ += static_cast<size_t>(n) - keep;
  }
  std::lock_guard<std::mutex> lock(mu_);
  ended_ = true;
  ended_cv_.notify_all();
}

std::string OutputCollector::take(int wait_ms, bool& complete) {
  if (!reader_.joinable()) {
    complete = true;
    std::lock_guard<std::mutex> lock(mu_);
    return out_;
  }
  {
    std::unique_lock<std::mutex> lock(mu_);
    complete = ended_cv_.wait_for(lock, std::chrono::milliseconds(wait_ms), [this] { return ended_; });
  }
  if (!complete && stop_pipe_[1] >= 0) (void)!write(stop_pipe_[1], "x", 1);
  reader_.join();
  close(fd_);
  std::lock_guard<std::mutex> lock(mu_);
  return out_;
}

size_t OutputCollector::dropped() const {
  std::lock_guard<std::mutex> lock(mu_);
  return dropped_;
}

}  // namespace fsfault::guest
