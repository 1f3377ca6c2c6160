#include "runner/vm/disk_images.h"

#include "images/image.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <filesystem>
#include <stdexcept>

namespace fsfault::vm {

namespace fs = std::filesystem;

namespace {

// One builder per cache directory at a time: parallel scenarios (--jobs) share the images.
class CacheLock {
 public:
  explicit CacheLock(const std::string& dir) : fd_(open((dir + "/.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644)) {
    if (fd_ >= 0) flock(fd_, LOCK_EX);
  }
  ~CacheLock() {
    if (fd_ >= 0) close(fd_);
  }
  CacheLock(const CacheLock&) = delete;
  CacheLock& operator=(const CacheLock&) = delete;

 private:
  int fd_;
};

}  // namespace

ImageRef ensure_image(const std::string& name, const std::string& recipes_dir, const std::string& cache_dir,
                      std::ostream& log) {
  std::string dir = fs::absolute(cache_dir).string();
  fs::create_directories(dir);
  CacheLock lock(dir);
  // images/ keys its cache by recipe, builder and mkfs tool versions, so a tool upgrade rebuilds.
  auto built = images::build_named_image(name, recipes_dir, dir);
  log << "image: " << name << (built.cached ? " (cached) " : " (built) ") << built.image_path.string() << "\n";
  return ImageRef{built.image_path.string(), built.map_path.string()};
}

}  // namespace fsfault::vm
