// The two-way line channel to the host: the virtio-serial port the host names "fsfault.ctl",
// one JSON object per line in each direction.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace fsfault::guest {

class Channel {
 public:
  // Finds and opens the port (retries for ~5 s while the driver probes); false when absent.
  bool open_port();
  // Writes one whole line; a failure is reported on the console only.
  void send(const nlohmann::json& j);
  // Blocks for one line (the host always answers); nullopt after timeout_ms.
  std::optional<nlohmann::json> recv(int timeout_ms);
  int fd() const { return fd_; }

 private:
  int fd_ = -1;
  std::string buf_;
  size_t scanned_ = 0;  // buf_[0, scanned_) holds no newline
};

// The one channel of this guest (the port opens only once).
Channel& host_channel();

}  // namespace fsfault::guest
