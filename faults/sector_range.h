// Inclusive ranges of 512-byte sectors, as schedules and image maps write them.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

namespace fsfault::faults {

struct SectorRange {
  std::uint64_t first = 0;  // inclusive
  std::uint64_t last = 0;   // inclusive, >= first
  std::uint64_t count() const { return last - first + 1; }
  bool operator==(const SectorRange&) const = default;
};

// Sorts and merges overlapping or adjacent ranges.
inline std::vector<SectorRange> normalize_ranges(std::vector<SectorRange> r) {
  std::sort(r.begin(), r.end(), [](const SectorRange& a, const SectorRange& b) {
    return a.first != b.first ? a.first < b.first : a.last < b.last;
  });
  std::vector<SectorRange> out;
  for (const auto& x : r) {
    if (!out.empty() && (out.back().last == UINT64_MAX || x.first <= out.back().last + 1)) {
      out.back().last = std::max(out.back().last, x.last);
    } else {
      out.push_back(x);
    }
  }
  return out;
}

}  // namespace fsfault::faults
