// Guest kernels: Debian packages fetched through apt with a private state
// directory (design.md §6), or a user's bzImage; module closure from
// modules.dep; the per-kernel initramfs.
#pragma once

#include "runner/scenario/scenario.h"

#include <map>
#include <ostream>
#include <set>
#include <string>
#include <vector>

namespace fsfault::vm {

struct KernelInfo {
  std::string label;        // "bookworm", or the bzImage path
  std::string image;        // bzImage/vmlinuz path
  std::string modules_dir;  // .../lib/modules/<release> ("" = none)
  std::string release;      // module directory name
  std::string version_string;  // from the bzImage header
  KernelVersion version;
  std::string package;      // Debian package + version, when fetched
};

// Names: bookworm (default), trixie, sid. Anything with a '/' or an existing
// file is a path. cache_dir: build/kernels.
KernelInfo provision_kernel(const std::string& name_or_path, const std::string& modules_dir,
                            const std::string& cache_dir, std::ostream& log);

// The value of one field of a Debian control stanza ("" when absent).
std::string control_field(const std::string& stanza, const std::string& field);
// The packages that make up a Debian kernel: the image package itself plus every linux-*-ABI
// dependency with the same ABI suffix (linux-binary, linux-modules, linux-base since the 6.16
// split; none before it).
std::vector<std::string> kernel_packages(const std::string& image_pkg, const std::string& depends);

// The version string a bzImage carries (arch/x86/boot/header.S: the setup
// header's kernel_version field at 0x20e points at it, relative to 0x200).
std::string bzimage_version(const std::string& path);

// The machine's Debian mirror URI from /etc/apt/sources.list.d/*.sources or
// /etc/apt/sources.list (first non-security "deb" source).
std::string debian_mirror(const std::string& sources_list_d = "/etc/apt/sources.list.d",
                          const std::string& sources_list = "/etc/apt/sources.list");
std::string mirror_from_texts(const std::vector<std::string>& deb822, const std::string& one_line);

// ---- modules ----
struct ModuleDb {
  std::map<std::string, std::string> path_of;               // name → relative path
  std::map<std::string, std::vector<std::string>> deps_of;  // name → dependency names
  std::set<std::string> builtin;                            // names built into the kernel
};
std::string module_name(const std::string& path);  // "kernel/fs/xfs/xfs.ko.xz" → "xfs"
ModuleDb parse_module_db(const std::string& modules_dep, const std::string& modules_builtin);
// Load order (dependencies first) of the wanted modules that are not built
// in; throws naming every missing module.
std::vector<std::string> module_closure(const ModuleDb& db, const std::vector<std::string>& wanted);

// Modules every guest wants (the channel and the disks) and those only
// some scenarios need (loaded when present).
std::vector<std::string> required_modules();
std::vector<std::string> optional_modules();

// A cpio "newc" archive of a directory tree (no external cpio needed).
std::string cpio_newc(const std::string& root);

// Builds (or reuses) the initramfs for a kernel: busybox-static, the guest
// harness as /init, the module closure decompressed, depmod -b. Returns its
// path. Rebuilt only when an input (harness, busybox, kernel modules, module
// list) changed.
std::string build_initramfs(const KernelInfo& k, const std::string& guest_bin, const std::string& cache_dir,
                            const std::vector<std::string>& extra_modules, std::ostream& log);

}  // namespace fsfault::vm
