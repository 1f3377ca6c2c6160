// Fuzzes the kernel-config readers (runner/kernel/kernel_config.h) on arbitrary bytes: a .config
// or fragment from the user's tree, and an image searched for an embedded IKCONFIG. The only
// accepted failure is a std::runtime_error naming "origin:line:col"; extraction never throws.
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>

#include "runner/kernel/kernel_config.h"

namespace vm = fsfault::vm;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    auto c = vm::KernelConfig::parse(text, "f/.config");
    auto reqs = vm::parse_config_fragment("CONFIG_FANOTIFY=y\nCONFIG_XFS_FS=m\n", "frag", "fuzz");
    (void)vm::unmet_requirements(c, reqs);
  } catch (const std::runtime_error& e) {
    if (std::string_view(e.what()).rfind("f/.config:", 0) != 0) std::abort();
  }
  try {
    auto reqs = vm::parse_config_fragment(text, "frag", "fuzz");
    (void)vm::unmet_requirements(vm::KernelConfig::parse("CONFIG_A=y\n", "c"), reqs);
  } catch (const std::runtime_error& e) {
    if (std::string_view(e.what()).rfind("frag:", 0) != 0) std::abort();
  }
  if (size < 4096) (void)vm::extract_ikconfig(text);  // bounded: a small input may still inflate a lot
  return 0;
}
