// The image cache key: a build is reused only when the recipe bytes and every tool's version
// are the same (images/image.h build_key).
#include <gtest/gtest.h>

#include "images/image.h"

using fsfault::images::build_key;

namespace {

const char* kRecipe = "fs = \"ext4\"\nsize = \"64MiB\"\n";
const char* kTools = "mkfs.ext4: mke2fs 1.47.0 (5-Feb-2023)\ndebugfs: debugfs 1.47.0 (5-Feb-2023)\n";

}  // namespace

TEST(BuildKey, SameInputsSameKey) {
  EXPECT_EQ(build_key(kRecipe, kTools), build_key(kRecipe, kTools));
  EXPECT_EQ(build_key(kRecipe, kTools).size(), 64u);  // a SHA-256 in hex
}

TEST(BuildKey, ToolVersionAloneChangesTheKey) {
  std::string newer = "mkfs.ext4: mke2fs 1.47.1 (20-May-2024)\ndebugfs: debugfs 1.47.0 (5-Feb-2023)\n";
  EXPECT_NE(build_key(kRecipe, kTools), build_key(kRecipe, newer));
  EXPECT_NE(build_key(kRecipe, kTools), build_key(kRecipe, ""));
}

TEST(BuildKey, RecipeBytesAloneChangeTheKey) {
  EXPECT_NE(build_key(kRecipe, kTools), build_key(std::string(kRecipe) + "\n", kTools));
}

// The two parts cannot be traded against each other: moving text from the tool versions into
// the recipe gives a different key.
TEST(BuildKey, PartsAreSeparated) {
  EXPECT_NE(build_key("ab", "c"), build_key("b", "ac"));
}

TEST(BuildKey, BoundaryBetweenPartsCounts) {
  EXPECT_NE(build_key("z", "x\ny"), build_key("y\nz", "x"));
}
