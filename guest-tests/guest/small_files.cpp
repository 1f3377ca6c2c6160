#include "guest-tests/guest/small_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace fsfault::guest {

bool write_existing_file(const std::string& path, const std::string& data) {
  int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  ssize_t r = write(fd, data.data(), data.size());
  int e = errno;
  close(fd);
  errno = e;
  return r == static_cast<ssize_t>(data.size());
}

std::optional<std::string> read_whole_file(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t r = read(fd, buf, sizeof buf);
    if (r < 0) {
      int e = errno;
      close(fd);
      errno = e;
      return std::nullopt;
    }
    if (r == 0) break;
    out.append(buf, static_cast<size_t>(r));
  }
  close(fd);
  return out;
}

int mkdir_parents(const std::string& path) {
  for (size_t i = path.find('/', 1); i != std::string::npos; i = path.find('/', i + 1))
    if (mkdir(path.substr(0, i).c_str(), 0755) < 0 && errno != EEXIST) return errno;
  return 0;
}

}  // namespace fsfault::guest
