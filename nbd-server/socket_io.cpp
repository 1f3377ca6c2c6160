#include "nbd-server/socket_io.h"

#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

namespace fsfault::nbd {

void SocketReader::set_deadline_ms(unsigned ms) {
  has_deadline_ = ms > 0;
  deadline_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  if (!has_deadline_) set_receive_timeout(fd_, 0);
}

bool SocketReader::arm_deadline() {
  if (!has_deadline_) return true;
  auto left = std::chrono::duration_cast<std::chrono::microseconds>(
      deadline_ - std::chrono::steady_clock::now());
  if (left.count() <= 0) {
    errno = ETIMEDOUT;
    return false;
  }
  struct timeval tv {};
  tv.tv_sec = static_cast<time_t>(left.count() / 1000000);
  tv.tv_usec = static_cast<suseconds_t>(left.count() % 1000000);
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return true;
}

bool SocketReader::fill() {
  begin_ = end_ = 0;
  for (;;) {
    if (!arm_deadline()) return false;
    ssize_t n = ::recv(fd_, buf_.data(), buf_.size(), 0);
    if (n > 0) {
      end_ = static_cast<std::size_t>(n);
      return true;
    }
    if (n == 0) return false;
    if (errno != EINTR) return false;
  }
}

bool SocketReader::read_exact(void* dst, std::size_t n) {
  auto* out = static_cast<std::uint8_t*>(dst);
  while (n > 0) {
    if (begin_ == end_) {
      // Large payloads go straight to the destination.
      if (n >= buf_.size()) {
        if (!arm_deadline()) return false;
        ssize_t r = ::recv(fd_, out, n, MSG_WAITALL);
        if (r > 0) {
          out += r;
          n -= static_cast<std::size_t>(r);
          continue;
        }
        if (r < 0 && errno == EINTR) continue;
        return false;
      }
      if (!fill()) return false;
    }
    std::size_t take = std::min(n, end_ - begin_);
    std::memcpy(out, buf_.data() + begin_, take);
    begin_ += take;
    out += take;
    n -= take;
  }
  return true;
}

bool SocketReader::discard(std::uint64_t n) {
  std::uint8_t scratch[4096];
  while (n > 0) {
    std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(n, sizeof scratch));
    if (!read_exact(scratch, take)) return false;
    n -= take;
  }
  return true;
}

bool write_all(int fd, const void* data, std::size_t n) {
  struct iovec iov {const_cast<void*>(data), n};
  return writev_all(fd, &iov, 1);
}

bool writev_all(int fd, struct iovec* iov, int count, SendMsg send) {
  while (count > 0) {
    struct msghdr msg {};
    msg.msg_iov = iov;
    msg.msg_iovlen = static_cast<std::size_t>(std::min(count, IOV_MAX));
    ssize_t n = send(fd, &msg, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    auto left = static_cast<std::size_t>(n);
    while (count > 0 && left >= iov->iov_len) {
      left -= iov->iov_len;
      ++iov;
      --count;
    }
    if (count > 0) {
      iov->iov_base = static_cast<std::uint8_t*>(iov->iov_base) + left;
      iov->iov_len -= left;
    }
  }
  return true;
}

void set_receive_timeout(int fd, unsigned seconds) {
  struct timeval tv {};
  tv.tv_sec = seconds;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

void shutdown_read(int fd) { ::shutdown(fd, SHUT_RD); }
void shutdown_both(int fd) { ::shutdown(fd, SHUT_RDWR); }

}  // namespace fsfault::nbd
