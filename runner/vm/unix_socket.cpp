#include "runner/vm/unix_socket.h"

#include "runner/vm/elapsed.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <thread>

namespace fsfault::vm {

namespace {

sockaddr_un unix_addr(const std::string& path) {
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  if (path.size() >= sizeof a.sun_path) throw std::runtime_error("socket path too long: " + path);
  memcpy(a.sun_path, path.c_str(), path.size() + 1);
  return a;
}

int connect_unix(const std::string& path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_un a = unix_addr(path);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0) {
    close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

Connection connect_retry(const std::string& path, int timeout_ms, proc::Child& server) {
  auto t0 = Clock::now();
  for (;;) {
    int fd = connect_unix(path);
    if (fd >= 0) return {Connection::Status::connected, fd};
    if (server.running() && server.wait_for(std::chrono::milliseconds(0))) return {Connection::Status::server_exited};
    if (ms_since(t0) > timeout_ms || proc::termination_signal()) return {Connection::Status::gave_up};
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
}

int listen_unix(const std::string& path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un a = unix_addr(path);
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0 || listen(fd, 1) < 0) {
    if (fd >= 0) close(fd);
    throw std::runtime_error("cannot listen on " + path);
  }
  return fd;
}

bool send_line(int fd, const std::string& s) {
  std::string l = s + "\n";
  size_t off = 0;
  while (off < l.size()) {
    ssize_t n = send(fd, l.data() + off, l.size() - off, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    off += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace fsfault::vm
