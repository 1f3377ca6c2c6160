// Blocking socket I/O used by negotiation and the transmission phase: exact
// reads through a small buffer (many request headers per recv), and complete
// vectored writes. Returns false on EOF or error; never throws.
#pragma once

#include <sys/socket.h>
#include <sys/uio.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace fsfault::nbd {

class SocketReader {
 public:
  explicit SocketReader(int fd, std::size_t buffer = 64 * 1024) : fd_(fd), buf_(buffer) {}
  // Reads exactly n bytes into dst. False on EOF/error (errno is kept).
  bool read_exact(void* dst, std::size_t n);
  // Reads and drops n bytes.
  bool discard(std::uint64_t n);
  // Every later read must finish within `ms` milliseconds in total (0 = no
  // deadline): bounds a whole exchange, not each recv(2), so a client
  // trickling one byte at a time is cut off too.
  void set_deadline_ms(unsigned ms);
  int fd() const { return fd_; }
  // Bytes already received and not yet consumed.
  std::size_t buffered() const { return end_ - begin_; }

 private:
  bool fill();
  // Before each recv: arms SO_RCVTIMEO with the time left; false when none is.
  bool arm_deadline();
  int fd_;
  std::chrono::steady_clock::time_point deadline_{};
  bool has_deadline_ = false;
  std::vector<std::uint8_t> buf_;
  std::size_t begin_ = 0, end_ = 0;
};

bool write_all(int fd, const void* data, std::size_t n);
// Writes every byte of iov[0..count) (any count: IOV_MAX at a time); iov is modified. `send`
// is sendmsg(2) or a stand-in with its contract (storage/mapped_page_order.h has one).
using SendMsg = ssize_t (*)(int fd, const struct msghdr* msg, int flags);
bool writev_all(int fd, struct iovec* iov, int count, SendMsg send = ::sendmsg);

// A signal-safe way to wake blocked connections: shutdown(2) the socket.
void shutdown_read(int fd);
// SO_RCVTIMEO in seconds (0 = wait forever).
void set_receive_timeout(int fd, unsigned seconds);
void shutdown_both(int fd);

}  // namespace fsfault::nbd
