// The minimizer on a synthetic oracle: it must find the 1-minimal subset and say what it cost.
#include "runner/explore/minimize.h"

#include <gtest/gtest.h>

#include <set>

using namespace fsfault::vm;
using namespace fsfault::vm::explore;

namespace {

std::vector<json> rules(int n) {
  std::vector<json> v;
  for (int i = 0; i < n; ++i) v.push_back(json{{"name", "r" + std::to_string(i)}});
  return v;
}

std::set<std::string> names(const std::vector<json>& v) {
  std::set<std::string> s;
  for (auto& r : v) s.insert(r["name"]);
  return s;
}

// Holds when every rule of `need` is among the candidate's.
Oracle needs(std::set<std::string> need, int& calls) {
  return [need, &calls](const std::vector<json>& c) {
    ++calls;
    auto have = names(c);
    for (auto& n : need)
      if (!have.count(n)) return false;
    return true;
  };
}

}  // namespace

TEST(ExploreMinimize, DdminFindsTheTwoRulesThatMatterAmongEight) {
  int calls = 0;
  Minimized m = ddmin(rules(8), needs({"r2", "r6"}, calls));
  EXPECT_EQ(names(m.rules), (std::set<std::string>{"r2", "r6"}));
  EXPECT_EQ(m.oracle_calls, calls);
  EXPECT_LE(calls, 30);
}

TEST(ExploreMinimize, DdminResultIsOneMinimal) {
  for (auto need : std::vector<std::set<std::string>>{{"r0"}, {"r3"}, {"r1", "r2"}, {"r0", "r3"}, {"r0", "r1", "r3"}}) {
    int calls = 0;
    Oracle o = needs(need, calls);
    Minimized m = ddmin(rules(4), o);
    EXPECT_EQ(names(m.rules), need);
    for (std::size_t drop = 0; drop < m.rules.size(); ++drop) {  // removing any one rule breaks it
      auto less = m.rules;
      less.erase(less.begin() + static_cast<long>(drop));
      EXPECT_FALSE(o(less));
    }
  }
}

TEST(ExploreMinimize, OneRuleCostsNoCall) {
  int calls = 0;
  EXPECT_EQ(ddmin(rules(1), needs({"r0"}, calls)).oracle_calls, 0);
}

TEST(ExploreMinimize, ShrinkHalvesTheWindowAndDropsFiringControls) {
  std::vector<json> in = {json{{"name", "r0"}, {"match", {{"op", "read"}, {"target", "block-bitmap:1"}}},
                               {"action", {{"zero", {{"offset", 0}, {"bytes", 4096}}}}}, {"every", 2}},
                          json{{"name", "r1"}, {"action", {{"fail", "EIO"}}}, {"count", 3}}};
  int calls = 0;
  // Reproduces while r0 zeroes at least 1000 bytes (the synthetic "bug" needs a 1 KiB window).
  Oracle o = [&calls](const std::vector<json>& c) {
    ++calls;
    for (auto& r : c)
      if (r["name"] == "r0") return r["action"]["zero"]["bytes"].get<int>() >= 1000;
    return false;
  };
  Minimized m = minimize(in, o, 50);
  ASSERT_EQ(m.rules.size(), 1u);
  EXPECT_EQ(m.rules[0]["action"]["zero"]["bytes"], 1024);
  EXPECT_FALSE(m.rules[0].contains("every"));
  EXPECT_EQ(m.oracle_calls, calls);
}
