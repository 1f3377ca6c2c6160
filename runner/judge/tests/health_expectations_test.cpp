// judge_health on health monitor records recorded on sid 7.2.13 (xfs/health-channels-7 and the
// LOST record of xfs/health-lost-7).
#include "runner/judge/health_expectations.h"

#include <gtest/gtest.h>

using namespace fsfault::vm;

namespace {

Trace health_trace() {
  Trace t;
  t.records = read_jsonl(std::string(FSFAULT_TRACES_DIR) + "/health-records.sid.jsonl");
  t.completed = true;
  return t;
}

Outcome judge_one(const json& ex, const Trace& t) {
  Outcome o;
  judge_health(ex, t, o);
  return o;
}

}  // namespace

TEST(HealthExpectations, CatalogueExpectationsHoldOnRecordedRecords) {
  Scenario s = load_scenario(std::string(FSFAULT_SCENARIOS_DIR) + "/xfs/health-channels-7.toml");
  Trace t = health_trace();
  int judged = 0;
  for (const json& ex : s.expects) {
    if (!ex.contains("health")) continue;
    ++judged;
    Outcome o = judge_one(ex, t);
    EXPECT_TRUE(o.reasons.empty()) << ex.dump() << ": " << o.reasons.front();
  }
  EXPECT_EQ(judged, 4);
}

TEST(HealthExpectations, MissingRecordFailsNamingWhatWasSeen) {
  Outcome o = judge_one(json{{"health", "corrupt"}, {"domain", "inode"}}, health_trace());
  ASSERT_EQ(o.reasons.size(), 1u);
  EXPECT_NE(o.reasons[0].find("health corrupt (domain inode): expected count >=1, saw 0 in {"), std::string::npos)
      << o.reasons[0];
  EXPECT_NE(o.reasons[0].find("\"event\":\"sick\""), std::string::npos) << o.reasons[0];
}

TEST(HealthExpectations, LostcountAndReasonsAreChecked) {
  Trace t = health_trace();
  EXPECT_TRUE(judge_one(json{{"health", "lost"}, {"count", 1}, {"lostcount", 37}}, t).reasons.empty());
  Outcome o = judge_one(json{{"health", "lost"}, {"lostcount", ">=38"}}, t);
  ASSERT_EQ(o.reasons.size(), 1u);
  EXPECT_EQ(o.reasons[0], "health lost: lostcount: expected >=38, saw 37");
  o = judge_one(json{{"health", "unmount"}, {"disk", 1}}, t);
  EXPECT_EQ(o.reasons.size(), 1u);  // the records are disk 0's
}
