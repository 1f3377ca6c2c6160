// Boot once, restore per scenario (docs/ARCHITECTURE.md, "Boot once, restore per scenario").
//
// The saved guest is the cold boot's kernel and initramfs booted to the harness's ready point
// (hello sent, waiting for its scenario) on a machine without disks, stopped and written out
// with QEMU's migration. It lives in the kernel cache under a key of everything the state
// depends on, so a changed kernel, initramfs, QEMU or machine option names a new state and the
// old one is rebuilt rather than restored.
#pragma once

#include "runner/vm/vm.h"

#include <iosfwd>
#include <optional>
#include <string>

namespace fsfault::vm {

// What of the key costs (the kernel's and initramfs's digests, ~28 MB hashed, and QEMU's identity,
// a `qemu --version`): computed once, both variants' keys derive from it.
std::string saved_guest_inputs(const RunConfig& c);

// The key of the saved state for this configuration (hex): kernel and initramfs contents, QEMU's
// version and binary, and the machine's command line with its per-run paths left out. `inputs`:
// saved_guest_inputs(c), computed here when "".
std::string saved_guest_key(const RunConfig& c, bool shares = false, const std::string& inputs = "");

// The saved guest for c under cache_dir/saved/<key>, booted and saved first when there is none
// (or it is damaged). One builder per key at a time across processes (a lock file); of the same
// kernel image's states, the 4 most recently used are kept. Throws std::runtime_error when
// the guest cannot be booted or saved; `log` says what was reused or built, and how long it took.
// shares: the variant whose memory can be shared with virtiofsd (qemu_command.h).
SavedGuest ensure_saved_guest(const RunConfig& c, const std::string& cache_dir, std::ostream& log,
                              bool shares = false, const std::string& inputs = "");

// Removes a saved state that failed to restore, so the next run builds it again.
void discard_saved_guest(const SavedGuest& g);

}  // namespace fsfault::vm
