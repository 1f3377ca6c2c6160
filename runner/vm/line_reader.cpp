#include "runner/vm/line_reader.h"

#include "runner/vm/elapsed.h"
#include "process/process.h"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>

namespace fsfault::vm {

bool LineReader::take_line(std::string& line) {
  auto nl = buf_.find('\n', scan_);
  if (nl == std::string::npos) {
    scan_ = buf_.size();
    return false;
  }
  line.assign(buf_, pos_, nl - pos_);
  pos_ = scan_ = nl + 1;
  if (pos_ == buf_.size()) {
    buf_.clear();
    pos_ = scan_ = 0;
  }
  return true;
}

LineReader::Status LineReader::next(std::string& line, int timeout_ms) {
  auto t0 = Clock::now();
  for (;;) {
    if (take_line(line)) return Status::line;
    if (buf_.size() - pos_ > max_line_) return Status::too_long;
    if (pos_ > 0) {  // compact only when no line is left: one move per read, not per line
      buf_.erase(0, pos_);
      scan_ -= pos_;
      pos_ = 0;
    }
    int left = timeout_ms - static_cast<int>(ms_since(t0));
    if (left <= 0) return Status::timeout;
    pollfd p{fd_, POLLIN, 0};
    int r = poll(&p, 1, std::min(left, 200));
    if (r < 0 && errno != EINTR) return Status::closed;
    if (proc::termination_signal()) return Status::closed;
    if (r <= 0) continue;
    char b[65536];
    ssize_t n = read(fd_, b, sizeof b);
    if (n == 0) return Status::closed;
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return Status::closed;
    }
    buf_.append(b, static_cast<size_t>(n));
  }
}

std::string excerpt(const std::string& s, size_t n) {
  std::string o;
  for (size_t i = 0; i < s.size() && i < n; ++i) {
    unsigned char ch = static_cast<unsigned char>(s[i]);
    if (ch >= 0x20 && ch < 0x7f) {
      o += static_cast<char>(ch);
    } else {
      char b[8];
      snprintf(b, sizeof b, "\\x%02x", ch);
      o += b;
    }
  }
  return o + (s.size() > n ? "..." : "");
}

}  // namespace fsfault::vm
