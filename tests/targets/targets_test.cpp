// The "done when": a schedule naming a filesystem structure
// (`target = "inode:/data/f1"`) fails exactly that structure's sectors through
// the real server. Golden images are built from the shipped recipes with the
// real tools (cached by recipe hash), the real `fsfault-nbd` serves them with
// the image map, and real NBD clients (libnbd in-process, qemu-io) read the
// mapped sectors and their neighbours.
#include <gtest/gtest.h>
#include <libnbd.h>

#include <fmt/format.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "faults/target_map.h"
#include "images/image.h"
#include "tests/nbd/support.h"

namespace fsfault::it {
namespace {

namespace fs = std::filesystem;
constexpr std::uint64_t kSector = 512;

struct Golden {
  images::BuildResult built;
  faults::TargetMap map;
  std::vector<std::uint8_t> bytes;  // the image, to compare good reads against
};

// Builds (or reuses the cached build of) images/recipes/NAME.toml.
const Golden& golden(const std::string& name) {
  static std::map<std::string, Golden> cache;
  auto it = cache.find(name);
  if (it != cache.end()) return it->second;
  Golden g;
  g.built = images::build_image(fs::path(FSFAULT_RECIPES_DIR) / (name + ".toml"), FSFAULT_TARGETS_IMAGES);
  g.map = faults::TargetMap::load_file(g.built.map_path.string());
  g.bytes = read_file(g.built.image_path.string());
  return cache.emplace(name, std::move(g)).first->second;
}

std::string write_text(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::trunc) << text;
  return path;
}

std::string eio_schedule(const std::string& target) {
  return fmt::format("[[rule]]\nname = \"target-eio\"\nmatch = {{ op = \"read\", target = \"{}\" }}\n"
                     "action = {{ fail = \"EIO\" }}\n",
                     target);
}

struct NbdHandle {
  nbd_handle* h = nbd_create();
  ~NbdHandle() { nbd_close(h); }
};

class TargetsTest : public ServerTest {
 protected:
  ServerProcess& serve(const Golden& g, const std::string& schedule_text) {
    std::string schedule = write_text(dir_.file("schedule.toml"), schedule_text);
    return start_server({"--image", g.built.image_path.string(), "--map", g.built.map_path.string(), "--schedule",
                         schedule, "--fault-log", dir_.file("faults.jsonl")});
  }

  // Reads `count` sectors at `first` through libnbd: 0 and the bytes checked
  // against the golden image, or the errno the server replied with.
  int read_sectors(const ServerProcess& s, const Golden& g, std::uint64_t first, std::uint64_t count) {
    NbdHandle c;
    EXPECT_NE(c.h, nullptr);
    if (nbd_connect_unix(c.h, s.socket().c_str()) != 0) {
      ADD_FAILURE() << "connect: " << nbd_get_error();
      return -1;
    }
    std::vector<std::uint8_t> buf(count * kSector);
    if (nbd_pread(c.h, buf.data(), buf.size(), first * kSector, 0) != 0) return nbd_get_errno();
    EXPECT_TRUE(std::equal(buf.begin(), buf.end(), g.bytes.begin() + static_cast<std::ptrdiff_t>(first * kSector)))
        << "sectors " << first << "+" << count << " differ from the golden image";
    return 0;
  }

  // qemu-io's view of one sector: "" when it read fine, else its error line.
  std::string qemu_read_sector(const ServerProcess& s, std::uint64_t sector) {
    RunResult r = run({"qemu-io", "-r", "-f", "raw", uri(s, ""), "-c", fmt::format("read {} 512", sector * kSector)});
    if (r.output.find("read 512/512 bytes") != std::string::npos && r.output.find("error") == std::string::npos)
      return "";
    return r.output.empty() ? "(no output)" : r.output;
  }

