// Integration tests: build the shipped recipes with the real tools, check byte-for-byte
// determinism, and prove the target map against the filesystems' own checkers by corrupting
// exactly one mapped range in a copy of the image.
#include <gtest/gtest.h>

#include <fmt/format.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <nlohmann/json.hpp>
#include <sstream>

#include "images/image.h"
#include "process/process.h"
#include "process/tool_lookup.h"
#include "images/recipe.h"
#include "base/sha256.h"
#include "faults/request.h"
#include "faults/target_map.h"

namespace fs = std::filesystem;
using namespace fsfault::images;
using fsfault::base::sha256_file;
using fsfault::proc::run_process;
using fsfault::faults::kSectorSize;
using fsfault::faults::SectorRange;
using fsfault::faults::Target;
using fsfault::faults::TargetMap;

namespace {

const fs::path kRecipes = FSFAULT_IMAGES_RECIPES;
const fs::path kScratch = FSFAULT_IMAGES_SCRATCH;

// Images shared by the tests of one test binary (ctest runs each test in its own process; the
// build cache makes all but the first reuse the image). Keyed by the binary's own digest, so a
// changed builder never meets images from an older one.
const fs::path& shared_dir() {
  static const fs::path dir = [] {
    std::string digest = sha256_file("/proc/self/exe").substr(0, 16);
    fs::path d = kScratch / ("shared-" + digest);
    fs::create_directories(d);
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(kScratch, ec)) {
      auto name = e.path().filename().string();
      if (name.rfind("shared-", 0) == 0 && e.path() != d) fs::remove_all(e.path(), ec);
    }
    return d;
  }();
  return dir;
}

struct Built {
  Recipe recipe;
  BuildResult result;
  TargetMap map;
};

const Built& built(const std::string& name) {
  static std::map<std::string, Built> cache;
  auto it = cache.find(name);
  if (it != cache.end()) return it->second;
  fs::path recipe = kRecipes / (name + ".toml");
  Built b{load_recipe(recipe), build_image(recipe, shared_dir()), {}};
  b.map = TargetMap::load_file(b.result.map_path.string());
  return cache.emplace(name, std::move(b)).first->second;
}

// A private sparse copy of an image, removed at the end of the test.
class ImageCopy {
 public:
  explicit ImageCopy(const fs::path& image) {
    path_ = kScratch / fmt::format("copy-{}-{}", ::getpid(), image.filename().string());
    auto r = run_process({"cp", "--sparse=always", image.string(), path_.string()});
    if (r.exit_code != 0) throw std::runtime_error("cp failed: " + r.err);
  }
  ~ImageCopy() {
    std::error_code ec;
    fs::remove(path_, ec);
  }
  const fs::path& path() const { return path_; }

  // Overwrites every sector of the target with a fixed non-zero pattern.
  void corrupt(const Target& t) {
    std::fstream f(path_, std::ios::in | std::ios::out | std::ios::binary);
    ASSERT_TRUE(f);
    for (const auto& r : t.ranges) {
      std::string junk((r.last - r.first + 1) * kSectorSize, '\0');
      for (std::size_t i = 0; i < junk.size(); ++i) junk[i] = static_cast<char>((i * 37 + 11) & 0xff);
      f.seekp(static_cast<std::streamoff>(r.first * kSectorSize));
      f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
    }
    ASSERT_TRUE(f);
  }

 private:
  fs::path path_;
};

const Target& target(const TargetMap& m, const std::string& name) {
  const Target* t = m.find(name);
  if (!t) throw std::runtime_error("map has no " + name);
  return *t;
}

// Runs a checker on a copy of `image` whose `name` range was corrupted; returns its output.
std::string check_corrupted(const Built& b, const std::string& name,
                            const std::vector<std::string>& checker_prefix,
                            int* exit_code = nullptr) {
  ImageCopy copy(b.result.image_path);
  copy.corrupt(target(b.map, name));
  auto argv = checker_prefix;
  argv.push_back(copy.path().string());
  auto r = run_process(argv);
  if (exit_code) *exit_code = r.exit_code;
  return r.out + r.err;
}

