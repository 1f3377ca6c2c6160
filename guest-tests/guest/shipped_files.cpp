#include "guest-tests/guest/shipped_files.h"

#include "base/errno_names.h"
#include "guest-tests/guest/base64_decode.h"
#include "guest-tests/guest/records.h"
#include "guest-tests/guest/small_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace fsfault::guest {

using json = nlohmann::json;

namespace {

// Creates dst with data and mode; 0 or the errno.
int write_new_file(const std::string& dst, const std::string& data, int mode) {
  int fd = open(dst.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return errno;
  int err = 0;
  size_t off = 0;
  while (off < data.size() && !err) {
    ssize_t w = write(fd, data.data() + off, data.size() - off);
    if (w < 0 && errno != EINTR) err = errno;
    if (w > 0) off += static_cast<size_t>(w);
  }
  if (!err && fchmod(fd, static_cast<mode_t>(mode)) < 0) err = errno;
  if (close(fd) < 0 && !err) err = errno;
  return err;
}

}  // namespace

void put_shipped_file(const json& f) {
  std::string dst = f.value("dst", std::string());
  int mode = f.value("mode", 0644);
  json out{{"type", "file"}, {"dst", dst}, {"mode", mode}};
  int err = 0;
  auto data = base64_decode(f.value("base64", std::string()));
  if (!data) {
    err = EINVAL;
    out["detail"] = "bad base64";
  } else if (data->size() != f.value("bytes", data->size())) {
    err = EINVAL;
    out["detail"] = "size mismatch";
  } else if ((err = mkdir_parents(dst)) == 0) {
    err = write_new_file(dst, *data, mode);
    out["bytes"] = data->size();
  }
  out["errno"] = err;
  out["errno_name"] = fsfault::base::errno_name(err);
  out["ok"] = err == 0;
  record(out);
}

}  // namespace fsfault::guest
