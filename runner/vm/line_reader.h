// Lines from a peer the runner does not trust (the guest, a dying server): a line longer than
// max_line is refused rather than buffered, so memory stays bounded.
#pragma once

#include <cstddef>
#include <string>

namespace fsfault::vm {

// Guest records are small (the largest, an exec step's output, is capped at 64 KiB by the guest
// before JSON escaping); anything near this limit is a broken or hostile guest, not data.
inline constexpr size_t kMaxRecordBytes = 1 << 20;  // one line

class LineReader {
 public:
  enum class Status {
    line,      // `line` holds the next line, without its newline
    timeout,   // no full line within the timeout
    closed,    // EOF, a read error, or the runner was signalled
    too_long,  // no newline within max_line bytes
  };
  explicit LineReader(int fd, size_t max_line = kMaxRecordBytes) : fd_(fd), max_line_(max_line) {}
  Status next(std::string& line, int timeout_ms);

 private:
  bool take_line(std::string& line);
  int fd_;
  size_t max_line_;
  std::string buf_;
  size_t pos_ = 0;   // start of the first unreturned line
  size_t scan_ = 0;  // buf_[pos_, scan_) holds no newline
};

// "ab\x01..." : the start of an untrusted line, printable.
std::string excerpt(const std::string& s, size_t n = 60);

}  // namespace fsfault::vm