std::string read_sectors(const fs::path& image, const Target& t) {
  std::ifstream in(image, std::ios::binary);
  std::string out;
  for (const auto& r : t.ranges) {
    std::string buf((r.last - r.first + 1) * kSectorSize, '\0');
    in.seekg(static_cast<std::streamoff>(r.first * kSectorSize));
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    out += buf;
  }
  return out;
}

const Entry& entry(const Recipe& r, const std::string& path) {
  for (const auto& e : r.entries)
    if (e.path == path) return e;
  throw std::runtime_error("recipe has no " + path);
}

#define EXPECT_MENTIONS(output, needle)                                                 \
  EXPECT_NE((output).find(needle), std::string::npos)                                  \
      << "checker output does not mention \"" << (needle) << "\":\n"                    \
      << (output).substr(0, 3000)

}  // namespace

// ---- determinism ------------------------------------------------------------------------------

class Determinism : public ::testing::TestWithParam<std::string> {};

TEST_P(Determinism, TwoBuildsAreByteIdenticalAndCached) {
  const std::string name = GetParam();
  fs::path recipe = kRecipes / (name + ".toml");
  fs::path a = kScratch / fmt::format("det-{}-a", ::getpid());
  fs::path b = kScratch / fmt::format("det-{}-b", ::getpid());
  auto first = build_image(recipe, a, BuildOptions{true});
  sleep(1);  // a clock leak into the image would show up as a difference
  auto second = build_image(recipe, b, BuildOptions{true});
  EXPECT_FALSE(first.cached);
  EXPECT_FALSE(second.cached);
  EXPECT_EQ(first.image_sha256, second.image_sha256);
  EXPECT_EQ(sha256_file(first.image_path), first.image_sha256);
  EXPECT_EQ(sha256_file(second.image_path), second.image_sha256);
  EXPECT_EQ(sha256_file(first.map_path), sha256_file(second.map_path));
  // The host's sha256sum agrees with ours.
  auto r = run_process({"sha256sum", first.image_path.string()});
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out.substr(0, 64), first.image_sha256);
  std::cout << name << " sha256 " << first.image_sha256 << "\n";
  // A third build of the same recipe into the same directory is served from the cache.
  auto third = build_image(recipe, a);
  EXPECT_TRUE(third.cached);
  EXPECT_EQ(third.image_sha256, first.image_sha256);
  fs::remove_all(a);
  fs::remove_all(b);
}

INSTANTIATE_TEST_SUITE_P(Recipes, Determinism,
                         ::testing::Values("ext4-basic", "ext4-small-journal", "xfs-basic"),
                         [](const auto& info) {
                           std::string s = info.param;
                           for (auto& c : s)
                             if (c == '-') c = '_';
                           return s;
                         });

// ---- the cache key follows the tools --------------------------------------------------------

namespace {

std::string stamp_key(const fs::path& dir, const std::string& name) {
  std::ifstream in(dir / (name + ".build.json"));
  std::stringstream ss;
  ss << in.rdbuf();
  return nlohmann::json::parse(ss.str()).at("key").get<std::string>();
}

// PATH with DIR first while alive: a wrapper there shadows the host's tool.
class PathPrefix {
 public:
  explicit PathPrefix(const fs::path& dir) : old_(std::getenv("PATH") ? std::getenv("PATH") : "") {
    ::setenv("PATH", (dir.string() + ":" + old_).c_str(), 1);
  }
  ~PathPrefix() { ::setenv("PATH", old_.c_str(), 1); }

 private:
  std::string old_;
};

}  // namespace

