// fsfault repro: the scenario it builds from a schedule and a workload, and the flood report it
// reads back from a run's artifacts (written here the way vm.cpp and the guest write them).
#include "runner/repro/repro.h"
#include "runner/test_temp_dir.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

using namespace fsfault::vm;
using fsfault::vm::testing::TempDir;
namespace fs = std::filesystem;

namespace {

const char* const kSchedule = "seed = 5\n[[rule]]\nname = \"dead\"\nphase = \"armed\"\nmatch = { op = \"any\" }\n"
                              "action = { die = true }\n";

std::vector<std::string> dos(const json& steps) {
  std::vector<std::string> v;
  for (auto& s : steps) v.push_back(s.value("label", s.value("do", std::string())));
  return v;
}

}  // namespace

TEST(Repro, StandardWorkloadIsFramedByCountersAndThePhase) {
  TempDir t;
  Scenario s = repro_scenario(kSchedule, t.put("flood.toml", kSchedule), ReproDisk{"ext4-basic", "", std::nullopt}, 9);
  EXPECT_EQ(s.name, "repro/flood");
  EXPECT_EQ(s.seed, 9u);
  ASSERT_EQ(s.rules.size(), 1u);
  EXPECT_TRUE(s.files.empty());
  EXPECT_EQ(dos(s.steps), (std::vector<std::string>{"watch", "errors-before", "drop-caches", "phase", "repeat",
                                                    "read-events", "sleep", "errors-after", "read-events"}));
}

TEST(Repro, ShellWorkloadIsShippedAndRunInTheArmedPhase) {
  TempDir t;
  std::string sched = t.put("flood.toml", kSchedule);
  for (auto& [name, text] : {std::pair<std::string, std::string>{"w.sh", "dd if=/dev/zero of=x\n"},
                             {"w", "#!/bin/sh\nexit 0\n"}}) {
    std::string w = t.put(name, text);
    ASSERT_TRUE(is_shell_workload(w));
    Scenario s = repro_scenario(kSchedule, sched, ReproDisk{"ext4-basic", "", std::nullopt}, std::nullopt, w);
    EXPECT_EQ(s.seed, 5u);
    ASSERT_EQ(s.files.size(), 1u);
    EXPECT_EQ(s.files[0].host_path, w);
    EXPECT_EQ(s.files[0].dst, kReproScriptDst);
    EXPECT_EQ(s.files[0].mode, 0755);
    EXPECT_EQ(dos(s.steps), (std::vector<std::string>{"watch", "errors-before", "drop-caches", "phase", "workload",
                                                      "read-events", "sleep", "errors-after", "read-events"}));
    EXPECT_EQ(s.steps[4]["argv"], json::array({kReproScriptDst, "/mnt/d0"}));
    EXPECT_EQ(s.steps[3]["name"], "armed");
  }
}

TEST(Repro, TomlWorkloadReplacesTheStepsBetweenTheCounters) {
  TempDir t;
  std::string w = t.put("w.toml", "step = [ { do = \"watch\" }, { do = \"sync\" } ]\n");
  EXPECT_FALSE(is_shell_workload(w));
  Scenario s = repro_scenario(kSchedule, t.put("flood.toml", kSchedule), ReproDisk{"ext4-basic", "", std::nullopt}, std::nullopt, w);
  EXPECT_EQ(dos(s.steps), (std::vector<std::string>{"errors-before", "watch", "sync", "sleep", "errors-after"}));
  std::string bad = t.put("bad.toml", "x = 1\n");
  EXPECT_THROW(repro_scenario(kSchedule, t.put("f.toml", kSchedule), ReproDisk{"ext4-basic", "", std::nullopt}, std::nullopt, bad),
               std::runtime_error);
}

TEST(Repro, ScheduleErrorsCarryTheScheduleLine) {
  TempDir t;
  std::string text = "seed = 1\n\n[[rule]]\nname = \n";
  try {
    repro_scenario(text, t.put("s.toml", text), ReproDisk{"ext4-basic", "", std::nullopt}, std::nullopt);
    ADD_FAILURE() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("s.toml:4:"), std::string::npos) << e.what();
  }
}

