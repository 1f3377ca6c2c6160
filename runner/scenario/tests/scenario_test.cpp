#include "faults/schedule.h"
#include "faults/target_map.h"
#include "runner/judge/judge.h"
#include "runner/scenario/scenario.h"
#include "runner/test_temp_dir.h"

#include <gtest/gtest.h>
#include <toml++/toml.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

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
                           // floats cast to int were undefined behaviour (found by fuzzing)
                           "name = \"a\"\ntimeout = 1e300\n", "name = \"a\"\ntimeout = 5\n[[disk]]\nimage = \"x\"\n[[rule]]\ndisk = 0.5\n",
                           "name = \"a\"\nstep = [ { do = \"sleep\", ms = 1e300 } ]\n",
                           "name = \"a\"\n[[expect]]\nevent = \"fs_error\"\ncount = { min = 2.5 }\n",
                           // a float too big for int64 where an integer goes: toml++'s value<int64_t>()
                           // converts it, undefined behaviour (found by fuzzing, 2026-12-03)
                           "name = \"a\"\n[[disk]]\nimage = \"x\"\n[[rule]]\ndisk = 1e22\n",
                           "name = \"a\"\nstep = [ { do = \"exec\", argv = [\"/x\"], exit = 1e22 } ]\n",
                           "name = \"a\"\n[[expect]]\nevent = \"FS_ERROR\"\nmax_latency_ms = 1e22\n",
                           // mount's fs and options not strings: a null node read (found by fuzzing, 2026-12-03)
                           "name = \"a\"\n[[disk]]\nimage = \"x\"\nmount = { fs = 3 }\n",
                           "name = \"a\"\n[[disk]]\nimage = \"x\"\nmount = { options = [\"ro\"] }\n",
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

// ---- [[file]]: files shipped into the guest with the plan ----------------------------------

