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

// Found by fuzz/scenario_fuzzer: a rule key that is not a bare TOML key was
// written unquoted, so the generated schedule was not valid TOML.
TEST(Scenario, ScheduleQuotesNonBareRuleKeys) {
  Scenario s = parse_scenario_text(
      "name = \"a\"\n[[disk]]\nimage = \"x\"\n[[rule]]\n\"weird key\" = 1\n"
      "match = { op = \"read\" }\naction = { fail = \"EIO\" }\n",
      "a.toml");
  std::string sched = schedule_toml(s, 0);
  toml::table t;
  ASSERT_NO_THROW(t = toml::parse(sched)) << sched;
  EXPECT_EQ(t["rule"][0]["weird key"].value<int64_t>(), 1);
}

// Found by fuzz/scenario_fuzzer: mistyped values escaped as nlohmann
// type_error (no file name) instead of std::runtime_error("FILE: ...").
TEST(Scenario, MistypedValuesNameTheFile) {
  for (const char* text : {"name = \"a\"\ntimeout = \"x\"\n", "name = \"a\"\nmodules = [1]\n",
                           "name = \"a\"\n[[disk]]\nimage = 3\n", "name = \"a\"\nexpect = \"x\"\n",
                           "name = \"a\"\n[[disk]]\nimage = \"x\"\nmount = \"yes\"\n",
                           "name = \"a\"\nseed = -9\n",
                           "name = \"a\"\ndescription = \"\xc3\"\n"}) {  // invalid UTF-8  // -9 wrapped to 2^64-9: invalid TOML
    try {
      parse_scenario_text(text, "a.toml");
      ADD_FAILURE() << "accepted: " << text;
    } catch (const std::runtime_error& e) {
      EXPECT_EQ(std::string(e.what()).rfind("a.toml:", 0), 0u) << e.what();
    }
  }
  // A mistyped array-of-tables names file:line:col of the offending value.
  for (auto [text, where] : {std::pair{"name = \"a\"\nexpect = \"x\"\n", "a.toml:2:10: "},
                             std::pair{"name = \"a\"\nexpect = [1]\n", "a.toml:2:11: "},
                             std::pair{"name = \"a\"\nstep = [ \"x\" ]\n", "a.toml:2:10: "}}) {
    try {
      parse_scenario_text(text, "a.toml");
      ADD_FAILURE() << "accepted: " << text;
    } catch (const std::runtime_error& e) {
      EXPECT_EQ(std::string(e.what()).rfind(where, 0), 0u) << e.what();
    }
  }
}

// Found by fuzz/scenario_fuzzer: disk 27 and later had no /dev/vdX name.
TEST(Scenario, AtMost26Disks) {
  std::string text = "name = \"a\"\n";
  for (int i = 0; i < 26; ++i) text += "[[disk]]\nimage = \"x\"\n";
  EXPECT_EQ(guest_plan(parse_scenario_text(text, "a.toml"))["disks"][25]["dev"], "/dev/vdz");
  text += "[[disk]]\nimage = \"x\"\n";
  EXPECT_THROW(parse_scenario_text(text, "a.toml"), std::runtime_error);
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
  // Found by fuzz/scenario_fuzzer: numbers beyond int made std::stoi throw
  // std::out_of_range out of parse_kernel_version.
  EXPECT_FALSE(parse_kernel_version("99999999999.1").known());
  EXPECT_THROW(kernel_gate(">=6.99999999999", v61), std::runtime_error);
}
