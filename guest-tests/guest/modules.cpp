#include "guest-tests/guest/modules.h"

#include "guest-tests/guest/console.h"
#include "guest-tests/guest/small_files.h"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace fsfault::guest {

void load_modules() {
  auto list = read_whole_file("/etc/fsfault/modules.load");
  if (!list) return;
  size_t pos = 0;
  while (pos < list->size()) {
    size_t nl = list->find('\n', pos);
    std::string path = list->substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    pos = nl == std::string::npos ? list->size() : nl + 1;
    if (path.empty()) continue;
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      console("cannot open module " + path);
      continue;
    }
    if (syscall(SYS_finit_module, fd, "", 0) < 0 && errno != EEXIST)
      console("finit_module " + path + ": " + strerror(errno));
    close(fd);
  }
}

}  // namespace fsfault::guest
