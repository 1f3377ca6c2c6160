// Runs one scenario in a VM: fault servers, QEMU, the guest channel, the
// judge; writes the scenario's artifacts.
#pragma once

#include "runner/judge/judge.h"
#include "runner/kernel/kernel.h"

#include <mutex>
#include <string>

namespace fsfault::vm {

struct RunConfig {
  KernelInfo kernel;
  std::string initramfs;
  std::string accel = "tcg";       // "kvm" or "tcg" (already decided)
  std::string nbd_server;          // fsfault-nbd path; "" → qemu-nbd stand-in (no faults)
  std::string qemu = "qemu-system-x86_64";
  std::string recipes_dir;         // images/recipes
  std::string image_cache;         // build/images
  std::string out_dir;             // per-scenario directory; "" → temporary, removed
  int timeout_s = 300;
  int mem_mb = 512;
  bool verbose = false;
  std::string repro_prefix;        // command line that reruns just this scenario
};

Outcome run_scenario(const Scenario& s, const RunConfig& c, std::mutex& log_mutex);

// "kvm" when a short probe boot reaches userspace within probe_s, else "tcg".
std::string probe_accel(const KernelInfo& k, const std::string& initramfs, const std::string& qemu, int probe_s,
                        std::string* why);

// QEMU's command line for a scenario (exposed for tests and repro.sh).
std::vector<std::string> qemu_argv(const RunConfig& c, const std::vector<std::string>& nbd_sockets,
                                   const std::string& channel_socket, const std::string& console_log);

}  // namespace fsfault::vm
