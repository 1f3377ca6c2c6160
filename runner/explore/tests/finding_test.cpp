// Invariants and signatures on recorded trial artifacts (tests/traces/<trial>/: result.json,
// records.jsonl, faults-d0.jsonl, map-d0.json, written the way the runner and the guest write them).
#include "runner/explore/finding.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

using namespace fsfault::vm::explore;

namespace {

TrialVerdict trace(const std::string& name) { return judge_trial(std::string(FSFAULT_EXPLORE_TRACES_DIR) + "/" + name); }

}  // namespace

TEST(ExploreFinding, KernelFunctionsComeFromTheLogLine) {
  EXPECT_EQ(kernel_functions("EXT4-fs error (device vda): ext4_validate_block_bitmap:441: comm rm: bg 1: padding"),
            std::vector<std::string>{"ext4_validate_block_bitmap"});
  EXPECT_EQ(kernel_functions("EXT4-fs error (device vda): __ext4_get_inode_loc_noinmem:4584: inode #13"),
            std::vector<std::string>{"__ext4_get_inode_loc_noinmem"});
  EXPECT_EQ(kernel_functions("XFS (vda): Metadata corruption detected at xfs_dir3_block_read_verify+0x5c/0x140"),
            std::vector<std::string>{"xfs_dir3_block_read_verify"});
  EXPECT_EQ(kernel_functions("EXT4-fs error (device vda): htree_dirblock_to_tree:1109: inode #2: block 1169: bad entry"),
            std::vector<std::string>{"htree_dirblock_to_tree"});
  EXPECT_EQ(kernel_functions("EXT4-fs error (device vda) in ext4_mb_clear_bb:6180: IO failure"),
            std::vector<std::string>{"ext4_mb_clear_bb"});
  EXPECT_TRUE(kernel_functions("EXT4-fs (vda): mounted filesystem with ordered data mode.").empty());
}

TEST(ExploreFinding, SilentLossIsAnAccountingViolationNamedByTheKernelFunction) {
  TrialVerdict v = trace("silent-group1");
  ASSERT_EQ(v.violations.size(), 1u);
  EXPECT_EQ(v.violations[0].invariant, "accounting");
  EXPECT_NE(v.violations[0].detail.find("vanished silently"), std::string::npos) << v.violations[0].detail;
  EXPECT_EQ(signatures(v), std::vector<std::string>{"accounting@ext4_mb_generate_buddy"});
}

TEST(ExploreFinding, ReportedErrorsAreNoFinding) { EXPECT_TRUE(trace("reported").violations.empty()); }

TEST(ExploreFinding, SignaturesGroupTrialsOfTheSameClass) {
  std::map<std::string, std::set<std::string>> groups;
  for (const char* t : {"silent-group1", "silent-group3", "reported", "negative-errno", "unfaulted-event", "blocked"})
    for (auto& s : signatures(trace(t))) groups[s].insert(t);
  std::map<std::string, std::set<std::string>> want = {
      {"accounting@ext4_mb_generate_buddy", {"silent-group1", "silent-group3"}},
      {"negative-errno@__ext4_get_inode_loc_noinmem", {"negative-errno"}},
      {"event-without-fault@ext4_validate_block_bitmap", {"unfaulted-event"}},
      {"blocked", {"blocked"}},
  };
  EXPECT_EQ(groups, want);
}

TEST(ExploreFinding, MissingArtifactsAreARunnerError) {
  TrialVerdict v = trace("no-such-trial");
  ASSERT_EQ(v.violations.size(), 1u);
  EXPECT_EQ(v.violations[0].invariant, "runner-error");
}

TEST(ExploreFinding, MinimizingKeepsATrialWhoseFunctionsAreASubset) {
  TrialVerdict v = trace("silent-group1");  // accounting@ext4_mb_generate_buddy
  std::string narrowed;
  EXPECT_TRUE(shows(v, "accounting@ext4_mb_clear_bb+ext4_mb_generate_buddy", &narrowed));
  EXPECT_EQ(narrowed, "accounting@ext4_mb_generate_buddy");
  EXPECT_FALSE(shows(v, "accounting@ext4_mb_clear_bb"));                // another function
  EXPECT_FALSE(shows(v, "negative-errno@ext4_mb_generate_buddy"));     // another invariant
  EXPECT_FALSE(shows(v, "accounting"));                                // it named none
  EXPECT_FALSE(shows(trace("reported"), "accounting@ext4_validate_block_bitmap"));
}
