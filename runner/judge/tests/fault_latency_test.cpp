// Latency from the fault (runner/judge/fault_latency.h), on the recorded bookworm 6.1.176 trace of
// ext4/merge-unread with its fault log, and the runner's host clock put where runner.log would.
#include "runner/judge/fault_latency.h"

#include <gtest/gtest.h>

using namespace fsfault::vm;

namespace {

const std::string kDir = std::string(FSFAULT_TRACES_DIR) + "/bookworm-6.1/merge-unread";

// The trace as ScenarioRun hands it to the judge: records without phase records (it answers them),
// the fault log tagged with its disk, and host times parsed from a runner.log whose phase puts
// fault f1-eio (t_ms 5207) at guest 1410 ms, 6 ms after the "armed" phase step started (1406 - 2).
Trace merge_unread() {
  Trace t;
  for (auto& r : read_jsonl(kDir + "/records.jsonl")) {
    std::string type = r.value("type", std::string());
    if (type == "hello") t.kernel_release = r["release"];
    else if (type == "done") t.completed = true;
    else if (type != "phase") t.records.push_back(r);
  }
  t.maps.push_back(fsfault::faults::TargetMap::load_file(kDir + "/map-d0.json"));
  for (auto f : read_jsonl(kDir + "/faults-d0.jsonl")) {
    f["disk"] = 0;
    t.faults.push_back(f);
  }
  t.host = parse_runner_log("server for disk 0 started at 0 ms\nservers up after 40 ms\n"
                            "phase armed at 5201 ms: {\"ok\":true}\n");
  return t;
}

json* fs_error(Trace& t, size_t i) {
  size_t n = 0;
  for (auto& r : t.records)
    if (r.value("type", std::string()) == "event" && n++ == i) return &r;
  return nullptr;
}

json* step(Trace& t, const std::string& id) {
  for (auto& r : t.records)
    if (r.value("type", std::string()) == "step" && r.value("id", std::string()) == id) return &r;
  return nullptr;
}

// The fault fired, the stats blocked 15 s, then the event came 10 ms after the last one returned.
Trace late_after_fault() {
  Trace t = merge_unread();
  for (auto& r : t.records)
    if (r.value("type", std::string()) == "step" && r["t_ms"].get<long long>() > 1426) r["t_ms"] = r["t_ms"].get<long long>() + 20000;
  (*step(t, "8"))["end_ms"] = 16400;
  (*fs_error(t, 0))["arrived_ms"] = 16410;
  return t;
}

Scenario bounded(std::optional<long long> bound) {
  Scenario s = load_scenario(std::string(FSFAULT_SCENARIOS_DIR) + "/ext4/merge-unread.toml");
  json ex = {{"event", "FS_ERROR"}, {"count", 2}, {"index", 0}};
  if (bound) ex["max_fault_latency_ms"] = *bound;
  s.expects.push_back(ex);
  return s;
}

bool has(const std::vector<std::string>& lines, const std::string& what) {
  for (auto& l : lines)
    if (l.find(what) != std::string::npos) return true;
  return false;
}

std::string all(const std::vector<std::string>& lines) {
  std::string s;
  for (auto& l : lines) s += l + "\n";
  return s;
}

}  // namespace

TEST(JudgeFaultLatency, RunnerLogGivesTheHostClock) {
  HostClock h = parse_runner_log("server for disk 1 started at 17 ms\nphase armed at 900 ms: {}\n"
                                 "phase armed at 950 ms: {}\nservers up after 30 ms\nnoise\n");
  EXPECT_EQ(h.server_spawn_ms.at(1), 17);
  EXPECT_EQ(h.phase_ms.at("armed"), 900) << "the first line of a phase";
  EXPECT_EQ(h.servers_up_ms, 30);
  std::vector<json> rec = {json{{"type", "phase"}, {"name", "armed"}, {"t_ms", 1000}}};
  EXPECT_EQ(host_to_guest_offset(rec, h), 100);
  // As the runner hands records to the judge: the phase step only, which started when it sent the phase.
  rec = {json{{"type", "step"}, {"do", "phase"}, {"name", "armed"}, {"t_ms", 1003}, {"ms", 3}}};
  EXPECT_EQ(host_to_guest_offset(rec, h), 100);
  EXPECT_EQ(host_to_guest_offset({json{{"type", "step"}, {"do", "stat"}, {"t_ms", 1}, {"ms", 1}}}, h), std::nullopt);
  EXPECT_EQ(fault_guest_ms(json{{"t_ms", 5}}, 1, h, 100), 122);
  EXPECT_EQ(fault_guest_ms(json{{"t_ms", 5}}, 0, h, 100), std::nullopt) << "no spawn time for disk 0";
}

