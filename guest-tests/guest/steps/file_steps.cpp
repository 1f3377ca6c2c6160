// stat, lstat, read, write, append, create, mkdir, readdir, fsync, hold, unlink, rmdir: one
// syscall (or a loop of them) on the step's path.
#include "guest-tests/guest/steps/step.h"

#include "guest-tests/guest/disks.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

namespace fsfault::guest {

namespace {

int stat_path(const StepCall& c, bool follow) {
  struct stat st{};
  std::string p = step_path(c.spec);
  if ((follow ? stat(p.c_str(), &st) : lstat(p.c_str(), &st)) < 0) return errno;
  c.out["ino"] = st.st_ino;
  c.out["size"] = st.st_size;
  c.out["mode"] = st.st_mode;
  return 0;
}

// Writes `bytes` of the repeated pattern at `offset` (or appends); fsync on request.
int write_pattern(const StepCall& c, bool append) {
  const auto& s = c.spec;
  int flags = O_WRONLY | O_CLOEXEC | (s.value("create", true) ? O_CREAT : 0) | (append ? O_APPEND : 0);
  if (s.value("truncate", false)) flags |= O_TRUNC;
  int fd = open(step_path(s).c_str(), flags, 0644);
  if (fd < 0) return errno;
  int err = 0;
  long long want = s.value("bytes", 4096LL), total = 0;
  long long off = s.value("offset", 0LL);
  std::string pat = s.value("pattern", std::string("fsfault"));
  std::vector<char> buf(65536);
  for (size_t i = 0; i < buf.size(); ++i) buf[i] = pat[i % pat.size()];
  while (total < want) {
    size_t chunk = static_cast<size_t>(std::min<long long>(want - total, static_cast<long long>(buf.size())));
    ssize_t r = append ? write(fd, buf.data(), chunk) : pwrite(fd, buf.data(), chunk, off + total);
    if (r < 0) {
      err = errno;
      break;
    }
    total += r;
  }
  c.out["bytes"] = total;
  if (!err && s.value("fsync", false) && fsync(fd) < 0) err = errno;
  if (close(fd) < 0 && !err) err = errno;
  return err;
}

}  // namespace

int run_stat(const StepCall& c) { return stat_path(c, true); }
int run_lstat(const StepCall& c) { return stat_path(c, false); }

// Reads `bytes` (all by default) from `offset`, O_DIRECT on request.
int run_read(const StepCall& c) {
  const auto& s = c.spec;
  int fd = open(step_path(s).c_str(), O_RDONLY | O_CLOEXEC | (s.value("direct", false) ? O_DIRECT : 0));
  if (fd < 0) return errno;
  int err = 0;
  long long want = s.value("bytes", -1LL), total = 0;
  long long off = s.value("offset", 0LL);
  alignas(4096) static unsigned char buf[1 << 16];  // aligned for O_DIRECT
  for (;;) {
    size_t chunk = sizeof buf;
    if (want >= 0 && want - total < static_cast<long long>(chunk)) chunk = static_cast<size_t>(want - total);
    if (chunk == 0) break;
    ssize_t r = pread(fd, buf, chunk, off + total);
    if (r < 0) {
      err = errno;
      break;
    }
    if (r == 0) break;
    total += r;
  }
  c.out["bytes"] = total;
  close(fd);
  return err;
}

int run_write(const StepCall& c) { return write_pattern(c, false); }
int run_append(const StepCall& c) { return write_pattern(c, true); }

// Creates `count` empty files <prefix>0, <prefix>1, ... in the step's directory.
int run_create(const StepCall& c) {
  std::string dir = step_path(c.spec);
  int count = c.spec.value("count", 1);
  std::string prefix = c.spec.value("prefix", std::string("f"));
  int err = 0, made = 0;
  for (int i = 0; i < count; ++i) {
    std::string p = dir + "/" + prefix + std::to_string(i);
    int fd = open(p.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
      err = errno;
      break;
    }
    close(fd);
    ++made;
  }
  c.out["created"] = made;
  return err;
}

int run_mkdir(const StepCall& c) { return mkdir(step_path(c.spec).c_str(), 0755) < 0 ? errno : 0; }

int run_readdir(const StepCall& c) {
  DIR* d = opendir(step_path(c.spec).c_str());
  if (!d) return errno;
  int err = 0, n = 0;
  errno = 0;
  while (readdir(d)) ++n;
  if (errno) err = errno;
  c.out["entries"] = n;
  closedir(d);
  return err;
}

int run_fsync(const StepCall& c) {
  int fd = open(step_path(c.spec).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  int err = fsync(fd) < 0 ? errno : 0;
  close(fd);
  return err;
}

// Keeps a file or directory open until the guest powers off: its dentry and inode survive
// drop-caches, so a later lookup below it reads only the child's metadata from the device.
int run_hold(const StepCall& c) {
  int fd = open(step_path(c.spec).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  c.out["fd"] = fd;
  return 0;
}

int run_unlink(const StepCall& c) { return unlink(step_path(c.spec).c_str()) < 0 ? errno : 0; }
int run_rmdir(const StepCall& c) { return rmdir(step_path(c.spec).c_str()) < 0 ? errno : 0; }

}  // namespace fsfault::guest
