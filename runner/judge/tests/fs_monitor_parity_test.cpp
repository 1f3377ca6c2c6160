// format = "fs-monitor": the kernel sample's output (as samples/fanotify/fs-monitor.c prints it)
// against the harness's FS_ERROR record (as guest-tests/guest writes it), judged through judge().
#include "runner/judge/fs_monitor_output.h"
#include "runner/judge/judge.h"
#include "runner/judge/tests/outcome_text.h"

#include <gtest/gtest.h>

using namespace fsfault::vm;

using fsfault::vm::testing::reasons_text;

namespace {

// What fs-monitor printed in ext4/fs-monitor-parity on bookworm 6.1 and sid 7.2 (the FID record
// first, ino 14 of ext4-basic), with error, error_count and inode replaceable.
std::string monitor_output(int error = 5, int count = 1, int ino = 14) {
  return "FAN_FS_ERROR (len=64)\n\tfsid: 17a0f4751400000\n\tfh: e0000000\n\tdecoded fh: inode=" + std::to_string(ino) +
         " gen=0\n\tGeneric Error Record: len=12\n\terror: " + std::to_string(error) + "\n\terror_count: " +
         std::to_string(count) + "\n---\n\n";
}

// The harness's record of the same event (runner/judge/tests/traces/eio-inode-read.pass.jsonl).
json harness_event() {
  return json::parse(
      R"({"disk":0,"error":5,"error_count":1,"error_name":"EIO","fsid":"17a0f475:01400000","gen":0,"group":"default","handle":"0e00000000000000","handle_bytes":8,"handle_type":1,"ino":14,"mask":32768,"mask_names":["FS_ERROR"],"seq":7,"type":"event"})");
}

Outcome run(const std::string& output, std::vector<json> events = {harness_event()}) {
  Scenario s = parse_scenario_text(
      "name = \"p\"\nstep = [\n{ do = \"spawn\", name = \"mon\", argv = [\"/m\", \"/mnt/d0\"] },\n"
      "{ do = \"stop\", name = \"mon\", format = \"fs-monitor\" },\n]\n",
      "p.toml");
  Trace t;
  t.completed = true;
  t.records.push_back(json{{"type", "step"}, {"id", "0"}, {"do", "spawn"}, {"ok", true}});
  for (auto& e : events) t.records.push_back(e);
  t.records.push_back(json{{"type", "step"}, {"id", "1"}, {"do", "stop"}, {"ok", true}, {"exit", 143},
                           {"output", output}});
  return judge(s, t);
}

// The verdict on fs-monitor's `output` is FAIL, and a reason holds `named`.
void expect_failure_naming(const std::string& output, const std::string& named) {
  Outcome o = run(output);
  EXPECT_EQ(o.verdict, Verdict::fail) << reasons_text(o);
  EXPECT_NE(reasons_text(o).find(named), std::string::npos) << reasons_text(o);
}

}  // namespace

TEST(FsMonitorOutput, ReadsTheSamplesRecords) {
  FsMonitorOutput p = parse_fs_monitor(monitor_output() + "FAN_FS_ERROR (len=52)\n\terror: 117\n\terror_count: 3\n"
                                                          "\tdecoded fh: Type 255 (Superblock error)\n---\n");
  ASSERT_EQ(p.records.size(), 2u);
  EXPECT_EQ(p.records[0].error, 5);
  EXPECT_EQ(p.records[0].error_count, 1);
  EXPECT_EQ(p.records[0].ino, 14);
  EXPECT_EQ(p.records[0].gen, 0);
  EXPECT_EQ(p.records[1].error, 117);
  EXPECT_TRUE(p.records[1].superblock);
  EXPECT_EQ(p.records[1].line, 10);
  EXPECT_TRUE(p.problems.empty());
}

TEST(FsMonitorParity, EqualRecordsPass) {
  Outcome o = run(monitor_output());
  EXPECT_EQ(o.verdict, Verdict::pass) << reasons_text(o);
}

TEST(FsMonitorParity, ADifferentErrorCountFailsNamingIt) {
  Outcome o = run(monitor_output(5, 2));
  EXPECT_EQ(o.verdict, Verdict::fail);
  EXPECT_EQ(reasons_text(o),
            "step 1 (stop): fs-monitor: record 1 (output line 1) disagrees with the harness: error_count: "
            "fs-monitor 2, harness 1\n");
}

TEST(FsMonitorParity, ADifferentErrnoFails) {
  expect_failure_naming(monitor_output(117),
                        "error: fs-monitor 117, harness 5");
}

TEST(FsMonitorParity, ADifferentInodeFails) {
  expect_failure_naming(monitor_output(5, 1, 12),
                        "inode: fs-monitor 12, harness 14");
}

TEST(FsMonitorParity, ASuperblockRecordAgainstAnInodeHandleFails) {
  expect_failure_naming("FAN_FS_ERROR (len=52)\n\terror: 5\n\terror_count: 1\n\tdecoded fh: Type 255 (Superblock error)\n---\n",
                        "handle: fs-monitor superblock, harness handle_type 1 ino 14");
}

TEST(FsMonitorParity, NoOutputFails) {
  Outcome o = run("");
  EXPECT_EQ(o.verdict, Verdict::fail);
  EXPECT_EQ(reasons_text(o), "step 1 (stop): fs-monitor: no FAN_FS_ERROR record in its output (no output) (the harness saw 1)\n");
}

TEST(FsMonitorParity, MoreRecordsThanTheHarnessSawFail) {
  expect_failure_naming(monitor_output() + monitor_output(),
                        "2 FAN_FS_ERROR record(s), the harness 1 FS_ERROR event(s)");
}

TEST(FsMonitorParity, TheSamplesOwnFailureIsNamed) {
  expect_failure_naming("fs-monitor: fanotify_mark\n",
                        "step 1 (stop): fs-monitor: line 1: fs-monitor: fanotify_mark");
}

TEST(FsMonitorParity, BelongsToStopOrWait) {
  EXPECT_THROW(parse_scenario_text("name = \"p\"\nstep = [ { do = \"exec\", argv = [\"/m\"], format = \"fs-monitor\" } ]\n",
                                   "p.toml"),
               std::runtime_error);
}
