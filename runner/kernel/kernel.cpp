#include "runner/kernel/kernel.h"

#include "base/files.h"
#include "runner/kernel/debian_kernel.h"
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

KernelInfo provision_user_kernel(const std::string& path, const std::string& modules_dir, const std::string& cache_dir,
                                 std::ostream& log) {
  if (!base::exists(path))
    throw std::runtime_error("--kernel " + path + ": neither a known name (bookworm, trixie, sid) nor a file");
  KernelInfo k;
  k.label = path;
  k.image = fs::absolute(path).string();
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

}  // namespace

KernelInfo provision_kernel(const std::string& name, const std::string& modules_dir, const std::string& cache_dir,
                            std::ostream& log) {
  if (name.find('/') != std::string::npos || base::exists(name) || debian_suite(name).empty())
    return provision_user_kernel(name, modules_dir, cache_dir, log);
  return provision_debian_kernel(name, cache_dir, log);
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
