// Blocking socket I/O used by negotiation and the transmission phase: exact
// reads through a small buffer (many request headers per recv), and complete
// vectored writes. Returns false on EOF or error; never throws.
#pragma once

#include <sys/uio.h>

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
  int fd() const { return fd_; }
  // Bytes already received and not yet consumed.
  std::size_t buffered() const { return end_ - begin_; }

 private:
  bool fill();
  int fd_;
  std::vector<std::uint8_t> buf_;
  std::size_t begin_ = 0, end_ = 0;
};

bool write_all(int fd, const void* data, std::size_t n);
// Writes every byte of iov[0..count); iov is modified.
bool writev_all(int fd, struct iovec* iov, int count);

// A signal-safe way to wake blocked connections: shutdown(2) the socket.
void shutdown_read(int fd);
// SO_RCVTIMEO in seconds (0 = wait forever).
void set_receive_timeout(int fd, unsigned seconds);
void shutdown_both(int fd);

}  // namespace fsfault::nbd
