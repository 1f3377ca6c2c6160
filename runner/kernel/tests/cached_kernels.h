// The tests that read the Debian kernels the VM tests download into the build's cache skip when
// none is there yet; the ctest entry that runs them after the download (runner/CMakeLists.txt)
// sets FSFAULT_REQUIRE_CACHED_KERNELS=1, and there a missing kernel fails instead.
#pragma once

#include <cstdlib>
#include <string_view>

namespace fsfault::vm::testing {

inline bool cached_kernels_required() {
  const char* v = std::getenv("FSFAULT_REQUIRE_CACHED_KERNELS");
  return v != nullptr && std::string_view(v) == "1";
}

}  // namespace fsfault::vm::testing
