// The output of a child, read continuously on a thread of its own so that nothing is lost when the
// child is stopped, and so that a grandchild which keeps the pipe open cannot hang a step: take()
// waits a bounded time for the end of the output, then closes the pipe.
#pragma once

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

namespace fsfault::guest {

class OutputCollector {
 public:
  // Kept per child (a record is one line of at most 1 MiB, escapes included); the rest is counted.
  static constexpr size_t kMaxBytes = 64 << 10;

  // Starts reading fd (the read end of the child's stdout/stderr pipe; owned from now on).
  explicit OutputCollector(int fd);
  ~OutputCollector();
  OutputCollector(const OutputCollector&) = delete;
  OutputCollector& operator=(const OutputCollector&) = delete;

  // Everything read so far, after waiting up to wait_ms for the pipe's end; then stops reading.
  // `complete` says whether the end came (false: someone still holds the pipe open).
  std::string take(int wait_ms, bool& complete);
  size_t dropped() const;

 private:
  void read_loop();
  int fd_;
  int stop_pipe_[2] = {-1, -1};  // wakes the reader when take() gives up
  mutable std::mutex mu_;
  std::condition_variable ended_cv_;
  std::string out_;
  size_t dropped_ = 0;
  bool ended_ = false;
  std::thread reader_;
};

}  // namespace fsfault::guest
