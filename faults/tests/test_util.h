#pragma once

#include <gtest/gtest.h>

#include <string>

#include "faults/schedule.h"
#include "faults/target_map.h"

namespace fsfault::faults::testing {

inline constexpr std::uint64_t kDisk = 1024 * 1024;  // 2048 sectors

inline TargetMap small_map() {
  return TargetMap::parse(R"({"image":"ext4-basic","fs":"ext4","size_bytes":1048576,"sector_size":512,
    "targets":{"inode:/data/f1":{"ranges":[[100,101],[200,200]],"ino":12,"gen":1234},
               "inode:/data/f10":{"ranges":[[300,303]],"ino":13},
               "superblock":{"ranges":[[2,3]]}}})",
                          "ext4-basic.map.json");
}

// The what() of the ScheduleError that parsing `text` throws ("" if none).
inline std::string parse_error(const std::string& text, const TargetMap* map = nullptr,
                               std::uint64_t disk = kDisk) {
  try {
    Schedule::parse(text, "s.toml", map, disk);
  } catch (const ScheduleError& e) {
    return e.what();
  }
  return "";
}

}  // namespace fsfault::faults::testing
