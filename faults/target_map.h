// The image map: named targets ("inode:/data/f1", "superblock", ...) and the
// 512-byte sector ranges they occupy on a golden image. The images tooling
// writes it next to NAME.img as NAME.map.json; schedules name targets in it.
//
// Format (fixed for the team):
//   {"image": "ext4-basic", "fs": "ext4", "size_bytes": N, "sector_size": 512,
//    "targets": {"inode:/data/f1": {"ranges": [[2050, 2050]], "ino": 12, "gen": 1234},
//                "superblock": {"ranges": [[2, 3]]}}}
// ranges are inclusive sector ranges; ino and gen are optional.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "faults/sector_range.h"

namespace fsfault::faults {

class TargetMapError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Target {
  std::string name;
  std::vector<SectorRange> ranges;  // as written in the map (validated, not merged)
  std::optional<std::uint64_t> ino;
  std::optional<std::uint64_t> gen;
};

class TargetMap {
 public:
  // Throws TargetMapError("PATH: ...") on unreadable files or a bad format.
  static TargetMap load_file(const std::string& path);
  static TargetMap parse(std::string_view json_text, std::string_view source_name);
  static TargetMap from_json(const nlohmann::json& j, std::string_view source_name);

  nlohmann::json to_json() const;
  void save_file(const std::string& path) const;  // throws TargetMapError

  // Adds or replaces a target (ranges must be non-empty, first <= last).
  void add(Target t);
  const Target* find(std::string_view name) const;
  // Up to `max` target names close to `name` (small edit distance, or a long
  // common prefix), closest first.
  std::vector<std::string> close_matches(std::string_view name, std::size_t max = 5) const;

  const std::map<std::string, Target, std::less<>>& targets() const { return targets_; }

  std::string image;
  std::string fs;
  std::uint64_t size_bytes = 0;
  std::uint32_t sector_size = 512;
  std::string source;  // where it was loaded from, for messages

 private:
  std::map<std::string, Target, std::less<>> targets_;
};

// Levenshtein distance (exposed for tests).
std::size_t edit_distance(std::string_view a, std::string_view b);

}  // namespace fsfault::faults