// A new mkfs.ext4 (here a wrapper that runs the real one but reports another version) must not
// be served an image the old one made.
TEST(ImageCache, NewToolVersionRebuilds) {
  const std::string name = "ext4-small-journal";
  fs::path recipe = kRecipes / (name + ".toml");
  fs::path out = kScratch / fmt::format("cache-{}", ::getpid());
  fs::remove_all(out);
  auto first = build_image(recipe, out);
  EXPECT_FALSE(first.cached);
  std::string key = stamp_key(out, name);
  EXPECT_TRUE(build_image(recipe, out).cached) << "same tools, same recipe";

  auto real = fsfault::proc::lookup_tool("mkfs.ext4");
  ASSERT_TRUE(real);
  fs::path bin = out / "wrapper-bin";
  fs::create_directories(bin);
  std::ofstream(bin / "mkfs.ext4")
      << "#!/bin/sh\nfor a in \"$@\"; do [ \"$a\" = -V ] && { echo 'mke2fs 9.99 (fsfault test)' >&2; "
         "exit 0; }; done\nexec "
      << real->string() << " \"$@\"\n";
  fs::permissions(bin / "mkfs.ext4", fs::perms::owner_all | fs::perms::group_read |
                                         fs::perms::group_exec);
  {
    PathPrefix wrapped(bin);
    auto r = run_process({"mkfs.ext4", "-V"});
    ASSERT_NE((r.out + r.err).find("9.99"), std::string::npos) << "the wrapper is not first in PATH";
    auto second = build_image(recipe, out);
    EXPECT_FALSE(second.cached) << "a changed mkfs.ext4 -V must rebuild";
    EXPECT_NE(stamp_key(out, name), key);
    EXPECT_EQ(second.image_sha256, first.image_sha256) << "the same real mkfs made it";
    EXPECT_TRUE(build_image(recipe, out).cached) << "the wrapper's build is reused by the wrapper";
  }
  auto back = build_image(recipe, out);
  EXPECT_FALSE(back.cached) << "back to the host's mkfs.ext4: its key again";
  EXPECT_EQ(stamp_key(out, name), key);
  fs::remove_all(out);
}

// ---- ext4 -------------------------------------------------------------------------------------

TEST(Ext4Map, HasTheCatalogueTargetsInTheFixedFormat) {
  const auto& b = built("ext4-basic");
  EXPECT_EQ(b.map.image, "ext4-basic");
  EXPECT_EQ(b.map.fs, "ext4");
  EXPECT_EQ(b.map.size_bytes, 64u << 20);
  for (const char* n : {"superblock", "gdt", "block-bitmap:0", "inode-bitmap:3", "inode-table:0",
                        "journal", "inode:/data/f1", "data:/data/f1", "dir:/data",
                        "extent-tree:/data/big", "data:/data/longlink", "dir:/data/many"})
    EXPECT_NE(b.map.find(n), nullptr) << n;
  EXPECT_EQ(b.map.find("data:/data/link"), nullptr);  // fast symlink: no blocks
  EXPECT_EQ(b.map.find("extent-tree:/data/f1"), nullptr);
  EXPECT_EQ(target(b.map, "superblock").ranges, (std::vector<SectorRange>{{2, 3}}));
  const auto& inode = target(b.map, "inode:/data/f1");
  ASSERT_EQ(inode.ranges.size(), 1u);
  EXPECT_EQ(inode.ranges[0].first, inode.ranges[0].last);  // a 256-byte inode: one sector
  EXPECT_TRUE(inode.ino && inode.gen);
  EXPECT_FALSE(target(b.map, "superblock").ino);
  // Many small files spread over several inode-table blocks.
  std::set<std::uint64_t> itable_blocks;
  for (const auto& [n, t] : b.map.targets())
    if (n.rfind("inode:/data/many/", 0) == 0) itable_blocks.insert(t.ranges[0].first / 8);
  EXPECT_GE(itable_blocks.size(), 10u);
  // The fragmented file really has many extents.
  EXPECT_GE(target(b.map, "data:/data/big").ranges.size(), 2u);
}