// An artifact directory as vm.cpp and the guest leave it, with clocks that disagree: the server
// spawned at host 100 ms, its first fault at its t_ms 900 (host 1000); the guest's phase record
// at guest 400 ms reached the runner's log at host 950 (round trip 30 ms); the guest saw its queue
// non-empty at guest 520 (host 1070): 70 ms, of which up to 40 (start-up) + 30 may be slack.
TEST(ReproReport, CountsAndFirstFaultToFirstEvent) {
  TempDir t;
  t.put("map-d0.json", R"({"image":"ext4-basic","fs":"ext4"})");
  t.put("runner.log",
        "server for disk 0 started at 100 ms\nservers up after 140 ms\nguest hello after 600 ms: 6.1\n"
        "phase armed at 950 ms: {\"ok\":true}\n");
  t.put("faults-d0.jsonl",
        "{\"t_ms\":900,\"req\":17,\"rule\":\"dead\",\"phase\":\"armed\",\"op\":\"read\",\"sector\":8,\"sectors\":8,"
        "\"action\":\"die\",\"error\":\"EIO\"}\n"
        "{\"t_ms\":905,\"req\":18,\"rule\":\"dead\",\"phase\":\"armed\",\"op\":\"write\",\"sector\":9,\"sectors\":8,"
        "\"action\":\"dead\",\"error\":\"EIO\"}\n");
  t.put("records.jsonl",
        R"({"type":"step","do":"read-file","label":"errors-before","value":"2\n","ok":true,"t_ms":300}
{"type":"phase","name":"armed","t_ms":400}
{"type":"step","do":"phase","name":"armed","ms":30,"ok":true,"t_ms":431}
{"type":"first-event","group":"default","t_ms":520}
{"type":"event","mask_names":["FS_ERROR"],"error":5,"error_count":6,"t_ms":900}
{"type":"event","mask_names":["Q_OVERFLOW"],"t_ms":901}
{"type":"event","mask_names":["FS_ERROR"],"error":5,"error_count":1,"t_ms":902}
{"type":"kmsg","text":"EXT4-fs: lost filesystem error report for type 1 error -5","t_ms":903}
{"type":"kmsg","text":"vda: lost file I/O error report for ino 12 type 1 pos 0x0 len 0x1000 error -5","t_ms":904}
{"type":"kmsg","text":"vda: lost file I/O error report, but not in fserror_report()s words","t_ms":905}
{"type":"step","do":"read-file","label":"errors-after","value":"11\n","ok":true,"t_ms":1500}
)");
  FloodCounts c = count_flood(t.dir.string());
  EXPECT_EQ(c.faults_fired, 2);
  EXPECT_EQ(c.fs_error_events, 2);
  EXPECT_EQ(c.error_count_sum, 7);
  EXPECT_EQ(c.overflow_events, 1);
  EXPECT_EQ(c.lost_reports, 2) << "both of fserror_report()'s formats, nothing that only resembles them";
  ASSERT_TRUE(c.errors_before && c.errors_after);
  EXPECT_EQ(*c.errors_after - *c.errors_before, 9);
  ASSERT_TRUE(c.first_fault_to_event_ms);
  EXPECT_EQ(*c.first_fault_to_event_ms, 70);
  EXPECT_EQ(c.first_fault_to_event_slack_ms, 70);
  std::string r = flood_report(c);
  for (const char* line : {"faults injected:            2", "errors the kernel counted:  9 (ext4 errors_count 2 -> 11)",
                           "FS_ERROR events received:   2", "sum of error_count:         7",
                           "overflows (Q_OVERFLOW):     1", "lost reports (kernel log):  2",
                           "first fault -> first event: 70 ms (host clock; the true value may be up to 70 ms less)"})
    EXPECT_NE(r.find(line), std::string::npos) << line << "\n" << r;

  // The same faults at other times and request numbers: the same digest.
  std::string digest = c.fault_log_digest;
  t.put("faults-d0.jsonl",
        "{\"t_ms\":1,\"req\":3,\"rule\":\"dead\",\"phase\":\"armed\",\"op\":\"read\",\"sector\":8,\"sectors\":8,"
        "\"action\":\"die\",\"error\":\"EIO\"}\n"
        "{\"t_ms\":2,\"req\":4,\"rule\":\"dead\",\"phase\":\"armed\",\"op\":\"write\",\"sector\":9,\"sectors\":8,"
        "\"action\":\"dead\",\"error\":\"EIO\"}\n");
  EXPECT_EQ(count_flood(t.dir.string()).fault_log_digest, digest);

  // xfs has no errors_count; no event: no interval.
  t.put("map-d0.json", R"({"image":"xfs-basic","fs":"xfs"})");
  t.put("records.jsonl", R"({"type":"phase","name":"armed","t_ms":400})" "\n");
  c = count_flood(t.dir.string());
  EXPECT_FALSE(c.errors_before);
  EXPECT_FALSE(c.first_fault_to_event_ms);
  r = flood_report(c);
  EXPECT_NE(r.find("errors the kernel counted:  n/a (xfs has no error counter)"), std::string::npos) << r;
  EXPECT_NE(r.find("first fault -> first event: n/a"), std::string::npos) << r;
}
