// Fuzzes image-map loading (faults::TargetMap::parse, as the server's --map
// and the runner use it). The only accepted failure is a TargetMapError; a
// map that loads must survive a to_json/from_json round trip unchanged and
// answer lookups.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "faults/target_map.h"

namespace faults = fsfault::faults;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  faults::TargetMap m;
  try {
    m = faults::TargetMap::parse(text, "fuzz.map.json");
  } catch (const faults::TargetMapError&) {
    return 0;
  }
  nlohmann::json j = m.to_json();
  faults::TargetMap again = faults::TargetMap::from_json(j, "roundtrip");
  if (again.to_json() != j) std::abort();
  for (const auto& [name, t] : m.targets()) {
    if (t.ranges.empty() || m.find(name) != &t) std::abort();
    for (const auto& r : t.ranges) {
      if (r.first > r.last) std::abort();
    }
  }
  (void)m.close_matches("inode:/data/f1");
  (void)m.close_matches(m.targets().empty() ? "" : m.targets().begin()->first + "x");
  return 0;
}
