// The trial generator: determinism per (seed, i), rules only on matching targets, and its
// scenario TOML read back by the ordinary scenario loader.
#include "runner/explore/trial.h"
#include "runner/explore/workload.h"

#include <gtest/gtest.h>

#include <fnmatch.h>

#include <set>

using namespace fsfault::vm;
using namespace fsfault::vm::explore;

namespace {

fsfault::faults::TargetMap small_map() {
  fsfault::faults::TargetMap m;
  m.image = "explore-test";
  m.fs = "ext4";
  m.size_bytes = 64 << 20;
  std::uint64_t s = 8;
  for (const char* n : {"superblock", "block-bitmap:0", "block-bitmap:1", "block-bitmap:2", "inode-bitmap:0",
                        "inode:/data", "inode:/data/f1", "inode:/big", "dir:/data"}) {
    fsfault::faults::Target t;
    t.name = n;
    t.add_sectors(s, s + 7);
    s += 16;
    m.add(t);
  }
  return m;
}

TrialSpace space(std::vector<std::string> globs) {
  TrialSpace sp;
  sp.map = small_map();
  sp.target_globs = std::move(globs);
  return sp;
}

}  // namespace

TEST(ExploreTrial, SameSeedSameTrialsWhateverTheOrder) {
  TrialGenerator a(space({"block-bitmap:*", "inode:*"}), 7), b(space({"block-bitmap:*", "inode:*"}), 7);
  std::vector<Trial> fwd;
  for (std::uint64_t i = 0; i < 20; ++i) fwd.push_back(a.draw(i));
  for (std::uint64_t i = 20; i-- > 0;) {  // backwards: trial i owes nothing to trials before it
    Trial t = b.draw(i);
    EXPECT_EQ(t.rules, fwd[i].rules) << "trial " << i;
    EXPECT_EQ(t.workload, fwd[i].workload);
  }
}

TEST(ExploreTrial, DifferentIndexOrSeedDrawsDifferentTrials) {
  TrialGenerator g(space({"block-bitmap:*", "inode:*"}), 7), h(space({"block-bitmap:*", "inode:*"}), 8);
  std::set<std::string> seen;
  for (std::uint64_t i = 0; i < 20; ++i) seen.insert(json(g.draw(i).rules).dump() + g.draw(i).workload);
  EXPECT_GE(seen.size(), 19u);
  int same = 0;
  for (std::uint64_t i = 0; i < 20; ++i) same += g.draw(i).rules == h.draw(i).rules;
  EXPECT_LE(same, 1);
}

TEST(ExploreTrial, EveryRuleNamesAMatchingTargetWithOneToFourRules) {
  TrialGenerator g(space({"block-bitmap:*", "inode:/data*"}), 3);
  std::set<std::string> used;
  for (std::uint64_t i = 0; i < 200; ++i) {
    Trial t = g.draw(i);
    ASSERT_GE(t.rules.size(), 1u);
    ASSERT_LE(t.rules.size(), 4u);
    for (auto& r : t.rules) {
      std::string target = r["match"]["target"];
      used.insert(target);
      EXPECT_TRUE(fnmatch("block-bitmap:*", target.c_str(), 0) == 0 || fnmatch("inode:/data*", target.c_str(), 0) == 0)
          << target;
    }
  }
  EXPECT_EQ(used, (std::set<std::string>{"block-bitmap:0", "block-bitmap:1", "block-bitmap:2", "inode:/data",
                                          "inode:/data/f1"}));
}

TEST(ExploreTrial, NoMatchingTargetIsAnErrorNamingTheGlobs) {
  try {
    TrialGenerator g(space({"agf:*"}), 1);
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("agf:*"), std::string::npos) << e.what();
  }
}

TEST(ExploreTrial, ScenarioTomlLoadsWithTheRulesAndTheAccountingExpectation) {
  TrialGenerator g(space({"block-bitmap:*", "inode:*", "dir:*"}), 1);
  for (std::uint64_t i = 0; i < 30; ++i) {
    Trial t = g.draw(i);
    std::string text = trial_scenario_toml(t, TrialDisk{"ext4-basic", "errors=continue", ""}, small_map());
    Scenario s = parse_scenario_text(text, "trial.toml");  // the loader vm-test uses
    EXPECT_EQ(s.name, t.name());
    ASSERT_EQ(s.rules.size(), t.rules.size()) << text;
    for (std::size_t k = 0; k < s.rules.size(); ++k) EXPECT_EQ(s.rules[k]["match"], t.rules[k]["match"]);
    ASSERT_EQ(s.expects.size(), 1u);
    EXPECT_EQ(s.expects[0]["accounting"], "errors");
    EXPECT_EQ(s.disks.at(0).options, "errors=continue");
    EXPECT_EQ(s.steps.front()["do"], "watch");
  }
}

// A control disk: a second [[disk]] without rules, watched with the first; a known finding's
// accounting expectation carries the catalogue's known_gap (vm-test then gives XFAIL).
TEST(ExploreTrial, ControlDiskAndKnownGapLoad) {
  TrialGenerator g(space({"block-bitmap:*"}), 1);
  Trial t = g.draw(0);
  json gap{{"what", "w"}, {"function", "__ext4_grp_locked_error"}, {"fixed_when", "x"}};
  Scenario s = parse_scenario_text(
      trial_scenario_toml(t, TrialDisk{"ext4-basic", "errors=continue", "ext4-small-journal"}, small_map(), gap),
      "trial.toml");
  ASSERT_EQ(s.disks.size(), 2u);
  EXPECT_EQ(s.disks[1].image, "ext4-small-journal");
  EXPECT_EQ(s.disks[1].options, "errors=continue");
  EXPECT_EQ(s.steps.front()["disks"], json::array({0, 1}));
  for (auto& r : s.rules) EXPECT_EQ(r.value("disk", 0), 0);
  ASSERT_EQ(s.expects.size(), 1u);
  EXPECT_EQ(s.expects[0]["known_gap"], gap);
  std::string plain_toml = trial_scenario_toml(t, TrialDisk{"ext4-basic", "errors=continue", ""}, small_map());
  Scenario plain = parse_scenario_text(plain_toml, "trial.toml");
  EXPECT_EQ(plain.disks.size(), 1u);
  EXPECT_FALSE(plain.steps.front().contains("disks"));
  EXPECT_FALSE(plain.expects[0].contains("known_gap"));
}

TEST(ExploreTrial, RmSyncRemovesTheMapsFilesThenSyncs) {
  json st = workload_steps("rm-sync", small_map());
  std::set<std::string> gone;
  for (auto& s : st)
    if (s["do"] == "unlink") gone.insert(s["path"].get<std::string>());
  EXPECT_EQ(gone, (std::set<std::string>{"/big", "/data/f1"}));  // /data is a directory (dir:/data)
  EXPECT_EQ(st.back()["sh"], "sync");
  EXPECT_THROW(workload_steps("dance", small_map()), std::runtime_error);
}

// A second mount the faults refuse is an outcome, not a trial that could not run (sid's xfs refused
// it with EFSCORRUPTED on a corrupt AGI, and the trial failed with no invariant to name).
TEST(ExploreTrial, RemountAcceptsAMountTheFaultsRefuse) {
  json st = workload_steps("remount", small_map());
  ASSERT_EQ(st.size(), 3u);
  EXPECT_EQ(st[1]["do"], "mount");
  EXPECT_EQ(st[1]["errno"], json::array({"OK", "EFSCORRUPTED", "EFSBADCRC", "EIO"}));
}