// An event 15 s after its fault fails a from-fault bound while its step latency is small.
TEST(JudgeFaultLatency, EventLongAfterItsFaultFailsTheBoundThoughItsStepWasQuick) {
  Trace t = late_after_fault();
  Outcome free = judge(bounded(std::nullopt), t);
  ASSERT_EQ(free.verdict, Verdict::pass) << all(free.reasons);
  EXPECT_TRUE(has(free.notes, "latency: event FS_ERROR #0 arrived 10 ms after step 8 (fionread); 15000 ms after the "
                              "first fault since the start (rule f1-eio, read sector 584+112, disk 0)"))
      << all(free.notes);
  Outcome o = judge(bounded(5000), t);
  EXPECT_EQ(o.verdict, Verdict::fail);
  EXPECT_TRUE(has(o.reasons, "event FS_ERROR #0: event arrived 15000 ms after the first fault since the start "
                             "(rule f1-eio, read sector 584+112, disk 0), bound 5000 ms"))
      << all(o.reasons);
  EXPECT_EQ(o.reasons.size(), 1u) << "the step bound is not the fault bound: " << all(o.reasons);
  (*fs_error(t, 0))["arrived_ms"] = 1450;  // 40 ms after the fault
  EXPECT_EQ(judge(bounded(5000), t).verdict, Verdict::pass) << all(judge(bounded(5000), t).reasons);
}

// The second event is measured from the first fault after the first event arrived.
TEST(JudgeFaultLatency, LaterEventCountsFromTheFirstFaultSinceThePreviousEvent) {
  Trace t = late_after_fault();
  (*fs_error(t, 1))["arrived_ms"] = 16600;
  Outcome before = judge(bounded(std::nullopt), t);
  EXPECT_TRUE(has(before.notes, "#1 arrived") && has(before.notes, "no figure from the fault: no fault on disk 0 fired "
                                                                   "between the previous event (16410 ms) and its arrival (16600 ms)"))
      << all(before.notes);
  t.faults.push_back(json{{"t_ms", 20297}, {"rule", "late"}, {"op", "read"}, {"sector", 8}, {"sectors", 8}, {"disk", 0}});
  t.faults.push_back(json{{"t_ms", 20347}, {"rule", "later"}, {"op", "read"}, {"sector", 8}, {"sectors", 8}, {"disk", 0}});
  Outcome o = judge(bounded(std::nullopt), t);
  EXPECT_TRUE(has(o.notes, "; 100 ms after the first fault since the previous event (rule late, read sector 8+8, disk 0)"))
      << all(o.notes);
}

// Missing fault log or host clock: a note saying so, no figure; a bound cannot pass unchecked.
TEST(JudgeFaultLatency, MissingFaultLogOrClockIsNotedWithoutAFigure) {
  Trace t = late_after_fault();
  t.faults.clear();
  Outcome o = judge(bounded(std::nullopt), t);
  ASSERT_EQ(o.verdict, Verdict::pass) << all(o.reasons);
  EXPECT_TRUE(has(o.notes, "arrived 10 ms after step 8 (fionread); no figure from the fault: the fault log of disk 0 "
                           "is missing or empty"))
      << all(o.notes);
  EXPECT_FALSE(has(o.notes, "after the first fault"));
  Outcome b = judge(bounded(5000), t);
  EXPECT_EQ(b.verdict, Verdict::fail);
  EXPECT_TRUE(has(b.reasons, "the fault log of disk 0 is missing or empty, so max_fault_latency_ms 5000 cannot be checked"))
      << all(b.reasons);
  t = late_after_fault();
  t.host = HostClock{};  // a trace without runner.log
  EXPECT_TRUE(has(judge(bounded(std::nullopt), t).notes,
                  "no figure from the fault: fault times are not on the guest's clock (no server spawn or phase time)"));
}
