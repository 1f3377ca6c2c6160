#include <gtest/gtest.h>

#include "images/recipe.h"

using namespace fsfault::images;

namespace {

const char* kMinimal = R"(
fs = "ext4"
size = "64MiB"
uuid = "f5f4a017-0000-4000-8000-000000000001"
hash_seed = "f5f4a017-0000-4000-8000-0000000000a1"
)";

Recipe parse(const std::string& extra) { return parse_recipe(std::string(kMinimal) + extra, "t"); }

}  // namespace

TEST(Recipe, Sizes) {
  EXPECT_EQ(parse_size("4096"), 4096u);
  EXPECT_EQ(parse_size("4k"), 4096u);
  EXPECT_EQ(parse_size("64MiB"), 64u << 20);
  EXPECT_EQ(parse_size("1G"), 1ull << 30);
  EXPECT_THROW(parse_size("12 parsecs"), std::runtime_error);
  EXPECT_THROW(parse_size("MiB"), std::runtime_error);
}

TEST(Recipe, DefaultsAndImplicitParents) {
  auto r = parse(R"(
[[file]]
path = "/a/b/c"
size = 10
[[symlink]]
path = "/a/l"
target = "b/c"
)");
  EXPECT_EQ(r.name, "t");
  EXPECT_EQ(r.size_bytes, 64u << 20);
  EXPECT_EQ(r.mkfs.inode_size, 256u);
  ASSERT_EQ(r.entries.size(), 4u);
  EXPECT_EQ(r.entries[0].path, "/a");
  EXPECT_EQ(r.entries[0].kind, Entry::Kind::dir);
  EXPECT_EQ(r.entries[1].path, "/a/b");
  EXPECT_EQ(r.entries[2].path, "/a/b/c");
  EXPECT_EQ(r.entries[2].mode, 0644u);
  EXPECT_EQ(r.entries[3].kind, Entry::Kind::symlink);
}

TEST(Recipe, ManyFilesAndModes) {
  auto r = parse(R"(
[[dir]]
path = "/d"
mode = "0700"
[[many]]
dir = "/d/m"
count = 3
size = "1k"
prefix = "s"
mode = 0o600
)");
  ASSERT_EQ(r.entries.size(), 5u);
  EXPECT_EQ(r.entries[0].mode, 0700u);
  EXPECT_EQ(r.entries[1].path, "/d/m");
  EXPECT_EQ(r.entries[2].path, "/d/m/s00000");
  EXPECT_EQ(r.entries[4].path, "/d/m/s00002");
  EXPECT_EQ(r.entries[4].size, 1024u);
  EXPECT_EQ(r.entries[4].mode, 0600u);
}

TEST(Recipe, Errors) {
  EXPECT_THROW(parse("bogus = 1\n"), std::runtime_error);                  // unknown key
  EXPECT_THROW(parse("[[file]]\npath = \"rel\"\n"), std::runtime_error);   // relative
  EXPECT_THROW(parse("[[file]]\npath = \"/a/../b\"\n"), std::runtime_error);
  EXPECT_THROW(parse("[[file]]\npath = \"/a b\"\n"), std::runtime_error);  // space
  EXPECT_THROW(parse("[[file]]\npath = \"/a\"\n[[file]]\npath = \"/a\"\n"), std::runtime_error);
  EXPECT_THROW(parse("[[file]]\npath = \"/a\"\n[[file]]\npath = \"/a/b\"\n"), std::runtime_error);
  EXPECT_THROW(parse("[[file]]\npath = \"/a\"\nmode = \"999\"\n"), std::runtime_error);
  EXPECT_THROW(parse("[[file]]\npath = \"/a\"\nsize = 4096\nextents = 8\n"), std::runtime_error);
  EXPECT_THROW(parse("[[file]]\npath = \"/a\"\nxattrs = { \"bad\" = \"x\" }\n"), std::runtime_error);
  EXPECT_THROW(parse_recipe("fs = \"ext4\"\nsize = 4096\nuuid = \"x\"\n", "t"), std::runtime_error);
  EXPECT_THROW(parse_recipe("fs = \"btrfs\"\n", "t"), std::runtime_error);
  // Floats too big for int64 where integers go: toml++'s value<int64_t>() converted them, undefined
  // behaviour (UBSan), before the error.
  for (const char* huge : {"seed = 1e22\n", "timestamp = 1e22\n", "[[file]]\npath = \"/a\"\nsize = 1e22\n",
                           "[[file]]\npath = \"/a\"\nmode = 1e22\n", "[[file]]\npath = \"/a\"\nuid = 1e22\n"})
    EXPECT_THROW(parse(huge), std::runtime_error) << huge;
  try {
    parse("[mkfs]\nblok_size = 1024\n");
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("blok_size"), std::string::npos);
  }
}

TEST(Recipe, XfsRejectsFragmentedFiles) {
  const char* xfs = R"(
fs = "xfs"
size = "300MiB"
uuid = "f5f4a017-0000-4000-8000-000000000003"
[[file]]
path = "/big"
size = "1MiB"
extents = 4
)";
  EXPECT_THROW(parse_recipe(xfs, "x"), std::runtime_error);
}

TEST(Content, DeterministicAndOffsetConsistent) {
  auto a = file_content(1, "/data/f1", 100);
  EXPECT_EQ(a, file_content(1, "/data/f1", 100));
  EXPECT_NE(a, file_content(2, "/data/f1", 100));
  EXPECT_NE(a, file_content(1, "/data/f2", 100));
  EXPECT_EQ(a.substr(37), file_content(1, "/data/f1", 63, 37));
  EXPECT_NE(generation_for(1, "/a"), 0u);
  EXPECT_EQ(generation_for(1, "/a"), generation_for(1, "/a"));
}

TEST(Content, DataRunsLeaveHoles) {
  Entry e;
  e.path = "/big";
  e.size = 1 << 20;
  e.extents = 4;
  auto runs = data_runs(e, 4096);
  ASSERT_EQ(runs.size(), 4u);
  for (std::size_t i = 1; i < runs.size(); ++i) {
    EXPECT_GT(runs[i].first, runs[i - 1].first + runs[i - 1].second);  // a hole in between
    EXPECT_EQ(runs[i].first % 4096, 0u);
  }
  EXPECT_LE(runs.back().first + runs.back().second, e.size);
  e.extents = 1;
  EXPECT_EQ(data_runs(e, 4096).size(), 1u);
}
