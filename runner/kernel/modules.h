// A kernel's modules as depmod indexed them, read through libkmod: which modules a tree holds,
// what each needs loaded first, which names are built in; the module files, decompressed
// (libarchive); the modules every guest wants.
#pragma once

#include <optional>
#include <string>
#include <vector>

struct kmod_ctx;

namespace fsfault::vm {

// "kernel/fs/xfs/xfs.ko.xz" -> "xfs", "crc32c-generic" -> "crc32c_generic": the kernel's module
// names use '_' where file names may use '-'.
std::string module_name(const std::string& path);

// depmod -b base release: writes the indexes of base/lib/modules/release (modules.dep.bin,
// modules.builtin.bin, ...). Throws with depmod's stderr.
void run_depmod(const std::string& base, const std::string& release);

// One modules directory (.../lib/modules/<release>). libkmod (kmod 30) reads only the binary
// indexes depmod writes, never the text modules.dep: without modules.dep.bin every module is
// missing, so a tree without it needs run_depmod first.
class ModuleIndex {
 public:
  explicit ModuleIndex(const std::string& modules_dir);  // throws when libkmod cannot start
  ~ModuleIndex();
  ModuleIndex(const ModuleIndex&) = delete;
  ModuleIndex& operator=(const ModuleIndex&) = delete;

  const std::string& dir() const { return dir_; }
  // The module's file relative to dir() ("kernel/fs/xfs/xfs.ko.xz"); nullopt when the tree has
  // no such module (built in or absent).
  std::optional<std::string> path_of(const std::string& name) const;
  // Whether modules.builtin names it: built into the kernel, nothing to load. Looked up in
  // modules.builtin.bin, never in the host's /sys/module (kmod_module_get_initstate would).
  bool is_builtin(const std::string& name) const;
  // The modules it needs loaded first, as modules.dep lists them (depmod writes the whole chain).
  std::vector<std::string> dependencies_of(const std::string& name) const;

 private:
  std::string dir_;
  kmod_ctx* ctx_ = nullptr;
};

struct Module {
  std::string name;  // "xfs"
  std::string path;  // relative to the modules directory: "kernel/fs/xfs/xfs.ko.xz"
};

// Load order (dependencies first) of the wanted modules that are not built in; throws naming
// every wanted module that is neither a module of the tree nor built in.
std::vector<Module> module_closure(const ModuleIndex& index, const std::vector<std::string>& wanted);

// The module's plain ELF bytes whatever its compression (.ko, .ko.gz, .ko.xz, .ko.zst: Debian
// ships .ko.xz since 6.x): busybox modprobe and finit_module(flags=0) want plain .ko.
std::string read_module(const std::string& path);

// Modules every guest wants (the channel and the disks) and those only some scenarios need
// (loaded when present).
std::vector<std::string> required_modules();
std::vector<std::string> optional_modules();

}  // namespace fsfault::vm
