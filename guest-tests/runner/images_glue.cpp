#include "guest-tests/runner/images_glue.h"

#include "faults/target_map.h"
#include "guest-tests/runner/util.h"
#include "guest-tests/vm_config.h"
#include "images/process.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <sstream>
#include <stdexcept>

namespace fsfault::vm {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

// Development stand-in for images/: ext4 with /data/f1 (one 4 KiB block),
// its inode number and sectors taken from debugfs.
ImageRef builtin_ext4_basic(const std::string& dir, std::ostream& log) {
  ImageRef r{dir + "/ext4-basic.img", dir + "/ext4-basic.map.json"};
  if (exists(r.img) && exists(r.map)) return r;
  log << "image: building ext4-basic with the runner's built-in fallback (images/ not linked)\n";
  std::string root = dir + "/ext4-basic.root";
  fs::remove_all(root);
  fs::create_directories(root + "/data");
  write_file(root + "/data/f1", std::string(4096, 'x'));
  std::string tmp = r.img + ".tmp";
  fs::remove(tmp);
  auto mkfs = images::run_process({"mkfs.ext4", "-q", "-F", "-b", "4096", "-E", "root_owner=0:0", "-U",
                                   "c0ffee00-0000-4000-8000-000000000001", "-d", root, tmp, "64M"});
  if (mkfs.exit_code != 0) throw std::runtime_error("mkfs.ext4: " + mkfs.err);
  faults::TargetMap map;
  map.image = "ext4-basic";
  map.fs = "ext4";
  map.size_bytes = 64 << 20;
  for (auto p : {"/data/f1", "/data"}) {
    std::string o = images::run_process({"debugfs", "-R", std::string("stat ") + p, tmp}).out;
    long long ino = -1, gen = 0;
    auto ip = o.find("Inode: ");
    if (ip != std::string::npos) ino = std::stoll(o.substr(ip + 7));
    auto gp = o.find("Generation: ");
    if (gp != std::string::npos) gen = std::stoll(o.substr(gp + 12));
    // Inode table block: debugfs imap prints "located at block B, offset 0xO".
    std::string o2 = images::run_process({"debugfs", "-R", "imap " + std::string(p), tmp}).out;
    faults::Target& t = map.entry(std::string("inode:") + p);
    auto bp = o2.find("located at block ");
    if (bp != std::string::npos) {
      long long blk = std::stoll(o2.substr(bp + 17));
      auto op = o2.find("offset 0x", bp);
      long long off = op == std::string::npos ? 0 : std::stoll(o2.substr(op + 9), nullptr, 16);
      long long sec = blk * 8 + off / 512;
      t.add_sectors(sec, sec);
    }
    if (ino >= 0) t.ino = ino;
    t.gen = gen;
  }
  fs::rename(tmp, r.img);
  map.save_file(r.map);  // validates: a failed imap leaves a target without ranges
  fs::remove_all(root);
  return r;
}

}  // namespace

ImageRef ensure_image(const std::string& name, const std::string& recipes_dir, const std::string& cache_dir,
                      std::ostream& log) {
  std::string dir = fs::absolute(cache_dir).string();
  fs::create_directories(dir);
  int lk = open((dir + "/.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lk >= 0) flock(lk, LOCK_EX);
  struct Unlock {
    int fd;
    ~Unlock() {
      if (fd >= 0) close(fd);
    }
  } unlock{lk};
  std::string recipe = recipes_dir + "/" + name + ".toml";
  ImageRef r{dir + "/" + name + ".img", dir + "/" + name + ".map.json"};
#if FSFAULT_HAVE_IMAGES
  if (exists(recipe)) {
    // Rebuild when the recipe changed (its hash is kept beside the image).
    std::string stamp = dir + "/" + name + ".recipe-hash";
    std::string h = hex64(fnv1a(read_file(recipe)));
    std::string old;
    try {
      old = read_file(stamp);
    } catch (...) {
    }
    if (exists(r.img) && exists(r.map) && old == h) return r;
    log << "image: fsfault image build " << recipe << "\n";
    auto built = images::run_process({self_exe(), "image", "build", recipe, "--out", dir});
    if (built.exit_code != 0)
      throw std::runtime_error("fsfault image build " + recipe + " failed: " + built.err + built.out);
    if (!exists(r.img) || !exists(r.map))
      throw std::runtime_error("fsfault image build " + recipe + " did not produce " + r.img + " and " + r.map);
    write_file(stamp, h);
    return r;
  }
#endif
  if (name == "ext4-basic") return builtin_ext4_basic(dir + "/builtin", log);
  throw std::runtime_error("no recipe for image '" + name + "' (looked for " + recipe + ")");
}

}  // namespace fsfault::vm
