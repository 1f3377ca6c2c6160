// Invariants and signatures on recorded trial artifacts (tests/traces/<trial>/: result.json,
// records.jsonl, faults-d0.jsonl, map-d0.json, written the way the runner and the guest write them).
#include "runner/explore/finding.h"

#include "base/files.h"
#include "runner/judge/judge.h"

#include <gtest/gtest.h>

#include <stdlib.h>

#include <filesystem>

#include <map>
#include <set>

using namespace fsfault::vm::explore;
using fsfault::vm::json;

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
  EXPECT_TRUE(kernel_functions("EXT4-fs (vda): mounted filesystem with ordered data mode.").empty());
}

// The reporter whose format a line has, as recorded on bookworm (traces/bookworm-t0004-known-gap).
TEST(ExploreFinding, KernelFunctionsNameTheReporterOfItsOwnFormat) {
  EXPECT_EQ(kernel_functions("EXT4-fs error (device vda): ext4_mb_generate_buddy:1123: group 1, block bitmap and bg "
                             "descriptor inconsistent: 32 vs 0 free clusters"),
            (std::vector<std::string>{"ext4_mb_generate_buddy", "__ext4_grp_locked_error"}));
  EXPECT_EQ(kernel_functions("EXT4-fs error (device vda) in ext4_mb_clear_bb:6180: IO failure"),
            (std::vector<std::string>{"ext4_mb_clear_bb", "__ext4_std_error"}));
  // "block_group = 2," is not the "group N, " right after FUNC:LINE:
  EXPECT_EQ(kernel_functions("EXT4-fs error (device vda): ext4_wait_block_bitmap:571: comm init: Cannot read block "
                             "bitmap - block_group = 2, block_bitmap = 131"),
            std::vector<std::string>{"ext4_wait_block_bitmap"});
}

TEST(ExploreFinding, SilentLossIsAnAccountingViolationNamedByTheKernelFunction) {
  TrialVerdict v = trace("silent-group1");
  ASSERT_EQ(v.violations.size(), 1u);
  EXPECT_EQ(v.violations[0].invariant, "accounting");
  EXPECT_NE(v.violations[0].detail.find("vanished silently"), std::string::npos) << v.violations[0].detail;
  EXPECT_EQ(signatures(v), std::vector<std::string>{"accounting@__ext4_grp_locked_error+ext4_mb_generate_buddy"});
}

TEST(ExploreFinding, ReportedErrorsAreNoFinding) { EXPECT_TRUE(trace("reported").violations.empty()); }

