// The guest kernel of a run: Debian's cloud kernel of a suite (debian_kernel.h) or a user's
// bzImage with an optional modules tree. Debian's cloud kernels build ext4 in and ship xfs and
// virtio_blk as modules; 7.x ships them as .ko.xz under /usr/lib/modules (docs/kernel-facts.md).
#pragma once

#include "runner/kernel/kernel_config.h"
#include "runner/scenario/scenario.h"

#include <optional>

#include <ostream>
#include <string>

namespace fsfault::vm {

struct KernelInfo {
  std::string label;           // "bookworm", or the bzImage path
  std::string image;           // bzImage/vmlinuz path
  std::string modules_dir;     // .../lib/modules/<release> ("" = none)
  std::string release;         // module directory name
  std::string version_string;  // from the bzImage header
  KernelVersion version;
  std::string package;  // Debian package + version, when fetched
  std::string tree;     // the build tree a --kernel DIR named ("" otherwise)
  // Its build configuration, found without booting (kernel_config.h); nullopt when the image
  // carries none and nothing beside it does.
  std::optional<KernelConfig> config;
};

// Names: bookworm (default), trixie, sid. A directory is a kernel build tree (arch/x86/boot/bzImage
// and .config; its modules, when it built some, installed into the cache with `make
// modules_install`). Anything else with a '/' or an existing file is a bzImage/vmlinuz path,
// with modules_dir (a tree holding modules.dep/modules.order/modules.builtin, or a base with
// lib/modules/<release> or usr/lib/modules/<release>; "" = no modules). cache_dir: build/kernels.
KernelInfo provision_kernel(const std::string& name_or_path, const std::string& modules_dir,
                            const std::string& cache_dir, std::ostream& log);

// The version string a bzImage carries (arch/x86/boot/header.S: the setup header's
// kernel_version field at 0x20e points at it, relative to 0x200).
std::string bzimage_version(const std::string& path);

}  // namespace fsfault::vm
