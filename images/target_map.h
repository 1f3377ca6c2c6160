// The target map: structure names ("inode:/data/f1", "agf:0") → inclusive 512-byte sector ranges.
// JSON shape (fixed, the fault engine loads it):
//   {"image": "ext4-basic", "fs": "ext4", "size_bytes": N, "sector_size": 512,
//    "targets": {"inode:/data/f1": {"ranges": [[2050, 2050]], "ino": 12, "gen": 1234}, ...}}
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fsfault::images {

inline constexpr std::uint32_t kSectorSize = 512;

struct SectorRange {
  std::uint64_t first = 0;  // inclusive
  std::uint64_t last = 0;   // inclusive
  bool operator==(const SectorRange&) const = default;
};

struct Target {
  std::vector<SectorRange> ranges;  // sorted, merged (no overlapping or adjacent ranges)
  std::optional<std::uint64_t> ino;
  std::optional<std::uint32_t> gen;

  // Adds the sectors covering bytes [byte_offset, byte_offset + length).
  void add_bytes(std::uint64_t byte_offset, std::uint64_t length);
  void add_sectors(std::uint64_t first, std::uint64_t last);
  std::uint64_t sector_count() const;
};

// Sorts and merges overlapping or adjacent ranges in place.
void normalise_ranges(std::vector<SectorRange>& ranges);

struct TargetMap {
  std::string image;
  std::string fs;
  std::uint64_t size_bytes = 0;
  std::uint32_t sector_size = kSectorSize;
  std::map<std::string, Target> targets;

  const Target* find(std::string_view name) const;
  // Names nearest to `name` (edit distance, then shared prefix), best first: for "unknown
  // target" errors.
  std::vector<std::string> close_matches(std::string_view name, std::size_t max = 5) const;
};

nlohmann::json to_json(const TargetMap& map);
// Throws std::runtime_error on a malformed map (missing keys, unsorted or overlapping ranges).
TargetMap target_map_from_json(const nlohmann::json& j);
TargetMap load_target_map(const std::filesystem::path& path);
// Writes atomically (temporary file + rename).
void save_target_map(const TargetMap& map, const std::filesystem::path& path);

// "2050-2050,4096-4103" — for listings.
std::string format_ranges(const std::vector<SectorRange>& ranges);

}  // namespace fsfault::images