TEST(ExploreFinding, SignaturesGroupTrialsOfTheSameClass) {
  std::map<std::string, std::set<std::string>> groups;
  for (const char* t : {"silent-group1", "silent-group3", "reported", "negative-errno", "unfaulted-event", "blocked"})
    for (auto& s : signatures(trace(t))) groups[s].insert(t);
  std::map<std::string, std::set<std::string>> want = {
      {"accounting@__ext4_grp_locked_error+ext4_mb_generate_buddy", {"silent-group1", "silent-group3"}},
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
  TrialVerdict v = trace("silent-group1");  // accounting@__ext4_grp_locked_error+ext4_mb_generate_buddy
  std::string narrowed;
  EXPECT_TRUE(shows(v, "accounting@__ext4_grp_locked_error+ext4_mb_clear_bb+ext4_mb_generate_buddy", &narrowed));
  EXPECT_EQ(narrowed, "accounting@__ext4_grp_locked_error+ext4_mb_generate_buddy");
  EXPECT_FALSE(shows(v, "accounting@ext4_mb_clear_bb"));                // another function
  EXPECT_FALSE(shows(v, "negative-errno@ext4_mb_generate_buddy"));     // another invariant
  EXPECT_FALSE(shows(v, "accounting"));                                // it named none
  EXPECT_FALSE(shows(trace("reported"), "accounting@ext4_validate_block_bitmap"));
}

// ---- errno, unfaulted filesystems, latency: on recorded bookworm traces (traces/README.md).

namespace {

namespace fs = std::filesystem;

// A copy of recorded trace `name` in a fresh folder, one event's field changed.
std::string trace_with(const std::string& name, const std::string& key, const json& value) {
  std::string src = std::string(FSFAULT_EXPLORE_TRACES_DIR) + "/" + name;
  char tmpl[] = "/tmp/explore-trace.XXXXXX";
  std::string dir = mkdtemp(tmpl);
  fs::copy(src, dir, fs::copy_options::recursive | fs::copy_options::overwrite_existing);
  std::string out;
  for (auto r : fsfault::vm::read_jsonl(src + "/records.jsonl")) {
    if (r.value("type", std::string()) == "event") r[key] = value;
    out += r.dump() + "\n";
  }
  fsfault::base::write_file(dir + "/records.jsonl", out);
  return dir;
}

}  // namespace

TEST(ExploreFinding, RecordedEventErrnoIsDocumented) {
  EXPECT_TRUE(trace("bookworm-latency").violations.empty());  // EIO on ext4
  std::string dir = trace_with("bookworm-latency", "error", 28);
  TrialVerdict v = judge_trial(dir);
  fs::remove_all(dir);
  ASSERT_EQ(v.violations.size(), 1u);
  EXPECT_EQ(v.violations[0].invariant, "undocumented-errno");
  EXPECT_NE(v.violations[0].detail.find("ENOSPC (28), which ext4 does not report"), std::string::npos)
      << v.violations[0].detail;
  EXPECT_EQ(signatures(v), std::vector<std::string>{"undocumented-errno@__ext4_get_inode_loc_noinmem"});
}

TEST(ExploreFinding, EventOnADiskWhereNoFaultFired) {
  EXPECT_TRUE(trace("two-disks").violations.empty());  // both disks faulted, both reported
  TrialVerdict v = trace("two-disks-d1-unfaulted");
  ASSERT_EQ(v.violations.size(), 1u);
  EXPECT_EQ(v.violations[0].invariant, "event-on-unfaulted-fs");
  EXPECT_EQ(v.violations[0].detail, "1 FS_ERROR event(s) on disk 1, where no fault fired");
}

TEST(ExploreFinding, EventLatencyAsTheJudgeMeasuresIt) {
  EXPECT_TRUE(trace("bookworm-latency").violations.empty());  // 14 ms, default bound 5000 ms
  TrialVerdict v = judge_trial(std::string(FSFAULT_EXPLORE_TRACES_DIR) + "/bookworm-latency", Bounds{10});
  ASSERT_EQ(v.violations.size(), 1u);
  EXPECT_EQ(v.violations[0].invariant, "late-event");
  EXPECT_NE(v.violations[0].detail.find("event arrived 14 ms after step 4 (phase), bound 10 ms"), std::string::npos)
      << v.violations[0].detail;
  // A trace from a harness without arrival times is not a latency finding.
  EXPECT_TRUE(judge_trial(std::string(FSFAULT_EXPLORE_TRACES_DIR) + "/two-disks", Bounds{1}).violations.empty());
}

// With the trial's fault log and runner.log, lateness is measured from the fault too, as the
// judge's max_fault_latency_ms does; the step figure alone without runner.log.
TEST(ExploreFinding, EventLatencyFromTheFault) {
  const std::string dir = std::string(FSFAULT_EXPLORE_TRACES_DIR) + "/bookworm-fault-latency";
  EXPECT_TRUE(judge_trial(dir).violations.empty());
  TrialVerdict v = judge_trial(dir, Bounds{1});
  ASSERT_EQ(v.violations.size(), 1u);
  EXPECT_EQ(v.violations[0].invariant, "late-event");
  EXPECT_NE(v.violations[0].detail.find(" ms after the first fault since the start (rule f1-eio, read sector "),
            std::string::npos)
      << v.violations[0].detail;
}

// A trial that failed for a reason no invariant names did not test what it drew: a finding, not a
// pass (recorded: sid's xfs refusing ext4's errors=continue, every trial of a campaign failing).
TEST(ExploreFinding, AFailedTrialNoInvariantExplainsIsAFinding) {
  TrialVerdict v = trace("sid-xfs-mount-refused");
  ASSERT_EQ(v.violations.size(), 1u);
  EXPECT_EQ(v.violations[0].invariant, "trial-failed");
  EXPECT_EQ(v.violations[0].detail, "mounting disk 0 failed with EINVAL");
}
