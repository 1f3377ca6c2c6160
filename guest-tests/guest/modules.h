// Kernel modules the host chose for this kernel (runner/kernel/kernel.cpp, build_initramfs).
#pragma once

namespace fsfault::guest {

// Loads every module listed in /etc/fsfault/modules.load (one path a line, host-computed
// dependency order); failures are reported on the console and skipped.
void load_modules();

}  // namespace fsfault::guest