namespace {

// A scenario directory of its own per test: src paths resolve against the scenario file.
struct ScenarioDir : fsfault::vm::testing::TempDir {
  void put(const std::string& name, const std::string& data, std::filesystem::perms p) const {
    std::filesystem::permissions(TempDir::put(name, data), p);
  }
  std::string toml() const { return (dir / "s.toml").string(); }
};

// The error of parsing `text` as DIR/s.toml ("" when it parses).
std::string parse_error(const ScenarioDir& d, const std::string& text) {
  try {
    parse_scenario_text(text, d.toml());
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(ScenarioFiles, ResolvedAgainstTheScenarioAndShippedInThePlan) {
  using std::filesystem::perms;
  ScenarioDir d;
  d.put("bin/t.sh", "#!/bin/sh\nexit 7\n", perms::owner_all | perms::group_read | perms::group_exec);
  d.put("data.bin", std::string("\x00\x01\xfe", 3), perms::owner_read | perms::owner_write);
  Scenario s = parse_scenario_text(
      "name = \"a\"\n"
      "[[file]]\nsrc = \"bin/t.sh\"\ndst = \"/opt/t/t.sh\"\n"
      "[[file]]\nsrc = \"" + (d.dir / "data.bin").string() + "\"\ndst = \"/d.bin\"\nmode = 0o640\n",
      d.toml());
  ASSERT_EQ(s.files.size(), 2u);
  EXPECT_EQ(s.files[0].host_path, (d.dir / "bin/t.sh").string());
  EXPECT_EQ(s.files[0].mode, -1);
  EXPECT_EQ(s.files[0].bytes, 17u);
  EXPECT_EQ(s.files[1].mode, 0640);
  json plan = guest_plan(s);
  ASSERT_EQ(plan["files"].size(), 2u);
  EXPECT_EQ(plan["files"][0]["dst"], "/opt/t/t.sh");
  EXPECT_EQ(plan["files"][0]["mode"], 0750);  // the host file's bits when mode is absent
  EXPECT_EQ(plan["files"][0]["base64"], "IyEvYmluL3NoCmV4aXQgNwo=");
  EXPECT_EQ(plan["files"][1]["mode"], 0640);
  EXPECT_EQ(plan["files"][1]["bytes"], 3);
  EXPECT_EQ(plan["files"][1]["base64"], "AAH+");
  // A file removed after parsing: the plan fails naming the scenario, not a crash in the guest.
  std::filesystem::remove(d.dir / "data.bin");
  try {
    guest_plan(s);
    ADD_FAILURE() << "no error for a vanished src";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(d.toml()), std::string::npos) << e.what();
  }
}

TEST(ScenarioFiles, MistakesNameFileLineAndColumn) {
  using std::filesystem::perms;
  ScenarioDir d;
  d.put("ok.sh", "exit 0\n", perms::owner_all);
  d.put("big.bin", std::string(kMaxShippedBytes / 2 + 1, 'x'), perms::owner_read);
  const std::string head = "name = \"a\"\n[[file]]\n";
  struct Case {
    std::string body, where, why;
  } cases[] = {
      {"src = \"missing.sh\"\ndst = \"/x\"\n", ":3:7: ", "no such file"},
      {"src = \".\"\ndst = \"/x\"\n", ":3:7: ", "not a regular file"},
      {"dst = \"/x\"\n", ":2:1: ", "needs src"},
      {"src = \"ok.sh\"\n", ":2:1: ", "needs dst"},
      {"src = \"ok.sh\"\ndst = \"x\"\n", ":4:7: ", "absolute"},
      {"src = \"ok.sh\"\ndst = \"/a/../b\"\n", ":4:7: ", "absolute"},
      {"src = \"ok.sh\"\ndst = \"/dir/\"\n", ":4:7: ", "absolute"},
      {"src = \"ok.sh\"\ndst = \"/mnt/d0/x\"\n", ":4:7: ", "reserved"},
      {"src = \"ok.sh\"\ndst = \"/proc/x\"\n", ":4:7: ", "reserved"},
      {"src = \"ok.sh\"\ndst = \"/init\"\n", ":4:7: ", "reserved"},
      {"src = \"ok.sh\"\ndst = \"/x\"\nmode = 0o17777\n", ":5:8: ", "mode"},
      {"src = \"ok.sh\"\ndst = \"/x\"\nmode = \"755\"\n", ":5:8: ", "mode"},
      {"src = 3\ndst = \"/x\"\n", ":3:7: ", "non-empty string"},
      {"src = \"ok.sh\"\ndest = \"/x\"\n", ":4:8: ", "no key 'dest'"},
      {"src = \"ok.sh\"\ndst = \"/x\"\n[[file]]\nsrc = \"ok.sh\"\ndst = \"/x\"\n", ":7:7: ", "given twice"},
      {"src = \"big.bin\"\ndst = \"/a\"\n[[file]]\nsrc = \"big.bin\"\ndst = \"/b\"\n", ":6:7: ", "exceed"},
  };
  for (auto& c : cases) {
    std::string err = parse_error(d, head + c.body);
    EXPECT_NE(err.find(d.toml() + c.where), std::string::npos) << c.body << " -> " << err;
    EXPECT_NE(err.find(c.why), std::string::npos) << c.body << " -> " << err;
  }
  EXPECT_EQ(parse_error(d, "name = \"a\"\nfile = \"x\"\n").find(d.toml() + ":2:"), 0u);
  // One file of exactly half the limit plus a small one fits.
  EXPECT_EQ(parse_error(d, head + "src = \"big.bin\"\ndst = \"/a\"\n[[file]]\nsrc = \"ok.sh\"\ndst = \"/b\"\n"), "");
}

TEST(ScenarioFiles, AFileTheGuestCouldNotWriteFailsTheScenario) {
  Scenario s = parse_scenario_text("name = \"a\"\n", "a.toml");
  Trace t;
  t.completed = true;
  t.records.push_back(json{{"type", "file"}, {"dst", "/x"}, {"ok", true}, {"errno", 0}});
  EXPECT_EQ(judge(s, t).verdict, Verdict::pass);
  t.records.push_back(json{{"type", "file"}, {"dst", "/y"}, {"ok", false}, {"errno", 28}, {"errno_name", "ENOSPC"}});
  Outcome o = judge(s, t);
  EXPECT_EQ(o.verdict, Verdict::fail);
  ASSERT_EQ(o.reasons.size(), 1u);
  EXPECT_EQ(o.reasons[0], "shipping [[file]] /y failed with ENOSPC");
}

namespace {

// A map naming every target the scenario's rules use (64 sectors each): the round trip below is
// about the TOML, not about where the targets are.
fsfault::faults::TargetMap map_for_targets(const Scenario& s) {
  fsfault::faults::TargetMap map;
  for (const auto& r : s.rules)
    if (r.contains("match") && r["match"].is_object() && r["match"].contains("target"))
      map.entry(r["match"]["target"].get<std::string>()).add_sectors(64, 127);
  return map;
}

}  // namespace

// Every catalogue rule survives schedule_toml: the fault engine's own parser reads the generated
// schedule back with the same seed and the same number of rules on every disk.
TEST(Scenario, CatalogueSchedulesParseWithTheFaultEngine) {
  int scenarios = 0, rules = 0;
  for (auto& e : std::filesystem::recursive_directory_iterator(FSFAULT_SCENARIOS_DIR)) {
    if (e.path().extension() != ".toml") continue;
    Scenario s = load_scenario(e.path().string());
    auto map = map_for_targets(s);
    for (int d = 0; d < static_cast<int>(s.disks.size()); ++d) {
      std::string sched = schedule_toml(s, d);
      std::size_t expected = 0;
      for (const auto& r : s.rules) expected += r.value("disk", 0) == d;
      try {
        auto parsed = fsfault::faults::Schedule::parse(sched, "generated.toml", &map, 0);
        EXPECT_EQ(parsed.rules.size(), expected) << e.path() << "\n" << sched;
        EXPECT_EQ(parsed.seed, s.seed) << e.path();
        rules += static_cast<int>(parsed.rules.size());
      } catch (const std::exception& err) {
        ADD_FAILURE() << e.path() << " disk " << d << ": " << err.what() << "\n" << sched;
      }
    }
    ++scenarios;
  }
  EXPECT_GE(scenarios, 10);
  EXPECT_GE(rules, 10);
}

// The inputs fuzz/scenario_fuzzer once crashed on (and its seed corpus), replayed without the
// fuzzing engine: whatever parses must give schedules that are valid TOML.
TEST(Scenario, FuzzRegressionsGiveValidSchedules) {
  int inputs = 0;
  for (const char* dir : {"/fuzz/regressions/scenario_fuzzer", "/fuzz/corpus/scenario_fuzzer"}) {
    // FSFAULT_SCENARIOS_DIR is SOURCE/guest-tests/scenarios.
    auto source = std::filesystem::path(FSFAULT_SCENARIOS_DIR).parent_path().parent_path();
    std::filesystem::path p = source.string() + dir;
    if (!std::filesystem::is_directory(p)) continue;
    for (auto& e : std::filesystem::directory_iterator(p)) {
      std::ifstream in(e.path(), std::ios::binary);
      std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      ++inputs;
      Scenario s;
      try {
        s = parse_scenario_text(text, "fuzz.toml");
      } catch (const std::runtime_error& err) {
        EXPECT_EQ(std::string(err.what()).rfind("fuzz.toml", 0), 0u) << e.path() << ": " << err.what();
        continue;
      }
      for (int d = 0; d < static_cast<int>(s.disks.size()); ++d) {
        std::string sched = schedule_toml(s, d);
        EXPECT_NO_THROW((void)toml::parse(sched)) << e.path() << "\n" << sched;
      }
    }
  }
  EXPECT_GE(inputs, 6);
}

// known_gap and max_latency_ms (issue 15): mistakes name file:line:col.
TEST(Scenario, KnownGapAndLatencyMistakesNameLineAndColumn) {
  ScenarioDir d;
  const std::string head = "name = \"a\"\n[[expect]]\nevent = \"FS_ERROR\"\n";
  const std::string gap = "known_gap = { what = \"w\", function = \"f\", fixed_when = \"x\" }\n";
  EXPECT_EQ(parse_error(d, head + gap + "max_latency_ms = 5000\n"), "");
  struct Case {
    std::string body, where, why;
  } cases[] = {
      {"known_gap = \"no event\"\n", ":4:13: ", "known_gap must be a table"},
      {"known_gap = { what = \"w\", function = \"f\" }\n", ":4:13: ", "known_gap needs fixed_when"},
      {"known_gap = { what = \"w\", function = \"f\", fixed_when = \"x\", explore = \"\" }\n", ":4:71: ",
       "known_gap.explore must be a non-empty string"},
      {"known_gap = { what = \"\", function = \"f\", fixed_when = \"x\" }\n", ":4:22: ", "known_gap.what must be a non-empty string"},
      {"known_gap = { what = \"w\", function = 3, fixed_when = \"x\" }\n", ":4:38: ", "known_gap.function must be"},
      {"known_gap = { what = \"w\", function = \"f\", fixed_when = \"x\", why = \"y\" }\n", ":4:67: ", "no key 'why'"},
      {"max_latency_ms = 0\n", ":4:18: ", "max_latency_ms must be an integer from 1"},
      {"max_latency_ms = \"5s\"\n", ":4:18: ", "max_latency_ms must be an integer"},
      {"max_fault_latency_ms = -1\n", ":4:24: ", "max_fault_latency_ms must be an integer from 1 to 3600000"},
      {"max_fault_latency_ms = 2.5\n", ":4:24: ", "max_fault_latency_ms must be an integer"},
      {"kernel = 7\n", ":4:10: ", "kernel must be a version range"},
      {"kernel = \">=seven\"\n", ":4:10: ", "bad kernel gate: >=seven"},
  };
  for (auto& c : cases) {
    std::string err = parse_error(d, head + c.body);
    EXPECT_NE(err.find(d.toml() + c.where), std::string::npos) << c.body << " -> " << err;
    EXPECT_NE(err.find(c.why), std::string::npos) << c.body << " -> " << err;
  }
  std::string kmsg = parse_error(d, "name = \"a\"\n[[expect]]\nkmsg = \"x\"\nmax_latency_ms = 5\n");
  EXPECT_NE(kmsg.find(":4:18: max_latency_ms bounds an event expectation only"), std::string::npos) << kmsg;
  EXPECT_EQ(parse_error(d, head + "max_fault_latency_ms = 5000\n"), "");
  std::string overflow =
      parse_error(d, "name = \"a\"\n[[expect]]\nevent = \"Q_OVERFLOW\"\nmax_fault_latency_ms = 5\n");
  EXPECT_NE(overflow.find(":4:24: max_fault_latency_ms bounds an FS_ERROR event expectation only"), std::string::npos)
      << overflow;
}
