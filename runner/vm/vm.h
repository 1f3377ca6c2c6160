// Runs one scenario in a VM: fault servers, QEMU, the guest channel, the
// judge; writes the scenario's artifacts (scenario_run.h has the stages).
#pragma once

#include "runner/judge/judge.h"
#include "runner/kernel/kernel.h"

#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace fsfault::vm {

// A guest booted once to the harness's ready point and saved (saved_guest.h); restored per
// scenario instead of booting.
struct SavedGuest {
  std::string dir;           // <cache>/saved/<key>
  std::string state;         // the migration stream
  std::string boot_console;  // the saved boot's console log
  std::string hello;         // the guest's hello record at save time (one JSON line)
  std::string release;       // its kernel release
  bool shares = false;       // its memory is a shared memfd, so shares can be hot-plugged
};

struct RunConfig {
  KernelInfo kernel;
  std::string initramfs;
  std::string accel = "tcg";       // "kvm" or "tcg" (already decided)
  std::string nbd_server;          // the fsfault-nbd binary (required: a run without it is an error)
  std::string qemu = "qemu-system-x86_64";
  std::vector<std::string> recipe_dirs;  // images/recipes, then --recipes folders
  std::string image_cache;         // build/images
  std::string out_dir;             // per-scenario directory; "" → temporary, removed
  int timeout_s = 300;
  int mem_mb = 512;
  bool verbose = false;
  std::string repro_prefix;        // command line that reruns just this scenario
  std::vector<ShareSpec> shares;   // --share: shared into every scenario's guest
  std::optional<SavedGuest> saved;  // restore this instead of a cold boot, where the scenario allows
  std::optional<SavedGuest> saved_with_shares;  // the same for scenarios with shares
};

Outcome run_scenario(const Scenario& s, const RunConfig& c, std::mutex& log_mutex);

}  // namespace fsfault::vm
