// ensure_disk_image: what each [[disk]] form serves. Raw and blank disks get an empty map (sector
// rules only); a recipe name is looked up in images/recipes first, then the --recipes folders.
#include "faults/target_map.h"
#include "images/image.h"
#include "runner/scenario/disk_source.h"
#include "runner/test_temp_dir.h"
#include "runner/vm/disk_images.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <sstream>

using namespace fsfault::vm;

namespace {
const std::string kBuiltin = std::string(FSFAULT_SCENARIOS_DIR) + "/../../images/recipes";
}

TEST(DiskImages, RawImageWithoutMapIsServedInPlaceWithAnEmptyMap) {
  fsfault::vm::testing::TempDir d;
  std::string img = d.put("disk.img", std::string(8192, '\x5a'));
  DiskSpec ds;
  resolve_disk_image(img, "", ds);
  std::ostringstream log;
  ImageRef ref = ensure_disk_image(ds, {kBuiltin}, (d.dir / "cache").string(), log);
  EXPECT_EQ(ref.img, img);
  auto map = fsfault::faults::TargetMap::load_file(ref.map);
  EXPECT_TRUE(map.targets().empty());
  EXPECT_EQ(map.size_bytes, 8192u);
  EXPECT_EQ(map.fs, "ext4");  // what the guest mounts it as, so repro reads ext4's errors_count
  // With its map: that map, unchanged.
  std::string m = d.put("disk.map.json", R"({"image": "disk", "fs": "xfs", "size_bytes": 8192, "targets": {}})");
  resolve_disk_map(m, "", ds);
  EXPECT_EQ(ensure_disk_image(ds, {kBuiltin}, (d.dir / "cache").string(), log).map, m);
}

TEST(DiskImages, BlankDiskIsSparseZeros) {
  fsfault::vm::testing::TempDir d;
  DiskSpec ds;
  ds.source = DiskSource::blank;
  ds.blank_bytes = 300ull << 20;
  std::ostringstream log;
  ImageRef ref = ensure_disk_image(ds, {kBuiltin}, (d.dir / "cache").string(), log);
  struct stat st {};
  ASSERT_EQ(stat(ref.img.c_str(), &st), 0);
  EXPECT_EQ(static_cast<std::uint64_t>(st.st_size), 300ull << 20);
  EXPECT_LT(st.st_blocks * 512, 1 << 20);  // sparse: nothing allocated
  EXPECT_EQ(fsfault::base::read_file(ref.img).find_first_not_of('\0'), std::string::npos);
  EXPECT_TRUE(fsfault::faults::TargetMap::load_file(ref.map).targets().empty());
}

TEST(DiskImages, RecipeNamesSearchTheBuiltinFolderFirst) {
  fsfault::vm::testing::TempDir d;
  d.put("mine/ext4-basic.toml", "not = \"used\"\n");  // the built-in one wins
  d.put("mine/only-mine.toml", "not = \"parsed here\"\n");
  std::vector<std::filesystem::path> dirs = {kBuiltin, d.dir / "mine"};
  EXPECT_EQ(fsfault::images::recipe_path_for("ext4-basic", dirs), std::filesystem::path(kBuiltin) / "ext4-basic.toml");
  EXPECT_EQ(fsfault::images::recipe_path_for("only-mine", dirs), d.dir / "mine/only-mine.toml");
  DiskSpec ds;
  ds.image = "no-such-recipe";
  std::ostringstream log;
  try {
    ensure_disk_image(ds, {kBuiltin, (d.dir / "mine").string()}, (d.dir / "cache").string(), log);
    ADD_FAILURE() << "no error";
  } catch (const std::runtime_error& e) {
    std::string w = e.what();
    EXPECT_NE(w.find("no image recipe 'no-such-recipe'"), std::string::npos) << w;
    EXPECT_NE(w.find((d.dir / "mine").string() + " (available: ext4-basic, only-mine)"), std::string::npos) << w;
    EXPECT_NE(w.find("xfs-basic"), std::string::npos) << w;
  }
}