TEST(Ext4Map, InodeNumbersMatchDebugfsNcheck) {
  const auto& b = built("ext4-basic");
  std::string cmd = "ncheck";
  std::map<std::uint64_t, std::string> expect;
  for (const auto& [n, t] : b.map.targets()) {
    if (n.rfind("inode:", 0) != 0 || n == "inode:/") continue;
    cmd += " " + std::to_string(*t.ino);
    expect[*t.ino] = n.substr(6);
  }
  auto r = run_process({"debugfs", "-R", cmd, b.result.image_path.string()});
  ASSERT_EQ(r.exit_code, 0);
  std::istringstream is(r.out);
  std::string line;
  std::size_t seen = 0;
  while (std::getline(is, line)) {
    std::smatch m;
    if (!std::regex_match(line, m, std::regex(R"((\d+)\s+(/.*))"))) continue;
    std::string path = std::regex_replace(m[2].str(), std::regex("/+"), "/");
    auto ino = std::stoull(m[1]);
    ASSERT_TRUE(expect.count(ino)) << line;
    EXPECT_EQ(expect[ino], path);
    ++seen;
  }
  EXPECT_EQ(seen, expect.size());
}

TEST(Ext4Map, DataSectorsHoldTheRecipeContent) {
  const auto& b = built("ext4-basic");
  const auto& f1 = entry(b.recipe, "/data/f1");
  std::string on_disk = read_sectors(b.result.image_path, target(b.map, "data:/data/f1"));
  ASSERT_GE(on_disk.size(), f1.size);
  EXPECT_TRUE(on_disk.substr(0, f1.size) == file_content(b.recipe.seed, "/data/f1", f1.size));
  // debugfs reads the same bytes back through the filesystem.
  auto r = run_process({"debugfs", "-R", "cat /data/f1", b.result.image_path.string()});
  EXPECT_TRUE(r.out == file_content(b.recipe.seed, "/data/f1", f1.size));
  // Corrupting the mapped data changes what the filesystem returns, and nothing else.
  ImageCopy copy(b.result.image_path);
  copy.corrupt(target(b.map, "data:/data/f1"));
  auto c = run_process({"debugfs", "-R", "cat /data/f1", copy.path().string()});
  EXPECT_TRUE(c.out != r.out);
  EXPECT_EQ(run_process({"e2fsck", "-fn", copy.path().string()}).exit_code, 0);
}

TEST(Ext4Checker, Superblock) {
  int rc = 0;
  auto out = check_corrupted(built("ext4-basic"), "superblock", {"e2fsck", "-fn"}, &rc);
  EXPECT_NE(rc, 0);
  EXPECT_MENTIONS(out, "Bad magic number in super-block");
}

TEST(Ext4Checker, GroupDescriptors) {
  auto out = check_corrupted(built("ext4-basic"), "gdt", {"e2fsck", "-fn"});
  EXPECT_MENTIONS(out, "Corrupt group descriptor");
}

TEST(Ext4Checker, BlockBitmap) {
  auto out = check_corrupted(built("ext4-basic"), "block-bitmap:0", {"e2fsck", "-fn"});
  EXPECT_MENTIONS(out, "Group 0 block bitmap does not match checksum");
}

TEST(Ext4Checker, InodeBitmap) {
  auto out = check_corrupted(built("ext4-basic"), "inode-bitmap:0", {"e2fsck", "-fn"});
  EXPECT_MENTIONS(out, "Group 0 inode bitmap does not match checksum");
}

TEST(Ext4Checker, InodeTable) {
  // Group 0's table holds the root (2) and journal (8) inodes.
  const auto& b = built("ext4-basic");
  auto out = check_corrupted(b, "inode-table:0", {"e2fsck", "-fn"});
  EXPECT_MENTIONS(out, "invalid journal (inode 8)");
  ImageCopy copy(b.result.image_path);
  copy.corrupt(target(b.map, "inode-table:0"));
  auto r = run_process({"debugfs", "-R", "stat <2>", copy.path().string()});
  EXPECT_MENTIONS(r.err, "Inode checksum does not match inode while reading inode 2");
}

