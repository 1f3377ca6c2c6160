// [[disk]] image = recipe name | recipe file | raw image (+ map), blank = SIZE
// (runner/scenario/disk_source.h): resolution against the scenario file and every mistake named
// with file:line:col.
#include "runner/scenario/disk_source.h"
#include "runner/scenario/scenario.h"
#include "runner/test_temp_dir.h"

#include <gtest/gtest.h>

#include <filesystem>

using namespace fsfault::vm;

namespace {

struct DiskDir : fsfault::vm::testing::TempDir {
  DiskDir() {
    put("recipes/mine.toml", fsfault::base::read_file(std::string(FSFAULT_SCENARIOS_DIR) +
                                                      "/../../images/recipes/ext4-basic.toml"));
    put("raw/disk.img", std::string(64 * 1024, '\0'));
    put("raw/disk.map.json", R"({"image": "disk", "fs": "ext4", "size_bytes": 65536, "sector_size": 512,
      "targets": {"superblock": {"ranges": [[2, 3]]}}})");
  }
  std::string toml() const { return (dir / "s.toml").string(); }
  std::string parse_error(const std::string& disk_and_rules) const {
    try {
      parse_scenario_text("name = \"a\"\n" + disk_and_rules, toml());
    } catch (const std::runtime_error& e) {
      return e.what();
    }
    return "";
  }
};

}  // namespace

TEST(ScenarioDisks, EveryFormResolvedAgainstTheScenarioFile) {
  DiskDir d;
  Scenario s = parse_scenario_text(
      "name = \"a\"\n"
      "[[disk]]\nimage = \"ext4-basic\"\n"
      "[[disk]]\nimage = \"recipes/mine.toml\"\n"
      "[[disk]]\nimage = \"raw/disk.img\"\nmap = \"raw/disk.map.json\"\n"
      "[[disk]]\nimage = \"raw/disk.img\"\nmount = { fs = \"ext4\", options = \"ro\" }\n"
      "[[disk]]\nblank = \"300MiB\"\n"
      "[[rule]]\ndisk = 3\nmatch = { op = \"read\", sectors = \"0-7\" }\naction = { fail = \"EIO\" }\n",
      d.toml());
  ASSERT_EQ(s.disks.size(), 5u);
  EXPECT_EQ(s.disks[0].source, DiskSource::recipe_name);
  EXPECT_EQ(s.disks[0].image, "ext4-basic");
  EXPECT_EQ(s.disks[1].source, DiskSource::recipe_file);
  EXPECT_EQ(s.disks[1].path, (d.dir / "recipes/mine.toml").string());
  EXPECT_EQ(s.disks[2].source, DiskSource::raw_image);
  EXPECT_EQ(s.disks[2].path, (d.dir / "raw/disk.img").string());
  EXPECT_EQ(s.disks[2].map, (d.dir / "raw/disk.map.json").string());
  EXPECT_TRUE(s.disks[2].has_map());
  EXPECT_FALSE(s.disks[3].has_map());
  EXPECT_TRUE(s.disks[3].mount);
  EXPECT_EQ(s.disks[3].options, "ro");
  EXPECT_EQ(s.disks[4].source, DiskSource::blank);
  EXPECT_EQ(s.disks[4].blank_bytes, 300u << 20);
  EXPECT_FALSE(s.disks[4].mount);  // a blank disk is never mounted before the first step
  json plan = guest_plan(s);
  int implicit = 0;
  for (auto& st : plan["steps"]) implicit += st.value("implicit", false) && st["disk"] != 4;
  EXPECT_EQ(implicit, 4);
  for (auto& st : plan["steps"]) EXPECT_NE(st.value("disk", -1), 4) << st;
}

