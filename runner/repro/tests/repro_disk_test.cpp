// fsfault repro --image PATH [--map MAP] [--mount-options OPTS]: the disk of the repro scenario,
// paths relative to the current directory, and the workload file's mount = { options = ... }.
#include "runner/repro/repro.h"
#include "runner/test_temp_dir.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

using namespace fsfault::vm;
using fsfault::vm::testing::TempDir;
namespace fs = std::filesystem;

namespace {

const char* const kSectorRule = "[[rule]]\nmatch = { op = \"read\", sectors = \"0-7\" }\naction = { fail = \"EIO\" }\n";

// Runs f with the current directory set to dir (relative --image paths resolve there).
template <typename F>
void in_dir(const fs::path& dir, F&& f) {
  auto old = fs::current_path();
  fs::current_path(dir);
  try {
    f();
  } catch (...) {
    fs::current_path(old);
    throw;
  }
  fs::current_path(old);
}

std::string error_of(const std::string& schedule, const std::string& path, const ReproDisk& disk,
                     const std::string& workload = "") {
  try {
    repro_scenario(schedule, path, disk, std::nullopt, workload);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(ReproDisk, RawImageAndMapRelativeToTheCurrentDirectory) {
  TempDir t;
  t.put("d/raw.img", std::string(65536, '\0'));
  t.put("d/raw.map.json", R"({"image": "raw", "fs": "ext4", "size_bytes": 65536, "targets": {}})");
  std::string sched = t.put("s/flood.toml", kSectorRule);
  in_dir(t.dir, [&] {
    Scenario s = repro_scenario(kSectorRule, sched, ReproDisk{"d/raw.img", "d/raw.map.json", "errors=continue"},
                                std::nullopt);
    ASSERT_EQ(s.disks.size(), 1u);
    EXPECT_EQ(s.disks[0].source, DiskSource::raw_image);
    EXPECT_EQ(s.disks[0].path, (t.dir / "d/raw.img").string());
    EXPECT_EQ(s.disks[0].map, (t.dir / "d/raw.map.json").string());
    EXPECT_EQ(s.disks[0].options, "errors=continue");
    // Not the schedule's folder: d/raw.img is not under s/.
    EXPECT_NE(error_of(kSectorRule, sched, ReproDisk{"../d/raw.img", "", std::nullopt}).find("--image: image "),
              std::string::npos);
  });
}

TEST(ReproDisk, MistakesNameTheOption) {
  TempDir t;
  t.put("raw.img", std::string(4096, '\0'));
  t.put("bad.map.json", "{\n  \"targets\": [}\n");
  std::string sched = t.put("flood.toml", kSectorRule);
  in_dir(t.dir, [&] {
    EXPECT_EQ(error_of(kSectorRule, sched, ReproDisk{"nope.img", "", std::nullopt}),
              "--image: image " + (t.dir / "nope.img").string() + ": no such file");
    std::string map_error = error_of(kSectorRule, sched, ReproDisk{"raw.img", "bad.map.json", std::nullopt});
    EXPECT_EQ(map_error.rfind("--map: " + (t.dir / "bad.map.json").string() + ":2:15: not a target map", 0), 0u)
        << map_error;
    std::string target = "[[rule]]\nmatch = { target = \"superblock\" }\naction = { fail = \"EIO\" }\n";
    std::string no_map = error_of(target, sched, ReproDisk{"raw.img", "", std::nullopt});
    EXPECT_NE(no_map.find("has no map"), std::string::npos) << no_map;
    // The schedule's own line (2: the match), not the line in the document repro builds around it.
    EXPECT_EQ(no_map.rfind(sched + ":2:", 0), 0u) << no_map;
  });
}

TEST(ReproDisk, MountOptionsFromTheWorkloadFileUnlessGiven) {
  TempDir t;
  std::string sched = t.put("flood.toml", kSectorRule);
  std::string w = t.put("w.toml", "mount = { options = \"errors=remount-ro\" }\nstep = [ { do = \"sync\" } ]\n");
  Scenario s = repro_scenario(kSectorRule, sched, ReproDisk{"ext4-basic", "", std::nullopt}, std::nullopt, w);
  EXPECT_EQ(s.disks[0].options, "errors=remount-ro");
  s = repro_scenario(kSectorRule, sched, ReproDisk{"ext4-basic", "", "errors=continue"}, std::nullopt, w);
  EXPECT_EQ(s.disks[0].options, "errors=continue");
  std::string bad = t.put("bad.toml", "step = [ { do = \"sync\" } ]\nmount = { opts = \"x\" }\n");
  EXPECT_EQ(error_of(kSectorRule, sched, ReproDisk{"ext4-basic", "", std::nullopt}, bad)
                .rfind(bad + ":2:9: mount must be { options", 0),
            0u);
}