TEST(Ext4Checker, InodeOfDataF1) {
  const auto& b = built("ext4-basic");
  auto ino = *target(b.map, "inode:/data/f1").ino;
  auto out = check_corrupted(b, "inode:/data/f1", {"e2fsck", "-fn"});
  EXPECT_MENTIONS(out, fmt::format("Inode {} ", ino));
  ImageCopy copy(b.result.image_path);
  copy.corrupt(target(b.map, "inode:/data/f1"));
  auto r = run_process({"debugfs", "-R", "stat /data/f1", copy.path().string()});
  EXPECT_MENTIONS(r.err, fmt::format("Inode checksum does not match inode while reading inode {}", ino));
}

TEST(Ext4Checker, DirData) {
  const auto& b = built("ext4-basic");
  auto ino = *target(b.map, "dir:/data").ino;
  auto out = check_corrupted(b, "dir:/data", {"e2fsck", "-fn"});
  EXPECT_MENTIONS(out, fmt::format("Directory inode {}, block #0", ino));
}

TEST(Ext4Checker, ExtentTreeOfBig) {
  const auto& b = built("ext4-basic");
  const auto& t = target(b.map, "extent-tree:/data/big");
  ASSERT_EQ(t.ranges.size(), 1u);
  auto out = check_corrupted(b, "extent-tree:/data/big", {"e2fsck", "-fn"});
  EXPECT_MENTIONS(out, fmt::format("Inode {} has an invalid extent node (blk {},", *t.ino,
                                   t.ranges[0].first / 8));
}

TEST(Ext4Checker, Journal) {
  auto out = check_corrupted(built("ext4-basic"), "journal", {"e2fsck", "-fn"});
  EXPECT_MENTIONS(out, "Journal superblock is corrupt");
}

TEST(Ext4Checker, SmallJournalOneKiBBlocks) {
  const auto& b = built("ext4-small-journal");
  // 1 KiB blocks: superblock is block 1 (still sectors 2-3), descriptors block 2 (sectors 4-5).
  EXPECT_EQ(target(b.map, "superblock").ranges, (std::vector<SectorRange>{{2, 3}}));
  EXPECT_EQ(target(b.map, "gdt").ranges, (std::vector<SectorRange>{{4, 5}}));
  EXPECT_MENTIONS(check_corrupted(b, "superblock", {"e2fsck", "-fn"}),
                  "Bad magic number in super-block");
  EXPECT_MENTIONS(check_corrupted(b, "gdt", {"e2fsck", "-fn"}), "Corrupt group descriptor");
  auto ino = *target(b.map, "inode:/data/f1").ino;
  EXPECT_MENTIONS(check_corrupted(b, "inode:/data/f1", {"e2fsck", "-fn"}), fmt::format("Inode {} ", ino));
  EXPECT_MENTIONS(check_corrupted(b, "journal", {"e2fsck", "-fn"}), "Journal superblock is corrupt");
}

// ---- xfs --------------------------------------------------------------------------------------

TEST(XfsMap, HasPerAgHeadersLogAndPaths) {
  const auto& b = built("xfs-basic");
  EXPECT_EQ(b.map.fs, "xfs");
  for (int ag = 0; ag < 4; ++ag) {
    auto sb = target(b.map, fmt::format("sb:{}", ag)).ranges.at(0).first;
    EXPECT_EQ(target(b.map, fmt::format("agf:{}", ag)).ranges.at(0).first, sb + 1);
    EXPECT_EQ(target(b.map, fmt::format("agi:{}", ag)).ranges.at(0).first, sb + 2);
    EXPECT_EQ(target(b.map, fmt::format("agfl:{}", ag)).ranges.at(0).first, sb + 3);
  }
  for (const char* n : {"log", "inode:/data/f1", "data:/data/f1", "inode:/data", "dir:/data/many",
                        "data:/data/big"})
    EXPECT_NE(b.map.find(n), nullptr) << n;
  EXPECT_EQ(target(b.map, "log").sector_count(), (64u << 20) / 512);
  // xfs_db's own translation of the log start agrees with the map.
  auto r = run_process({"xfs_db", "-r", "-c", "sb 0", "-c", "print logstart",
                        b.result.image_path.string()});
  auto logstart = r.out.substr(r.out.find("= ") + 2);
  auto c = run_process({"xfs_db", "-r", "-c", "convert fsb " + logstart.substr(0, logstart.find('\n')) + " daddr",
                        b.result.image_path.string()});
  std::smatch m;
  ASSERT_TRUE(std::regex_search(c.out, m, std::regex(R"(\((\d+)\))"))) << c.out << c.err;
  EXPECT_EQ(std::stoull(m[1]), target(b.map, "log").ranges.at(0).first);
  // Generations are set from the recipe seed (file handles carry them).
  EXPECT_EQ(*target(b.map, "inode:/data/f1").gen, generation_for(b.recipe.seed, "/data/f1"));
}

