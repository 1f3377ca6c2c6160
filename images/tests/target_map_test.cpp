#include <gtest/gtest.h>

#include <filesystem>

#include "images/sha256.h"
#include "images/target_map.h"

using namespace fsfault::images;

TEST(TargetMap, RangesMergeAndSort) {
  Target t;
  t.add_sectors(10, 12);
  t.add_sectors(2, 3);
  t.add_sectors(13, 15);  // adjacent: merged
  t.add_sectors(11, 11);  // contained
  ASSERT_EQ(t.ranges.size(), 2u);
  EXPECT_EQ(t.ranges[0], (SectorRange{2, 3}));
  EXPECT_EQ(t.ranges[1], (SectorRange{10, 15}));
  EXPECT_EQ(t.sector_count(), 8u);
  Target b;
  b.add_bytes(1024, 1024);
  EXPECT_EQ(b.ranges[0], (SectorRange{2, 3}));
  Target c;
  c.add_bytes(0x0c00 + 41 * 4096, 256);  // an inode at offset 0xc00 of block 41
  EXPECT_EQ(c.ranges[0], (SectorRange{334, 334}));
}

TEST(TargetMap, JsonRoundTripInFixedFormat) {
  TargetMap m;
  m.image = "ext4-basic";
  m.fs = "ext4";
  m.size_bytes = 64 << 20;
  m.targets["superblock"].add_sectors(2, 3);
  auto& t = m.targets["inode:/data/f1"];
  t.add_sectors(590, 590);
  t.ino = 14;
  t.gen = 1234;
  auto j = to_json(m);
  EXPECT_EQ(j["sector_size"], 512);
  EXPECT_EQ(j["targets"]["inode:/data/f1"]["ranges"], nlohmann::json::parse("[[590, 590]]"));
  EXPECT_EQ(j["targets"]["inode:/data/f1"]["ino"], 14);
  EXPECT_FALSE(j["targets"]["superblock"].contains("ino"));
  auto back = target_map_from_json(j);
  EXPECT_EQ(back.targets.size(), 2u);
  EXPECT_EQ(back.find("inode:/data/f1")->gen, 1234u);
  EXPECT_EQ(back.find("nope"), nullptr);

  auto path = std::filesystem::temp_directory_path() / "fsfault-map-test.map.json";
  save_target_map(m, path);
  auto loaded = load_target_map(path);
  EXPECT_EQ(loaded.image, "ext4-basic");
  EXPECT_EQ(loaded.find("superblock")->ranges, m.targets["superblock"].ranges);
  std::filesystem::remove(path);
}

TEST(TargetMap, RejectsMalformedMaps) {
  auto base = nlohmann::json::parse(
      R"({"image":"x","fs":"ext4","size_bytes":1048576,"sector_size":512,"targets":{}})");
  EXPECT_NO_THROW(target_map_from_json(base));
  auto bad = base;
  bad["targets"]["t"] = {{"ranges", {{5, 4}}}};
  EXPECT_THROW(target_map_from_json(bad), std::runtime_error);
  bad["targets"]["t"] = {{"ranges", {{4, 5}, {6, 7}}}};  // adjacent: not merged
  EXPECT_THROW(target_map_from_json(bad), std::runtime_error);
  bad["targets"]["t"] = {{"ranges", {{4, 2048}}}};  // beyond the image
  EXPECT_THROW(target_map_from_json(bad), std::runtime_error);
  bad = base;
  bad.erase("fs");
  EXPECT_THROW(target_map_from_json(bad), std::runtime_error);
}

TEST(TargetMap, CloseMatches) {
  TargetMap m;
  for (const char* n : {"inode:/data/f1", "inode:/data/f2", "data:/data/f1", "superblock", "gdt"})
    m.targets[n].add_sectors(1, 1);
  auto c = m.close_matches("inode:/data/f3");
  ASSERT_FALSE(c.empty());
  EXPECT_TRUE(c[0] == "inode:/data/f1" || c[0] == "inode:/data/f2");
  EXPECT_EQ(m.close_matches("superblok")[0], "superblock");
  EXPECT_TRUE(m.close_matches("completely-unrelated-name-xyz").empty());
}

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  std::string million(1000000, 'a');
  EXPECT_EQ(sha256_hex(million), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}
