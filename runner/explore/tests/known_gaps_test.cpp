// Known gaps recognised by signature: the catalogue's marks, loaded by the scenario loader, against
// a recorded bookworm trial (traces/bookworm-t0004-known-gap).
#include "runner/explore/known_gaps.h"

#include "base/files.h"
#include "runner/explore/finding.h"

#include <gtest/gtest.h>

#include <stdlib.h>

#include <filesystem>

using namespace fsfault::vm::explore;

namespace {

const KnownGap* gap_of(const std::vector<KnownGap>& gaps, const std::string& scenario) {
  for (auto& g : gaps)
    if (g.scenario == scenario) return &g;
  return nullptr;
}

std::vector<KnownGap> catalogue_gaps() {
  std::vector<std::string> warnings;
  auto gaps = load_known_gaps(FSFAULT_SCENARIOS_DIR, warnings);
  EXPECT_TRUE(warnings.empty()) << warnings[0];
  return gaps;
}

}  // namespace

TEST(ExploreKnownGaps, TheCatalogueMarksLoadWithTheInvariantThatSeesThem) {
  auto gaps = catalogue_gaps();
  const KnownGap* bitmap = gap_of(gaps, "ext4/bitmap-first-kib-unreported");
  ASSERT_NE(bitmap, nullptr);
  EXPECT_EQ(bitmap->function, "__ext4_grp_locked_error");
  EXPECT_EQ(bitmap->invariant, "accounting");
  EXPECT_EQ(bitmap->what, "ext4 counts the error but sends no event");
  const KnownGap* shutdown = gap_of(gaps, "xfs/shutdown-log-eio-7");
  ASSERT_NE(shutdown, nullptr);
  EXPECT_EQ(shutdown->function, "xlog_force_shutdown");
  EXPECT_EQ(shutdown->invariant, "");  // an event expectation: no explore invariant judges it
  EXPECT_EQ(shutdown->kernel, ">=7.0");
}

TEST(ExploreKnownGaps, RecordedBitmapTrialIsTheKnownGap) {
  TrialVerdict v = judge_trial(std::string(FSFAULT_EXPLORE_TRACES_DIR) + "/bookworm-t0004-known-gap");
  ASSERT_EQ(signatures(v).size(), 1u);
  std::string sig = signatures(v)[0];
  EXPECT_EQ(sig, "accounting@__ext4_grp_locked_error+__ext4_std_error+ext4_mb_clear_bb+ext4_mb_generate_buddy+"
                 "ext4_wait_block_bitmap");
  EXPECT_EQ(v.kernel_release, "6.1.0-50-cloud-amd64");
  auto gaps = catalogue_gaps();
  const KnownGap* k = recognise(sig, gaps, v.kernel_release);
  ASSERT_NE(k, nullptr);
  EXPECT_EQ(k->scenario, "ext4/bitmap-first-kib-unreported");
}

TEST(ExploreKnownGaps, AnotherInvariantFunctionOrKernelIsNew) {
  auto gaps = catalogue_gaps();
  const std::string rel = "6.1.0-50-cloud-amd64";
  EXPECT_EQ(recognise("negative-errno@__ext4_grp_locked_error", gaps, rel), nullptr);
  EXPECT_EQ(recognise("accounting@ext4_mb_generate_buddy", gaps, rel), nullptr);
  EXPECT_EQ(recognise("accounting", gaps, rel), nullptr);
  EXPECT_EQ(recognise("accounting@__ext4_grp_locked_error", gaps, "5.10.0-30-cloud-amd64"), nullptr);  // <5.16
  EXPECT_NE(recognise("accounting@__ext4_grp_locked_error", gaps, ""), nullptr);  // no hello: not gated
}

TEST(ExploreKnownGaps, NegativeErrnoOfStdErrorIsKnownOn6xOnly) {
  auto gaps = catalogue_gaps();
  const KnownGap* g = recognise("negative-errno@__ext4_std_error", gaps, "6.12.117-fi");
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(g->scenario, "ext4/std-error-negative-errno");
  EXPECT_EQ(recognise("negative-errno@__ext4_std_error", gaps, "7.2.13-fi"), nullptr);  // expectation <7.0
  EXPECT_EQ(recognise("undocumented-errno@__ext4_std_error", gaps, "6.12.117-fi"), nullptr);
}

TEST(ExploreKnownGaps, AFileThatDoesNotLoadIsAWarning) {
  char tmpl[] = "/tmp/explore-catalogue.XXXXXX";
  std::string dir = mkdtemp(tmpl);
  fsfault::base::write_file(dir + "/broken.toml", "name = \"x/broken\"\n[[expect]\n");
  fsfault::base::write_file(dir + "/gap.toml", R"(name = "x/gap"
step = [{ do = "stat", path = "/" }]
[[disk]]
image = "ext4-basic"
[[expect]]
accounting = "errors"
before = "b"
after = "a"
known_gap = { what = "w", function = "f", fixed_when = "x" }
)");
  std::vector<std::string> warnings;
  auto gaps = load_known_gaps(dir, warnings);
  std::filesystem::remove_all(dir);
  ASSERT_EQ(gaps.size(), 1u) << (warnings.empty() ? "" : warnings[0]);
  EXPECT_EQ(gaps[0].scenario, "x/gap");
  EXPECT_EQ(gaps[0].invariant, "accounting");
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("broken.toml did not load"), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[0].find("broken.toml:2:"), std::string::npos) << warnings[0];
}