TEST(XfsMap, InodeNumbersMatchXfsDb) {
  const auto& b = built("xfs-basic");
  auto r = run_process({"xfs_db", "-r", "-c", "blockget -n", "-c", "ncheck",
                        b.result.image_path.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::map<std::string, std::uint64_t> by_path;
  std::istringstream is(r.out);
  std::string line;
  while (std::getline(is, line)) {
    std::smatch m;
    if (!std::regex_match(line, m, std::regex(R"(\s*(\d+)\s+(\S+))"))) continue;
    std::string p = "/" + m[2].str();
    if (p.size() > 2 && p.substr(p.size() - 2) == "/.") p.resize(p.size() - 2);
    by_path[p] = std::stoull(m[1]);
  }
  std::size_t checked = 0;
  for (const auto& [n, t] : b.map.targets()) {
    if (n.rfind("inode:", 0) != 0 || n == "inode:/") continue;
    auto p = n.substr(6);
    ASSERT_TRUE(by_path.count(p)) << p;
    EXPECT_EQ(by_path[p], *t.ino) << p;
    ++checked;
  }
  EXPECT_GT(checked, 300u);
  // And `xfs_db path` + `inode` for one of them.
  auto one = run_process({"xfs_db", "-r", "-c", "path /data/f1", "-c", "inode", b.result.image_path.string()});
  EXPECT_MENTIONS(one.out, fmt::format("current inode number is {}", *target(b.map, "inode:/data/f1").ino));
}

TEST(XfsMap, DataSectorsHoldTheRecipeContent) {
  const auto& b = built("xfs-basic");
  for (const char* p : {"/data/f1", "/data/big"}) {
    const auto& e = entry(b.recipe, p);
    std::string on_disk = read_sectors(b.result.image_path, target(b.map, std::string("data:") + p));
    ASSERT_GE(on_disk.size(), e.size);
    EXPECT_TRUE(on_disk.substr(0, e.size) == file_content(b.recipe.seed, p, e.size)) << p;
  }
}

TEST(XfsChecker, SecondarySuperblock) {
  auto out = check_corrupted(built("xfs-basic"), "sb:3", {"xfs_repair", "-n"});
  EXPECT_MENTIONS(out, "bad on-disk superblock 3");
}

TEST(XfsChecker, Agf) {
  auto out = check_corrupted(built("xfs-basic"), "agf:2", {"xfs_repair", "-n"});
  EXPECT_MENTIONS(out, "agf has bad CRC for ag 2");
  EXPECT_MENTIONS(out, "bad magic # 0xb30557a for agf 2");
}

TEST(XfsChecker, Agi) {
  auto out = check_corrupted(built("xfs-basic"), "agi:1", {"xfs_repair", "-n"});
  EXPECT_MENTIONS(out, "agi has bad CRC for ag 1");
}

TEST(XfsChecker, Agfl) {
  auto out = check_corrupted(built("xfs-basic"), "agfl:0", {"xfs_repair", "-n"});
  EXPECT_MENTIONS(out, "agfl has bad CRC for ag 0");
}

TEST(XfsChecker, InodeOfDataF1) {
  const auto& b = built("xfs-basic");
  auto ino = *target(b.map, "inode:/data/f1").ino;
  auto out = check_corrupted(b, "inode:/data/f1", {"xfs_repair", "-n"});
  EXPECT_MENTIONS(out, fmt::format("bad CRC for inode {}", ino));
  EXPECT_MENTIONS(out, fmt::format("bad magic number 0xb30 on inode {}", ino));
  // Only that inode: its cluster neighbours are intact.
  EXPECT_EQ(out.find(fmt::format("on inode {}\n", ino + 1)), std::string::npos);
  ImageCopy copy(b.result.image_path);
  copy.corrupt(target(b.map, "inode:/data/f1"));
  auto r = run_process({"xfs_db", "-r", "-c", fmt::format("inode {}", ino), "-c", "print core.magic",
                        copy.path().string()});
  EXPECT_MENTIONS(r.out + r.err, fmt::format("Metadata CRC error detected for ino {}", ino));
}

TEST(XfsChecker, DirectoryBlocks) {
  const auto& b = built("xfs-basic");
  auto ino = *target(b.map, "dir:/data/many").ino;
  auto out = check_corrupted(b, "dir:/data/many", {"xfs_repair", "-n"});
  EXPECT_MENTIONS(out, fmt::format("corrupt block 0 in directory inode {}", ino));
}

TEST(XfsChecker, Log) {
  auto out = check_corrupted(built("xfs-basic"), "log", {"xfs_repair", "-n"});
  EXPECT_MENTIONS(out, "failed to find log head");
}

// ---- the command line -------------------------------------------------------------------------

TEST(ImageCli, BuildAndTargets) {
  fs::path out = kScratch / fmt::format("cli-{}", ::getpid());
  std::string recipe = (kRecipes / "ext4-small-journal.toml").string();
  auto first = run_process({FSFAULT_IMAGE_BIN, "image", "build", recipe, "--out", out.string()});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_MENTIONS(first.out, "built ");
  auto again = run_process({FSFAULT_IMAGE_BIN, "image", "build", recipe, "--out", out.string()});
  EXPECT_MENTIONS(again.out, "cached ");
  auto list = run_process({FSFAULT_IMAGE_BIN, "image", "targets",
                           (out / "ext4-small-journal.map.json").string(), "--filter", "inode:/data/f*"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_TRUE(std::regex_search(list.out, std::regex(R"(inode:/data/f1\s+\d+\s+ino=\d+ gen=\d+)")))
      << list.out;
  EXPECT_EQ(list.out.find("superblock"), std::string::npos);
  auto bad = run_process({FSFAULT_IMAGE_BIN, "image", "targets", "/nonexistent.map.json"});
  EXPECT_NE(bad.exit_code, 0);
  fs::remove_all(out);
}

TEST(ImageCli, BrokenRecipeFailsWithTheKeyName) {
  fs::path dir = kScratch / fmt::format("bad-{}", ::getpid());
  fs::create_directories(dir);
  std::ofstream(dir / "bad.toml") << "fs = \"ext4\"\nsize = \"64MiB\"\nsizee = 1\n";
  auto r = run_process({FSFAULT_IMAGE_BIN, "image", "build", (dir / "bad.toml").string(), "--out",
                        (dir / "out").string()});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_MENTIONS(r.err, "sizee");
  fs::remove_all(dir);
}

TEST(ImageApi, NamedRecipes) {
  EXPECT_EQ(recipe_path_for("xfs-basic", kRecipes), kRecipes / "xfs-basic.toml");
  try {
    recipe_path_for("ext5-basic", kRecipes);
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_MENTIONS(std::string(e.what()), "ext4-basic, ext4-small-journal, xfs-basic");
  }
  auto r = build_named_image("ext4-basic", kRecipes, shared_dir());
  EXPECT_EQ(r.image_path, shared_dir() / "ext4-basic.img");
}

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  std::filesystem::create_directories(kScratch);
  return RUN_ALL_TESTS();
}
