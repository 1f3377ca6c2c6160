// Shared plumbing for the fuzz targets: a small golden image in a private temp
// directory (removed at exit), and a socket pump that plays the client side of
// a socketpair — one thread feeds the fuzz input and then half-closes, another
// drains everything the server sends — so the server code under test never
// blocks on a full socket buffer or a missing EOF.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

namespace fsfault::fuzz {

// Path of a 1 MiB golden image with deterministic content, created on first
// use in a private temp directory that is removed at exit.
const std::string& golden_image();
// The private temp directory (for overlay files).
const std::string& temp_dir();

// Client side of a socketpair. The constructor starts both threads.
class ClientPump {
 public:
  ClientPump(int client_fd, const std::uint8_t* data, std::size_t size);
  ~ClientPump();
  // Waits for both threads; call after the server side shut its socket down.
  // Returns everything the server sent.
  const std::vector<std::uint8_t>& join();

 private:
  int fd_;
  std::vector<std::uint8_t> input_, output_;
  std::thread feeder_, drainer_;
  bool joined_ = false;
};

// socketpair(AF_UNIX, SOCK_STREAM) or abort.
void make_socketpair(int fds[2]);

}  // namespace fsfault::fuzz