  // The whole check for one map entry: every mapped range fails with EIO, in
  // one request and at its first and last sector; the sectors right before
  // and after each range read the golden bytes.
  void expect_exactly_target_fails(const std::string& image, const std::string& target) {
    const Golden& g = golden(image);
    const faults::Target* t = g.map.find(target);
    ASSERT_NE(t, nullptr) << target << " not in " << g.built.map_path;
    ASSERT_FALSE(t->ranges.empty());
    ServerProcess& s = serve(g, eio_schedule(target));
    const std::uint64_t disk_sectors = g.bytes.size() / kSector;
    for (const auto& r : t->ranges) {
      SCOPED_TRACE(fmt::format("{} {} sectors {}-{}", image, target, r.first, r.last));
      EXPECT_EQ(read_sectors(s, g, r.first, std::min<std::uint64_t>(r.count(), 2048)), EIO);
      EXPECT_EQ(read_sectors(s, g, r.first, 1), EIO);
      EXPECT_EQ(read_sectors(s, g, r.last, 1), EIO);
      ASSERT_GT(r.first, 0u);
      ASSERT_LT(r.last + 1, disk_sectors);
      EXPECT_EQ(read_sectors(s, g, r.first - 1, 1), 0) << "the sector before the target";
      EXPECT_EQ(read_sectors(s, g, r.last + 1, 1), 0) << "the sector after the target";
      // A request that only touches the target still fails.
      EXPECT_EQ(read_sectors(s, g, r.first - 1, 2), EIO);
    }
    // The same through QEMU's NBD client.
    const auto& r0 = t->ranges.front();
    std::string bad = qemu_read_sector(s, r0.first);
    EXPECT_NE(bad.find("Input/output error"), std::string::npos) << bad;
    EXPECT_EQ(qemu_read_sector(s, r0.first - 1), "");
    EXPECT_EQ(qemu_read_sector(s, t->ranges.back().last + 1), "");
    // The fault log names the rule and the target's sector.
    auto log = read_file(dir_.file("faults.jsonl"));
    std::string text(log.begin(), log.end());
    EXPECT_NE(text.find("\"target-eio\""), std::string::npos) << text;
    EXPECT_NE(text.find(fmt::format("\"sector\":{}", r0.first)), std::string::npos) << text;
  }
};

TEST_F(TargetsTest, Ext4InodeOfDataF1FailsExactlyItsSectors) {
  expect_exactly_target_fails("ext4-basic", "inode:/data/f1");
}

TEST_F(TargetsTest, Ext4DataOfDataF1FailsExactlyItsSectors) {
  expect_exactly_target_fails("ext4-basic", "data:/data/f1");
}

TEST_F(TargetsTest, XfsInodeOfDataF1FailsExactlyItsSectors) {
  expect_exactly_target_fails("xfs-basic", "inode:/data/f1");
}

TEST_F(TargetsTest, XfsDataOfDataF1FailsExactlyItsSectors) {
  expect_exactly_target_fails("xfs-basic", "data:/data/f1");
}

TEST_F(TargetsTest, UnknownTargetStopsTheServerListingCloseMatches) {
  const Golden& g = golden("ext4-basic");
  std::string schedule = write_text(dir_.file("bad.toml"), eio_schedule("inode:/data/f3"));
  RunResult r = run({server_binary(), "--image", g.built.image_path.string(), "--map", g.built.map_path.string(),
                     "--schedule", schedule, "--socket", dir_.file("never.sock"), "--overlay-dir", dir_.path()});
  EXPECT_FALSE(r.timed_out);
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_NE(r.exit_code, -1) << "killed by signal " << r.signal << "\n" << r.output;
  EXPECT_NE(r.output.find(fmt::format("{}:3:", schedule)), std::string::npos) << r.output;  // file:line:column
  EXPECT_NE(r.output.find("expected a target of image map \"ext4-basic\", got \"inode:/data/f3\""), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("close matches: \"inode:/data/f1\", \"inode:/data/f2\""), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(dir_.file("never.sock")));
}

TEST_F(TargetsTest, ImageTargetsListsEveryName) {
  const Golden& g = golden("xfs-basic");
  RunResult r = run({FSFAULT_FRONT_BIN, "image", "targets", g.built.map_path.string()});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  ASSERT_GE(g.map.targets().size(), 10u);
  // One line per target: "NAME  RANGES[  ino=N gen=G]", in name order.
  std::vector<std::string> listed;
  std::istringstream lines(r.output);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream fields(line);
    std::string name, ranges;
    fields >> name >> ranges;
    const faults::Target* t = g.map.find(name);
    ASSERT_NE(t, nullptr) << "listed name not in the map: " << line;
    EXPECT_EQ(ranges, faults::format_ranges(t->ranges)) << line;
    listed.push_back(name);
  }
  std::vector<std::string> names;
  for (const auto& [name, t] : g.map.targets()) names.push_back(name);
  EXPECT_EQ(listed, names);
  for (const char* n : {"sb:0", "agf:0", "agi:0", "agfl:0", "log", "inode:/data/f1", "data:/data/f1", "inode:/data"})
    EXPECT_NE(g.map.find(n), nullptr) << n;
  const auto* f1 = g.map.find("inode:/data/f1");
  ASSERT_NE(f1, nullptr);
  ASSERT_TRUE(f1->ino.has_value());
  EXPECT_NE(r.output.find(fmt::format("ino={}", *f1->ino)), std::string::npos) << r.output;
}

}  // namespace
}  // namespace fsfault::it
