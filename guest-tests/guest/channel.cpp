#include "guest-tests/guest/channel.h"

#include "guest-tests/guest/clock.h"
#include "guest-tests/guest/console.h"
#include "guest-tests/guest/small_files.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace fsfault::guest {

using json = nlohmann::json;

bool Channel::open_port() {
  // devtmpfs names virtio-serial ports vportNpM; the host names ours.
  for (int attempt = 0; attempt < 200; ++attempt) {
    if (DIR* d = opendir("/sys/class/virtio-ports")) {
      while (dirent* e = readdir(d)) {
        if (e->d_name[0] == '.') continue;
        std::string base = std::string("/sys/class/virtio-ports/") + e->d_name;
        auto name = read_whole_file(base + "/name");
        if (name && name->rfind("fsfault.ctl", 0) == 0) {
          std::string dev = std::string("/dev/") + e->d_name;
          fd_ = open(dev.c_str(), O_RDWR | O_CLOEXEC);
          if (fd_ >= 0) {
            closedir(d);
            return true;
          }
        }
      }
      closedir(d);
    }
    usleep(25000);
  }
  return false;
}

void Channel::send(const json& j) {
  std::string line = j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
  const char* p = line.data();
  size_t left = line.size();
  while (left > 0) {
    ssize_t r = write(fd_, p, left);
    if (r < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {
        usleep(1000);
        continue;
      }
      console(std::string("channel write failed: ") + strerror(errno));
      return;
    }
    p += r;
    left -= static_cast<size_t>(r);
  }
}

std::optional<json> Channel::recv(int timeout_ms) {
  long long deadline = now_ms() + timeout_ms;
  for (;;) {
    // Scan only bytes not scanned yet: a plan with shipped files is megabytes on one line,
    // and rescanning it after every 64 KiB read is quadratic (minutes under TCG).
    auto nl = buf_.find('\n', scanned_);
    scanned_ = nl == std::string::npos ? buf_.size() : 0;
    if (nl != std::string::npos) {
      std::string line = buf_.substr(0, nl);
      buf_.erase(0, nl + 1);
      if (line.empty()) continue;
      try {
        return json::parse(line);
      } catch (const std::exception& e) {
        console(std::string("bad line from host: ") + e.what());
        continue;
      }
    }
    long long left = deadline - now_ms();
    if (left <= 0) return std::nullopt;
    pollfd p{fd_, POLLIN, 0};
    int r = poll(&p, 1, static_cast<int>(left));
    if (r <= 0) continue;
    char tmp[65536];
    ssize_t n = read(fd_, tmp, sizeof tmp);
    if (n > 0) {
      buf_.append(tmp, static_cast<size_t>(n));
    } else {
      // POLLHUP while the host side is not connected yet: wait a little.
      usleep(10000);
    }
  }
}

Channel& host_channel() {
  static Channel channel;
  return channel;
}

}  // namespace fsfault::guest
