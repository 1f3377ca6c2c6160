#include <gtest/gtest.h>

#include <cstdio>

#include "faults/target_map.h"
#include "test_util.h"

namespace fsfault::faults {
namespace {

std::string map_error(const std::string& json) {
  try {
    TargetMap::parse(json, "m.json");
  } catch (const TargetMapError& e) {
    return e.what();
  }
  return "";
}

TEST(TargetMap, ParsesTeamFormat) {
  auto m = testing::small_map();
  EXPECT_EQ(m.image, "ext4-basic");
  EXPECT_EQ(m.fs, "ext4");
  EXPECT_EQ(m.size_bytes, 1048576u);
  EXPECT_EQ(m.sector_size, 512u);
  ASSERT_EQ(m.targets().size(), 3u);
  const Target* t = m.find("inode:/data/f1");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->ranges, (std::vector<SectorRange>{{100, 101}, {200, 200}}));
  EXPECT_EQ(t->ino, 12u);
  EXPECT_EQ(t->gen, 1234u);
  EXPECT_FALSE(m.find("superblock")->ino.has_value());
  EXPECT_EQ(m.find("nope"), nullptr);
}

TEST(TargetMap, RoundTripsThroughFile) {
  auto m = testing::small_map();
  const std::string path = ::testing::TempDir() + "/rt.map.json";
  m.save_file(path);
  auto back = TargetMap::load_file(path);
  EXPECT_EQ(back.to_json(), m.to_json());
  EXPECT_EQ(back.source, path);
  std::remove(path.c_str());
  EXPECT_THROW(TargetMap::load_file(path), TargetMapError);
}

TEST(TargetMap, Errors) {
  EXPECT_EQ(map_error("[1]"), "m.json: expected a JSON object, got array");
  EXPECT_EQ(map_error("{}"), "m.json: expected an object \"targets\" of name -> {\"ranges\": [[A, B], ...]}");
  EXPECT_EQ(map_error(R"({"sector_size":4096,"targets":{}})"), "m.json: expected sector_size 512, got 4096");
  EXPECT_EQ(map_error(R"({"targets":{"a":{"ranges":[[5,4]]}}})"),
            "m.json: target \"a\": expected A <= B in range, got [5, 4]");
  EXPECT_EQ(map_error(R"({"targets":{"a":{"ranges":[[5]]}}})"), "m.json: target \"a\": expected a range [A, B], got [5]");
  EXPECT_EQ(map_error(R"({"targets":{"a":{"ranges":[]}}})"), "m.json: target \"a\": expected at least one range");
  EXPECT_EQ(map_error(R"({"targets":{"a":{"ranges":[[-1,2]]}}})"),
            "m.json: expected target \"a\" range start to be a non-negative integer, got -1");
  EXPECT_EQ(map_error(R"({"size_bytes":1024,"targets":{"a":{"ranges":[[1,2]]}}})"),
            "m.json: target \"a\": range [1, 2] lies beyond the image (2 sectors)");
  EXPECT_EQ(map_error(R"({"targets":{"a":{}}})"),
            "m.json: target \"a\": expected an object with \"ranges\": [[A, B], ...]");
  EXPECT_NE(map_error("{"), "");
  // Unknown keys are tolerated (the images tooling may add metadata).
  EXPECT_EQ(map_error(R"({"recipe":"x","targets":{"a":{"ranges":[[1,2]],"kind":"inode"}}})"), "");
}

TEST(TargetMap, CloseMatches) {
  TargetMap m;
  for (const char* n : {"inode:/data/f1", "inode:/data/f10", "inode:/data/dir/f1", "superblock", "group0:bitmap"}) {
    m.add({n, {{1, 1}}, {}, {}});
  }
  EXPECT_EQ(m.close_matches("inode:/data/f2"), (std::vector<std::string>{"inode:/data/f1", "inode:/data/f10"}));
  EXPECT_EQ(m.close_matches("superblok"), (std::vector<std::string>{"superblock"}));
  EXPECT_EQ(m.close_matches("inode:/data/"),
            (std::vector<std::string>{"inode:/data/f1", "inode:/data/f10", "inode:/data/dir/f1"}));
  EXPECT_TRUE(m.close_matches("journal").empty());
  EXPECT_EQ(m.close_matches("inode:/data/f2", 1).size(), 1u);
}

TEST(TargetMap, BuilderRangesMergeAndSort) {
  Target t;
  t.add_sectors(10, 12);
  t.add_sectors(2, 3);
  t.add_sectors(13, 15);  // adjacent: merged
  t.add_sectors(11, 11);  // contained
  EXPECT_EQ(t.ranges, (std::vector<SectorRange>{{2, 3}, {10, 15}}));
  EXPECT_EQ(t.sector_count(), 8u);
  EXPECT_THROW(t.add_sectors(5, 4), TargetMapError);
  Target b;
  b.add_bytes(1024, 1024);  // the ext4 superblock
  EXPECT_EQ(b.ranges, (std::vector<SectorRange>{{2, 3}}));
  Target c;
  c.add_bytes(0x0c00 + 41 * 4096, 256);  // an inode at offset 0xc00 of block 41
  EXPECT_EQ(c.ranges, (std::vector<SectorRange>{{334, 334}}));
  b.add_bytes(0, 0);
  EXPECT_EQ(b.sector_count(), 2u);
  EXPECT_EQ(format_ranges({{2, 3}, {7, 7}}), "2-3,7");
}

TEST(TargetMap, BuildValidateSaveLoad) {
  TargetMap m;
  m.image = "ext4-basic";
  m.fs = "ext4";
  m.size_bytes = 64 << 20;
  m.entry("superblock").add_sectors(2, 3);
  auto& t = m.entry("inode:/data/f1");
  t.add_sectors(590, 590);
  t.ino = 14;
  t.gen = 1234;
  EXPECT_EQ(m.find("inode:/data/f1")->name, "inode:/data/f1");
  EXPECT_NO_THROW(m.validate());
  auto j = m.to_json();
  EXPECT_EQ(j["sector_size"], 512);
  EXPECT_EQ(j["targets"]["inode:/data/f1"]["ranges"], nlohmann::json::parse("[[590, 590]]"));
  EXPECT_EQ(j["targets"]["inode:/data/f1"]["ino"], 14);
  EXPECT_FALSE(j["targets"]["superblock"].contains("ino"));

  const std::string path = ::testing::TempDir() + "/build.map.json";
  m.save_file(path);
  auto loaded = TargetMap::load_file(path);
  EXPECT_EQ(loaded.to_json(), j);
  EXPECT_EQ(loaded.find("superblock")->ranges, m.find("superblock")->ranges);
  std::remove(path.c_str());

  // validate() (and so save_file) refuses what a builder can get wrong.
  auto bad = m;
  bad.entry("empty");
  EXPECT_THROW(bad.validate(), TargetMapError);
  EXPECT_THROW(bad.save_file(path), TargetMapError);
  EXPECT_THROW(TargetMap::load_file(path), TargetMapError);  // nothing was written
  bad = m;
  bad.entry("far").add_sectors(131072, 131072);  // one past the last sector
  EXPECT_THROW(bad.validate(), TargetMapError);
  bad = m;
  bad.entry("x").ranges = {{10, 11}, {12, 13}};  // adjacent, not merged
  EXPECT_THROW(bad.validate(), TargetMapError);
  bad = m;
  bad.fs.clear();
  EXPECT_THROW(bad.validate(), TargetMapError);

  EXPECT_EQ(m.erase_if([](const Target& x) { return !x.ino.has_value(); }), 1u);
  EXPECT_EQ(m.targets().size(), 1u);
}

TEST(TargetMap, LoadSortsAndMergesRanges) {
  auto m = TargetMap::parse(R"({"targets":{"t":{"ranges":[[10,12],[5,9],[20,20],[11,11]]}}})", "m.json");
  EXPECT_EQ(m.find("t")->ranges, (std::vector<SectorRange>{{5, 12}, {20, 20}}));
  EXPECT_EQ(m.find("t")->name, "t");
}

// Found by fuzz/target_map_fuzzer: a number too large for a double made
// nlohmann throw out_of_range, which escaped as a non-TargetMapError.
TEST(TargetMap, HugeNumbersAreTargetMapErrors) {
  EXPECT_THROW(TargetMap::parse("4e999", "m.json"), TargetMapError);
  EXPECT_THROW(TargetMap::parse(R"({"size_bytes": 1e400, "targets": {}})", "m.json"), TargetMapError);
}

TEST(TargetMap, EditDistance) {
  EXPECT_EQ(edit_distance("", ""), 0u);
  EXPECT_EQ(edit_distance("abc", ""), 3u);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(edit_distance("superblok", "superblock"), 1u);
}

}  // namespace
}  // namespace fsfault::faults
