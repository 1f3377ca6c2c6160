// `fsfault kernel build`: a test kernel built from Debian's kernel source of a suite or from a
// developer's tree, with x86_64_defconfig + kvm_guest.config + fsfault's config fragments
// (guest-tests/config, and config.fault-injection on request) + a trim fragment (everything built
// in, no modules; no graphics, sound, wireless, USB or Ethernet), cached in the machine-wide cache
// keyed by the source's identity and the fragments, and usable afterwards as `--kernel NAME`.
#pragma once

#include <ostream>
#include <string>

namespace fsfault::vm {

struct KernelBuildRequest {
  std::string source = "sid";   // a Debian suite name, or a kernel source tree directory
  bool fault_injection = false;
  int jobs = 0;                 // make -j; 0 = the number of online CPUs
  std::string cache_root;       // machine_cache_root() unless --cache
  std::string fragments_dir;    // where guest-tests/config* and runner/kernel/trim.config live
  std::string name;             // "" = default_kernel_name(source, fault_injection)
  bool rebuild = false;         // build even when the cache holds this key
};

struct BuiltKernel {
  std::string name;
  std::string dir;  // has arch/x86/boot/bzImage and .config: provision_kernel takes it as a tree
  std::string key;
  bool cached = false;
  long seconds = 0;  // build time (0 when cached)
};

BuiltKernel build_kernel(const KernelBuildRequest& req, std::ostream& log);

// fi-sid, min-bookworm, fi-<tree directory name>, ...
std::string default_kernel_name(const std::string& source, bool fault_injection);

// $XDG_CACHE_HOME/fsfault, else $HOME/.cache/fsfault: shared by every checkout and CI run on the
// machine, so each kernel is built once.
std::string machine_cache_root();

// cache_root/kernels/built/<name> when a build of that name is there, else "".
std::string built_kernel_path(const std::string& cache_root, const std::string& name);

}  // namespace fsfault::vm
