#include "runner/kernel/kernel.h"

#include "base/files.h"
#include "base/sha256.h"
#include "runner/kernel/debian_kernel.h"
#include "runner/kernel/kernel_build.h"
#include "runner/kernel/modules.h"
#include "runner/kernel/run_tool.h"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace fsfault::vm {

namespace fs = std::filesystem;

namespace {

// The modules directory the user's --modules names: the tree itself, or the one release under
// its lib/modules or usr/lib/modules.
std::string find_modules_tree(const std::string& modules_dir) {
  const std::string d = fs::absolute(modules_dir).string();
  if (base::exists(d + "/modules.order") || base::exists(d + "/modules.dep") || base::exists(d + "/modules.builtin"))
    return d;
  for (auto parent : {d + "/lib/modules", d + "/usr/lib/modules"})
    for (auto& r : list_dir(parent)) return parent + "/" + r;
  throw std::runtime_error("--modules " + modules_dir + ": no modules tree found");
}

// libkmod reads modules.dep.bin. A `make modules_install INSTALL_MOD_PATH=` tree has it; an
// extracted package (or a bare copy) may not. depmod -b wants <base>/lib/modules/<release>:
// give it one whose <release> links to the tree, so the indexes land in the tree itself.
void index_modules_tree(const std::string& tree, const std::string& release, const std::string& cache_dir) {
  if (base::exists(tree + "/modules.dep.bin")) return;
  const std::string depmod_base = fs::absolute(cache_dir).string() + "/depmod-base";
  fs::remove_all(depmod_base);
  fs::create_directories(depmod_base + "/lib/modules");
  fs::create_directory_symlink(tree, depmod_base + "/lib/modules/" + release);
  try {
    run_depmod(depmod_base, release);
  } catch (...) {
    fs::remove_all(depmod_base);
    throw;
  }
  fs::remove_all(depmod_base);
  if (!base::exists(tree + "/modules.dep.bin")) throw std::runtime_error("depmod -b for " + tree + " wrote no modules.dep.bin");
}

// The build tree a bzImage sits in (TREE/arch/x86/boot/bzImage), "" when it is not in one.
std::string tree_of_image(const std::string& image) {
  fs::path p = fs::path(image);
  if (p.filename() != "bzImage" || p.parent_path().filename() != "boot") return "";
  fs::path tree = p.parent_path().parent_path().parent_path().parent_path();
  return base::exists((tree / ".config").string()) ? tree.string() : "";
}

// A tree's modules, installed once per build (keyed by its bzImage and modules.order) into the
// cache: `make modules_install` writes only below INSTALL_MOD_PATH, never into the tree.
std::string install_tree_modules(const std::string& tree, const std::string& cache_dir, std::ostream& log) {
  base::Sha256 key;
  key.update(tree + "\n" + base::sha256_file(tree + "/arch/x86/boot/bzImage") + "\n");
  key.update(base::read_file(tree + "/modules.order"));
  const std::string dir = fs::absolute(cache_dir).string() + "/trees/" + key.hex_finish().substr(0, 16);
  if (base::exists(dir + "/.complete")) return dir;
  DirLock lock(fs::path(dir).parent_path().string());
  const std::string tmp = dir + ".tmp";
  fs::remove_all(tmp);
  fs::create_directories(tmp);
  log << "kernel: make -C " << tree << " modules_install INSTALL_MOD_PATH=" << dir << "\n";
  auto r = run_tool({"make", "-C", tree, "-s", "modules_install", "INSTALL_MOD_PATH=" + tmp, "DEPMOD=true"}, 600);
  if (r.exit_code != 0) {
    fs::remove_all(tmp);
    throw std::runtime_error("make -C " + tree + " modules_install failed: " + trim(r.err));
  }
  base::write_file(tmp + "/.complete", tree + "\n");
  fs::remove_all(dir);
  fs::rename(tmp, dir);
  return dir;
}

// --kernel DIR: the tree's bzImage, its .config, and its modules when it built any.
std::string tree_image(const std::string& tree) {
  const std::string image = tree + "/arch/x86/boot/bzImage";
  if (!base::exists(image))
    throw std::runtime_error("--kernel " + tree + ": not a kernel build tree (no arch/x86/boot/bzImage; run make first)");
  return image;
}

KernelInfo provision_user_kernel(const std::string& path, std::string modules_dir, const std::string& cache_dir,
                                 std::ostream& log) {
  if (!base::exists(path))
    throw std::runtime_error("--kernel " + path +
                             ": neither a known name (bookworm, trixie, sid, or one `fsfault kernel build` made) nor a file");
  KernelInfo k;
  k.label = path;
  if (fs::is_directory(path)) {
    k.tree = fs::absolute(path).lexically_normal().string();
    if (k.tree.size() > 1 && k.tree.back() == '/') k.tree.pop_back();
    k.image = tree_image(k.tree);
    if (modules_dir.empty() && base::exists(k.tree + "/modules.order"))
      modules_dir = install_tree_modules(k.tree, cache_dir, log);
  } else {
    k.image = fs::absolute(path).string();
    k.tree = tree_of_image(k.image);
  }
  k.version_string = bzimage_version(k.image);
  k.version = parse_kernel_version(k.version_string);
  if (!modules_dir.empty()) {
    k.modules_dir = find_modules_tree(modules_dir);
    k.release = fs::path(k.modules_dir).filename().string();
    index_modules_tree(k.modules_dir, k.release, cache_dir);
  }
  log << "kernel: " << k.image << " (" << (k.version_string.empty() ? "version unknown" : k.version_string) << ")"
      << (k.modules_dir.empty() ? ", no modules" : ", modules " + k.modules_dir) << "\n";
  return k;
}

void discover_config(KernelInfo& k, std::ostream& log) {
  k.config = find_kernel_config(k.image, k.tree, k.release);
  if (k.config)
    log << "kernel config: " << k.config->origin() << " (" << k.config->size() << " options)\n";
  else
    log << "kernel config: none found before boot (no .config in a tree, no config file beside " << k.image
        << ", no IKCONFIG in it): CONFIG requirements are not checked\n";
}

}  // namespace

KernelInfo provision_kernel(const std::string& name, const std::string& modules_dir, const std::string& cache_dir,
                            std::ostream& log) {
  // A name `fsfault kernel build` gave (fi-sid): the run's cache (--cache, whose kernels/ is
  // cache_dir) first, then the machine's.
  std::string built = built_kernel_path(fs::path(fs::absolute(cache_dir)).parent_path().string(), name);
  if (built.empty()) built = built_kernel_path(machine_cache_root(), name);
  KernelInfo k;
  if (!built.empty()) {
    k = provision_user_kernel(built, modules_dir, cache_dir, log);
    k.label = name;
  } else if (name.find('/') != std::string::npos || base::exists(name) || debian_suite(name).empty()) {
    k = provision_user_kernel(name, modules_dir, cache_dir, log);
  } else {
    k = provision_debian_kernel(name, cache_dir, log);
  }
  discover_config(k, log);
  return k;
}

std::string bzimage_version(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  char hdr[0x210];
  if (!in.read(hdr, sizeof hdr)) return "";
  if (memcmp(hdr + 0x202, "HdrS", 4) != 0) return "";
  unsigned short ptr = 0;
  memcpy(&ptr, hdr + 0x20e, 2);
  if (ptr == 0) return "";
  in.seekg(ptr + 0x200);
  char buf[256] = {};
  in.read(buf, sizeof buf - 1);
  return std::string(buf, strnlen(buf, sizeof buf - 1));
}

}  // namespace fsfault::vm
