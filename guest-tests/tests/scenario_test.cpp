#include "guest-tests/runner/scenario.h"

#include <gtest/gtest.h>
#include <toml++/toml.h>

#include <filesystem>

using namespace fsfault::vm;

TEST(Scenario, CatalogueParses) {
  int n = 0;
  for (auto& e : std::filesystem::recursive_directory_iterator(FSFAULT_SCENARIOS_DIR))
    if (e.path().extension() == ".toml") {
      EXPECT_NO_THROW(load_scenario(e.path().string())) << e.path();
      ++n;
    }
  EXPECT_GE(n, 1);
}

TEST(Scenario, SmokeModelAndSchedule) {
  Scenario s = load_scenario(std::string(FSFAULT_SCENARIOS_DIR) + "/ext4/eio-inode-read.toml");
  EXPECT_EQ(s.name, "ext4/eio-inode-read");
  ASSERT_EQ(s.disks.size(), 1u);
  EXPECT_EQ(s.disks[0].options, "errors=continue");
  json plan = guest_plan(s);
  EXPECT_EQ(plan["disks"][0]["dev"], "/dev/vda");
  EXPECT_EQ(plan["steps"][0]["do"], "mount");
  EXPECT_TRUE(plan["steps"][0]["implicit"].get<bool>());
  // The schedule round-trips through a TOML parser with the same rule.
  std::string sched = schedule_toml(s, 0);
  auto t = toml::parse(sched);
  EXPECT_EQ(t["seed"].value<int64_t>(), 0);
  EXPECT_EQ(t["rule"][0]["match"]["target"].value<std::string>(), "inode:/data/f1");
  EXPECT_EQ(t["rule"][0]["action"]["fail"].value<std::string>(), "EIO");
  EXPECT_EQ(t["rule"][0]["phase"].value<std::string>(), "armed");
}

TEST(Scenario, Errors) {
  EXPECT_THROW(parse_scenario_text("step = [ { do = \"x\" } ]", "a.toml"), std::runtime_error);  // no name
  EXPECT_THROW(parse_scenario_text("name = \"a\"\nstep = [ { path = \"x\" } ]", "a.toml"), std::runtime_error);
  EXPECT_THROW(parse_scenario_text("name = \"a\"\n[[rule]]\nmatch = {op=\"read\"}\n", "a.toml"), std::runtime_error);
  EXPECT_THROW(parse_scenario_text("name = ", "a.toml"), std::runtime_error);
}

TEST(KernelGate, Versions) {
  auto v61 = parse_kernel_version("6.1.0-50-cloud-amd64 (debian-kernel@lists.debian.org) #1 SMP PREEMPT_DYNAMIC Debian 6.1.176-1");
  EXPECT_EQ(v61.str(), "6.1.176");
  EXPECT_EQ(parse_kernel_version("7.2.0-rc3").str(), "7.2.0");
  EXPECT_FALSE(kernel_gate(">=5.16", v61));
  EXPECT_TRUE(kernel_gate(">=7.0", v61));
  EXPECT_FALSE(kernel_gate(">=5.16,<7.0", v61));
  EXPECT_TRUE(kernel_gate("<6.1", v61));
  EXPECT_FALSE(kernel_gate("", v61));
  EXPECT_THROW(kernel_gate(">=abc", v61), std::runtime_error);
}