TEST(ScenarioDisks, MistakesNameFileLineAndColumn) {
  DiskDir d;
  d.put("bad.toml", "fs = \"ext5\"\n");
  d.put("disk.qcow2", std::string(512, '\0'));
  d.put("odd.img", std::string(1000, '\0'));
  d.put("broken.map.json", "{\"image\": \"disk\",\n  \"fs\": ext4}\n");
  d.put("small.map.json", R"({"image": "disk", "fs": "ext4", "size_bytes": 4096, "targets": {}})");
  std::filesystem::create_directories(d.dir / "dir.img");
  struct Case {
    std::string text, where, why;
  } cases[] = {
      {"[[disk]]\nimage = \"nope/x.img\"\n", ":3:9: ", "/nope/x.img: no such file"},
      {"[[disk]]\nimage = \"missing.toml\"\n", ":3:9: ", "missing.toml: no such file"},
      {"[[disk]]\nimage = \"bad.toml\"\n", ":3:9: ", "is not an image recipe"},
      {"[[disk]]\nimage = \"./disk.qcow2\"\n", ":3:9: ", "neither a recipe (*.toml) nor a raw image (*.img)"},
      {"[[disk]]\nimage = \"dir.img\"\n", ":3:9: ", "not a regular file"},
      {"[[disk]]\nimage = \"odd.img\"\n", ":3:9: ", "not a positive multiple of 512"},
      {"[[disk]]\nimage = \"ext4-basic\"\nmap = \"raw/disk.map.json\"\n", ":4:7: ", "a recipe builds its own map"},
      {"[[disk]]\nimage = \"raw/disk.img\"\nmap = \"raw/none.json\"\n", ":4:7: ", "none.json: no such file"},
      {"[[disk]]\nimage = \"raw/disk.img\"\nmap = \"broken.map.json\"\n", ":4:7: ", "broken.map.json:2:9: not a target map"},
      {"[[disk]]\nimage = \"raw/disk.img\"\nmap = \"small.map.json\"\n", ":4:7: ", "4096-byte image, the image has 65536"},
      {"[[disk]]\nimage = \"raw/disk.img\"\n[[rule]]\nmatch = { op = \"read\", target = \"superblock\" }\n"
       "action = { fail = \"EIO\" }\n",
       ":5:33: ", "disk 0 (raw/disk.img) has no map: name sectors = \"A-B\" instead, or give the disk map"},
      {"[[disk]]\nblank = \"1MiB\"\n[[rule]]\nmatch = { target = \"superblock\" }\naction = { fail = \"EIO\" }\n",
       ":5:20: ", "disk 0 (blank disk) has no map"},
      {"[[disk]]\nblank = \"1MiB\"\nmount = true\n", ":4:9: ", "a blank disk has no filesystem to mount"},
      {"[[disk]]\nblank = \"1MiB\"\nmount = { fs = \"ext4\", auto = true }\n", ":4:31: ", "a blank disk has no filesystem"},
      {"[[disk]]\nblank = \"1MiB\"\nimage = \"ext4-basic\"\n", ":3:9: ", "image or blank, not both"},
      {"[[disk]]\nblank = \"1000\"\n", ":3:9: ", "multiple of 512"},
      {"[[disk]]\nblank = \"lots\"\n", ":3:9: ", "blank must be a size like \"300MiB\""},
      {"[[disk]]\nblank = \"1MiB\"\nmap = \"raw/disk.map.json\"\n", ":4:7: ", "a blank disk has none"},
      {"[[disk]]\nimgae = \"ext4-basic\"\n", ":3:9: ", "no key 'imgae'"},
      {"[[disk]]\nmount = false\n", ":2:1: ", "needs image = \"...\" or blank"},
  };
  for (auto& c : cases) {
    std::string e = d.parse_error(c.text);
    EXPECT_EQ(e.rfind(d.toml() + c.where, 0), 0u) << c.text << "\n-> " << e;
    EXPECT_NE(e.find(c.why), std::string::npos) << c.text << "\n-> " << e;
  }
  // A blank disk may carry mount options for a later mount step; sector rules need no map.
  EXPECT_EQ(d.parse_error("[[disk]]\nblank = \"1MiB\"\nmount = { fs = \"ext4\", auto = false }\n[[rule]]\n"
                          "match = { sectors = \"0-7\" }\naction = { fail = \"EIO\" }\n"),
            "");
}

TEST(ScenarioDisks, RelativePathsOfTheCommandLineResolveAgainstTheGivenFolder) {
  DiskDir d;
  DiskSpec ds;
  resolve_disk_image("raw/disk.img", d.dir.string(), ds);
  EXPECT_EQ(ds.path, (d.dir / "raw/disk.img").string());
  resolve_disk_map("raw/disk.map.json", d.dir.string(), ds);
  EXPECT_EQ(ds.map, (d.dir / "raw/disk.map.json").string());
  EXPECT_THROW(resolve_disk_image("raw/disk.img", "/nonexistent", ds), std::runtime_error);
}
