#include "runner/vm/run_dir.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

namespace fsfault::vm {

namespace fs = std::filesystem;

namespace {
constexpr const char* kLock = "owner.lock";
}

RunDir::RunDir(const std::string& prefix, const std::string& tmp) {
  std::string tmpl = tmp + "/" + prefix + ".XXXXXX";
  if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp " + tmpl + ": " + std::strerror(errno));
  path_ = tmpl;
  // Locked under a temporary name, then renamed: a sweeper never sees an
  // owner.lock that is not locked yet.
  const std::string pending = path_ + "/" + kLock + ".new";
  lock_fd_ = open(pending.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd_ < 0 || flock(lock_fd_, LOCK_EX) != 0 || rename(pending.c_str(), (path_ + "/" + kLock).c_str()) != 0) {
    int e = errno;
    if (lock_fd_ >= 0) close(lock_fd_);
    std::error_code ec;
    fs::remove_all(path_, ec);
    throw std::runtime_error("locking " + path_ + ": " + std::strerror(e));
  }
}

RunDir::~RunDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
  close(lock_fd_);  // after the removal: a sweeper must not race us for it
}

std::vector<std::string> sweep_stale_run_dirs(const std::string& prefix, const std::string& tmp) {
  std::vector<std::string> removed;
  std::error_code ec;
  const std::string stem = prefix + ".";
  for (auto& e : fs::directory_iterator(tmp, ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind(stem, 0) != 0 || !e.is_directory(ec) || e.is_symlink(ec)) continue;
    int fd = open((e.path() / kLock).c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) continue;
    if (flock(fd, LOCK_EX | LOCK_NB) == 0) {  // nobody holds it: the owner is dead
      std::error_code rec;
      fs::remove_all(e.path(), rec);
      if (!rec) removed.push_back(e.path().string());
    }
    close(fd);
  }
  return removed;
}

}  // namespace fsfault::vm
