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

TEST(TargetMap, EditDistance) {
  EXPECT_EQ(edit_distance("", ""), 0u);
  EXPECT_EQ(edit_distance("abc", ""), 3u);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(edit_distance("superblok", "superblock"), 1u);
}

}  // namespace
}  // namespace fsfault::faults
