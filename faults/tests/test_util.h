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

// Indexed targets as an ext4 map names them: four adjacent 4 KiB bitmap
// blocks (as flex_bg lays them out) and an inode table.
inline TargetMap bitmap_map() {
  return TargetMap::parse(R"({"image":"bm","fs":"ext4","size_bytes":1048576,"sector_size":512,
    "targets":{"block-bitmap:0":{"ranges":[[1000,1007]]}, "block-bitmap:1":{"ranges":[[1008,1015]]},
               "block-bitmap:2":{"ranges":[[1016,1023]]}, "block-bitmap:3":{"ranges":[[1024,1031]]},
               "inode-table:2":{"ranges":[[1100,1131]]}, "inode:/a-1":{"ranges":[[1200,1200],[1300,1301]]}}})",
                          "bm.map.json");
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
