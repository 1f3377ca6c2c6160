#include "fuzz/fuzz_support.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace fsfault::fuzz {

namespace {

struct TempTree {
  std::string dir, image;
  TempTree() {
    const char* t = std::getenv("TMPDIR");
    std::string tmpl = std::string(t && *t ? t : "/tmp") + "/fsfault-fuzz.XXXXXX";
    if (!::mkdtemp(tmpl.data())) {
      std::perror("mkdtemp");
      std::abort();
    }
    dir = tmpl;
    image = dir + "/golden.img";
    std::vector<char> bytes(1 << 20);
    std::uint32_t x = 0x12345678;
    for (auto& b : bytes) {
      x = x * 1664525u + 1013904223u;
      b = static_cast<char>(x >> 24);
    }
    std::ofstream(image, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  ~TempTree() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

TempTree& tree() {
  static TempTree t;
  return t;
}

}  // namespace

const std::string& golden_image() { return tree().image; }
const std::string& temp_dir() { return tree().dir; }

void make_socketpair(int fds[2]) {
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
    std::perror("socketpair");
    std::abort();
  }
}

ClientPump::ClientPump(int client_fd, const std::uint8_t* data, std::size_t size)
    : fd_(client_fd), input_(data, data + size) {
  feeder_ = std::thread([this] {
    std::size_t off = 0;
    while (off < input_.size()) {
      ssize_t n = ::send(fd_, input_.data() + off, input_.size() - off, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;  // the server closed its side
      off += static_cast<std::size_t>(n);
    }
    ::shutdown(fd_, SHUT_WR);
  });
  drainer_ = std::thread([this] {
    std::uint8_t buf[65536];
    for (;;) {
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      output_.insert(output_.end(), buf, buf + n);
    }
  });
}

const std::vector<std::uint8_t>& ClientPump::join() {
  if (!joined_) {
    feeder_.join();
    drainer_.join();
    joined_ = true;
  }
  return output_;
}

ClientPump::~ClientPump() {
  join();
  ::close(fd_);
}

}  // namespace fsfault::fuzz
