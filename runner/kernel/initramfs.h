// The per-kernel initramfs: busybox-static, the guest harness as /init, the module closure
// decompressed with its depmod indexes, as an uncompressed cpio "newc" archive (libarchive).
#pragma once

#include "runner/kernel/kernel.h"

#include <ostream>
#include <string>
#include <vector>

namespace fsfault::vm {

// Builds (or reuses) the initramfs for a kernel and returns its path under cache_dir/initramfs.
// Rebuilt only when an input (harness, busybox, kernel modules, module list) changed. Required
// modules must exist (throws naming the missing ones), optional ones are taken when present,
// extra modules the kernel lacks are warned about on log.
std::string build_initramfs(const KernelInfo& k, const std::string& guest_bin, const std::string& cache_dir,
                            const std::vector<std::string>& extra_modules, std::ostream& log);

// Writes the tree under root as an uncompressed cpio "newc" archive at out_path (atomically).
// The same tree gives the same bytes: sorted names, inode numbers counted from 1, owner root,
// mtime 0. A root with dev/ gets the /dev/console node the
// kernel opens for init before devtmpfs is mounted (init/main.c, console_on_rootfs()).
void write_initramfs_archive(const std::string& root, const std::string& out_path);

}  // namespace fsfault::vm
