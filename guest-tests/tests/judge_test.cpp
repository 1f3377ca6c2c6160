#include "guest-tests/runner/judge.h"

#include "guest-tests/runner/util.h"

#include <gtest/gtest.h>

using namespace fsfault::vm;

namespace {

Scenario smoke() { return load_scenario(std::string(FSFAULT_SCENARIOS_DIR) + "/ext4/eio-inode-read.toml"); }

Trace recorded(const std::string& name) {
  Trace t;
  for (auto& r : read_jsonl(std::string(FSFAULT_TRACES_DIR) + "/" + name)) {
    if (r.value("type", std::string()) == "hello") {
      t.kernel_release = r["release"];
      continue;
    }
    t.records.push_back(r);
  }
  t.maps.push_back(json::parse(read_file(std::string(FSFAULT_TRACES_DIR) + "/ext4-basic.map.json")));
  t.faults.push_back(json{{"rule", "itable-eio"}, {"op", "read"}, {"sector", 8464}, {"disk", 0}});
  t.completed = true;
  return t;
}

bool mentions(const Outcome& o, const std::string& what) {
  for (auto& r : o.reasons)
    if (r.find(what) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST(Judge, PassesOnRecordedTrace) {
  Outcome o = judge(smoke(), recorded("eio-inode-read.pass.jsonl"));
  EXPECT_EQ(o.verdict, Verdict::pass) << (o.reasons.empty() ? "" : o.reasons.front());
}

TEST(Judge, WrongInodeFailsWithExpectedAndSeen) {
  Trace t = recorded("eio-inode-read.pass.jsonl");
  for (auto& r : t.records)
    if (r["type"] == "event") r["ino"] = 12;
  Outcome o = judge(smoke(), t);
  EXPECT_EQ(o.verdict, Verdict::fail);
  EXPECT_TRUE(mentions(o, "expected inode:/data/f1 (ino 13), saw ino 12")) << o.reasons.front();
}

TEST(Judge, WrongErrnoAndCountFail) {
  Trace t = recorded("eio-inode-read.pass.jsonl");
  for (auto& r : t.records)
    if (r["type"] == "event") {
      r["error"] = 117;
      r["error_count"] = 3;
    }
  Outcome o = judge(smoke(), t);
  EXPECT_EQ(o.verdict, Verdict::fail);
  EXPECT_TRUE(mentions(o, "error: expected EIO (5), saw 117"));
  EXPECT_TRUE(mentions(o, "error_count: expected 1, saw 3"));
}

TEST(Judge, MissingEventFails) {
  Trace t = recorded("eio-inode-read.pass.jsonl");
  std::erase_if(t.records, [](const json& r) { return r["type"] == "event"; });
  Outcome o = judge(smoke(), t);
  EXPECT_EQ(o.verdict, Verdict::fail);
  EXPECT_TRUE(mentions(o, "expected count 1, saw 0"));
}

TEST(Judge, StepErrnoChecked) {
  Trace t = recorded("eio-inode-read.pass.jsonl");
  for (auto& r : t.records)
    if (r["type"] == "step" && r["id"] == "5") {
      r["errno"] = 0;
      r["errno_name"] = "OK";
    }
  Outcome o = judge(smoke(), t);
  EXPECT_EQ(o.verdict, Verdict::fail);
  EXPECT_TRUE(mentions(o, "step 5 (stat /data/f1): expected errno EIO (5), saw OK (0)"));
}

TEST(Judge, NoFaultFiredFails) {
  Trace t = recorded("eio-inode-read.pass.jsonl");
  t.faults.clear();
  Outcome o = judge(smoke(), t);
  EXPECT_EQ(o.verdict, Verdict::fail);
  EXPECT_TRUE(mentions(o, "faults of rule itable-eio: expected >=1, saw 0"));
}

TEST(Judge, TimeoutAndIncomplete) {
  Trace t = recorded("eio-inode-read.pass.jsonl");
  t.timed_out = true;
  EXPECT_EQ(judge(smoke(), t).verdict, Verdict::timeout);
  t.timed_out = false;
  t.completed = false;
  EXPECT_EQ(judge(smoke(), t).verdict, Verdict::error);
}

TEST(Judge, EmptyHandleAndSums) {
  Scenario s = parse_scenario_text(R"(
name = "t/empty"
step = [ { do = "watch" } ]
[[disk]]
image = "ext4-basic"
[[expect]]
event = "FS_ERROR"
count = ">=1"
error = "ESHUTDOWN"
fid = "empty"
error_count_sum = 4
[[expect]]
kmsg = "lost filesystem error report"
count = 0
)", "t.toml");
  Trace t;
  t.completed = true;
  t.maps.push_back(json::object());
  t.records.push_back(json{{"type", "step"}, {"id", "0"}, {"do", "mount"}, {"implicit", true}, {"ok", true}, {"errno", 0}});
  for (int c : {1, 3})
    t.records.push_back(json{{"type", "event"}, {"mask_names", {"FS_ERROR"}}, {"error", 108}, {"error_count", c},
                             {"handle_type", 255}, {"handle_bytes", 0}});
  EXPECT_EQ(judge(s, t).verdict, Verdict::pass);
  t.records.back()["handle_type"] = 1;
  t.records.back()["handle_bytes"] = 8;
  Outcome o = judge(s, t);
  EXPECT_EQ(o.verdict, Verdict::fail);
  EXPECT_TRUE(mentions(o, "expected an empty handle"));
  t.records.push_back(json{{"type", "kmsg"}, {"text", "vda: lost filesystem error report for type 5 error -117"}});
  EXPECT_TRUE(mentions(judge(s, t), "kmsg /lost filesystem error report/: expected count 0, saw 1"));
}

TEST(Judge, FailedImplicitMountFails) {
  Trace t = recorded("eio-inode-read.pass.jsonl");
  t.records[0]["ok"] = false;
  t.records[0]["errno_name"] = "EINVAL";
  Outcome o = judge(smoke(), t);
  EXPECT_EQ(o.verdict, Verdict::fail);
  EXPECT_TRUE(mentions(o, "mounting disk 0 failed with EINVAL"));
}

TEST(Judge, CountSpecs) {
  EXPECT_TRUE(count_matches(json(3), 3));
  EXPECT_FALSE(count_matches(json(3), 2));
  EXPECT_TRUE(count_matches(json(">=1"), 5));
  EXPECT_FALSE(count_matches(json("<=1"), 2));
  EXPECT_TRUE(count_matches(json("2-4"), 4));
  EXPECT_TRUE(count_matches(json("any"), 0));
  EXPECT_EQ(errno_from_name(json("EFSCORRUPTED")), 117);
  EXPECT_EQ(errno_from_name(json("EFSBADCRC")), 74);
}

// A trace recorded by `fsfault vm-test` on Debian's 6.1.176 cloud kernel under TCG.
TEST(Judge, RealBookwormTracePasses) {
  Trace t;
  for (auto& r : read_jsonl(std::string(FSFAULT_TRACES_DIR) + "/eio-inode-read.bookworm-6.1.records.jsonl")) {
    std::string type = r.value("type", std::string());
    if (type == "done") t.completed = true;
    else if (type != "hello" && type != "phase") t.records.push_back(r);
  }
  t.maps.push_back(json::parse(read_file(std::string(FSFAULT_TRACES_DIR) + "/eio-inode-read.bookworm-6.1.map.json")));
  t.faults.push_back(json{{"rule", "itable-eio"}, {"op", "read"}, {"sector", 584}, {"disk", 0}});
  Outcome o = judge(smoke(), t);
  EXPECT_EQ(o.verdict, Verdict::pass) << (o.reasons.empty() ? "" : o.reasons.front());
  t.maps[0]["targets"]["inode:/data/f1"]["ino"] = 99;
  EXPECT_EQ(judge(smoke(), t).verdict, Verdict::fail);
}
