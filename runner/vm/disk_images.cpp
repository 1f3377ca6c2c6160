#include "runner/vm/disk_images.h"

#include "base/sha256.h"
#include "images/image.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
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

// A cache subfolder per recipe folder or file outside images/recipes: images are cached by the
// recipe's name, and a user's ext4-basic.toml must not replace the built-in one's image.
std::string keyed_dir(const std::string& cache, const char* kind, const fs::path& source) {
  base::Sha256 h;
  h.update(source.string());
  return cache + "/" + kind + "/" + h.hex_finish().substr(0, 16);
}

ImageRef build_recipe(const fs::path& recipe, const std::string& out_dir, std::ostream& log) {
  fs::create_directories(out_dir);
  // images/ keys its cache by recipe, builder and mkfs tool versions, so a tool upgrade rebuilds.
  auto built = images::build_image(recipe, out_dir);
  log << "image: " << recipe.string() << (built.cached ? " (cached) " : " (built) ") << built.image_path.string() << "\n";
  return ImageRef{built.image_path.string(), built.map_path.string()};
}

// The map of a disk without one: no targets, so the server resolves only sector rules. `fs` is
// what the guest mounts it as (guest_plan's default, ext4, for a raw image), so that repro reads
// ext4's error counter; "" for a blank disk.
std::string unmapped_map(const std::string& cache, const fs::path& img, const std::string& fs_type) {
  std::string dir = keyed_dir(cache, "unmapped", img);
  fs::create_directories(dir);
  std::string path = dir + "/" + img.stem().string() + (fs_type.empty() ? "" : "." + fs_type) + ".map.json";
  nlohmann::json j = {{"image", img.stem().string()},
                      {"fs", fs_type},
                      {"size_bytes", fs::file_size(img)},
                      {"sector_size", 512},
                      {"targets", nlohmann::json::object()}};
  std::ofstream(path + ".tmp") << j.dump(1) << '\n';
  fs::rename(path + ".tmp", path);
  return path;
}

// All zeros and sparse: no block is allocated until the overlay (not this file) is written.
std::string blank_image(const std::string& cache, std::uint64_t bytes) {
  std::string dir = cache + "/blank";
  fs::create_directories(dir);
  std::string path = dir + "/blank-" + std::to_string(bytes) + ".img";
  std::error_code ec;
  if (fs::file_size(path, ec) == bytes && !ec) return path;
  { std::ofstream create(path + ".tmp", std::ios::binary | std::ios::trunc); }
  fs::resize_file(path + ".tmp", bytes);
  fs::rename(path + ".tmp", path);
  return path;
}

}  // namespace

ImageRef ensure_disk_image(const DiskSpec& disk, const std::vector<std::string>& recipe_dirs,
                           const std::string& cache_dir, std::ostream& log) {
  std::string dir = fs::absolute(cache_dir).string();
  fs::create_directories(dir);
  CacheLock lock(dir);
  switch (disk.source) {
    case DiskSource::recipe_name: {
      std::vector<fs::path> dirs(recipe_dirs.begin(), recipe_dirs.end());
      fs::path recipe = images::recipe_path_for(disk.image, dirs);
      bool builtin = !dirs.empty() && recipe.parent_path() == dirs.front();
      return build_recipe(recipe, builtin ? dir : keyed_dir(dir, "recipes", recipe.parent_path()), log);
    }
    case DiskSource::recipe_file:
      return build_recipe(disk.path, keyed_dir(dir, "recipe-files", disk.path), log);
    case DiskSource::raw_image:
      log << "image: " << disk.path << " (raw" << (disk.map.empty() ? ", no map" : ", map " + disk.map) << ")\n";
      return ImageRef{disk.path, disk.map.empty() ? unmapped_map(dir, disk.path, disk.fs.empty() ? "ext4" : disk.fs) : disk.map};
    case DiskSource::blank: {
      std::string img = blank_image(dir, disk.blank_bytes);
      log << "image: blank, " << disk.blank_bytes << " bytes " << img << "\n";
      return ImageRef{img, unmapped_map(dir, img, "")};
    }
  }
  throw std::logic_error("unknown disk source");
}

}  // namespace fsfault::vm
