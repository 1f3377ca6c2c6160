// The image map: named targets ("inode:/data/f1", "superblock", "agf:0", ...)
// and the 512-byte sector ranges they occupy on a golden image. The one model
// of the map for the whole project: the image builder (images/) constructs,
// validates and saves it as NAME.map.json next to NAME.img; the fault engine
// and the server load it and resolve schedule targets against it; the VM
// runner reads inode numbers from it to judge file handles.
//
// Format (fixed for the team):
//   {"image": "ext4-basic", "fs": "ext4", "size_bytes": N, "sector_size": 512,
//    "targets": {"inode:/data/f1": {"ranges": [[2050, 2050]], "ino": 12, "gen": 1234},
//                "superblock": {"ranges": [[2, 3]]}}}
// ranges are inclusive sector ranges; ino and gen are optional. Unknown keys
// are tolerated on load.
#pragma once

#include <cstdint>
#include <functional>
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
  std::vector<SectorRange> ranges;  // sorted and merged (no overlapping or adjacent ranges)
  std::optional<std::uint64_t> ino;
  std::optional<std::uint64_t> gen;

  // Builders: add sectors [first, last] (inclusive), or the sectors covering
  // bytes [byte_offset, byte_offset + length); ranges stay sorted and merged.
  void add_sectors(std::uint64_t first, std::uint64_t last);
  void add_bytes(std::uint64_t byte_offset, std::uint64_t length);
  std::uint64_t sector_count() const;
};

class TargetMap {
 public:
  // Throws TargetMapError("PATH: ...") on unreadable files or a bad format.
  // Ranges are sorted and merged on load.
  static TargetMap load_file(const std::string& path);
  static TargetMap parse(std::string_view json_text, std::string_view source_name);
  static TargetMap from_json(const nlohmann::json& j, std::string_view source_name);

  nlohmann::json to_json() const;
  // Validates, then writes atomically (temporary file + rename). Throws TargetMapError.
  void save_file(const std::string& path) const;

  // What a builder must get right before saving: image and fs named,
  // sector_size 512, every target with at least one range, ranges sorted,
  // merged and within size_bytes (when known). Throws TargetMapError.
  void validate() const;

  // Adds or replaces a target (ranges must be non-empty, first <= last; they
  // are sorted and merged).
  void add(Target t);
  // The target called `name`, created empty if absent (for builders that add
  // ranges piece by piece; validate() rejects any left empty).
  Target& entry(std::string_view name);
  // Removes the targets for which pred(target) is true; returns how many.
  std::size_t erase_if(const std::function<bool(const Target&)>& pred);

  const Target* find(std::string_view name) const;
  // Up to `max` target names close to `name` (small edit distance, or one a
  // prefix of the other), closest first: for "unknown target" errors.
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

// "2050,4096-4103" — for listings.
std::string format_ranges(const std::vector<SectorRange>& ranges);

}  // namespace fsfault::faults
