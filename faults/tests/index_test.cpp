#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "faults/fault_engine.h"
#include "faults/interval_index.h"

namespace fsfault::faults {
namespace {

std::vector<std::uint32_t> brute(const std::vector<IntervalIndex::Interval>& ivs, std::uint64_t a, std::uint64_t b) {
  std::vector<std::uint32_t> out;
  for (std::uint32_t i = 0; i < ivs.size(); ++i) {
    if (ivs[i].first <= b && ivs[i].last >= a) out.push_back(i);
  }
  return out;
}

TEST(IntervalIndex, EmptyAndSingle) {
  IntervalIndex empty;
  std::vector<std::uint32_t> out;
  empty.query(0, UINT64_MAX, out);
  EXPECT_TRUE(out.empty());
  IntervalIndex one({{10, 20, 7}});
  for (auto [a, b, hit] : std::vector<std::tuple<std::uint64_t, std::uint64_t, bool>>{
           {0, 9, false}, {0, 10, true}, {20, 30, true}, {21, 30, false}, {15, 15, true}, {0, UINT64_MAX, true}}) {
    out.clear();
    one.query(a, b, out);
    EXPECT_EQ(out.size(), hit ? 1u : 0u) << a << "-" << b;
  }
  EXPECT_EQ(one.at(0).value, 7u);
}

TEST(IntervalIndex, MatchesBruteForceOnRandomIntervals) {
  std::mt19937_64 rng(20240601);
  for (int round = 0; round < 40; ++round) {
    const std::uint64_t space = round % 2 ? 200 : 1'000'000;  // dense and sparse
    const std::size_t n = 1 + rng() % (round < 20 ? 50 : 3000);
    std::vector<IntervalIndex::Interval> ivs;
    for (std::size_t i = 0; i < n; ++i) {
      std::uint64_t a = rng() % space;
      std::uint64_t len = rng() % 4 == 0 ? rng() % (space / 4 + 1) : rng() % 8;
      ivs.push_back({a, a + len, static_cast<std::uint32_t>(i)});
    }
    IntervalIndex idx(ivs);
    for (int q = 0; q < 500; ++q) {
      std::uint64_t a = rng() % (space + 10);
      std::uint64_t b = a + (rng() % 3 == 0 ? rng() % space : rng() % 16);
      std::vector<std::uint32_t> got;
      idx.query(a, b, got);
      std::sort(got.begin(), got.end());
      ASSERT_EQ(got, brute(ivs, a, b)) << "round " << round << " query " << a << "-" << b;
    }
  }
}

// decide() through the index equals decide() by linear scan, on random
// schedules, random rule states, random phases and thousands of requests.
TEST(IntervalIndex, DecideMatchesBruteForceOnRandomSchedules) {
  std::mt19937_64 rng(77);
  const char* phases[] = {"", "armed", "flood"};
  const Op ops[] = {Op::Read, Op::Write, Op::Flush, Op::Trim, Op::Zero, Op::Cache};
  for (int round = 0; round < 30; ++round) {
    Schedule s;
    s.seed = rng();
    const std::uint64_t space = round % 3 == 0 ? 64 : 100'000;
    const std::size_t n = 1 + rng() % 400;
    for (std::size_t i = 0; i < n; ++i) {
      Rule r;
      r.name = "r" + std::to_string(i);
      const auto kind = static_cast<ActionKind>(rng() % 8);
      r.action.kind = kind;
      r.action.error = 5;
      r.action.delay_ms = static_cast<std::uint32_t>(rng() % 5);
      r.action.flip_bits = static_cast<std::uint32_t>(1 + rng() % 4);
      r.op = static_cast<OpMatch>(rng() % 6);
      if (changes_data(kind)) r.op = OpMatch::Read;
      if (kind == ActionKind::Torn) r.op = OpMatch::Write;
      if (r.op != OpMatch::Flush && rng() % 5 != 0) {
        std::vector<SectorRange> ranges;
        for (std::size_t k = 0, m = 1 + rng() % 3; k < m; ++k) {
          std::uint64_t a = rng() % space;
          ranges.push_back({a, a + rng() % 6});
        }
        r.ranges = normalize_ranges(ranges);
      }
      if (kind == ActionKind::Flip && rng() % 3 == 0) r.action.flip_offset = rng() % 4096;
      // Byte windows (a fill always has one), counted from each range's start.
      if (!r.ranges.empty() && (kind == ActionKind::Fill || (changes_data(kind) && rng() % 2 == 0))) {
        r.action.flip_offset.reset();
        r.action.window = ByteWindow{rng() % 1024, rng() % 2 ? std::optional<std::uint64_t>(1 + rng() % 700)
                                                              : std::nullopt};
        r.action.fill_byte = static_cast<std::uint8_t>(rng());
      }
      if (rng() % 4 == 0) r.phase = phases[1 + rng() % 2];
      if (rng() % 4 == 0) r.count = 1 + rng() % 3;
      if (rng() % 4 == 0) r.after = rng() % 3;
      if (rng() % 4 == 0) r.every = 1 + rng() % 3;
      if (rng() % 4 == 0) r.probability = 0.5;
      if (rng() % 8 == 0) r.after_ms = rng() % 200;
      s.rules.push_back(std::move(r));
    }
    auto compiled = CompiledSchedule::build(std::move(s));
    std::vector<RuleState> states(n);
    for (int q = 0; q < 2000; ++q) {
      for (auto& st : states) {
        st.matches = rng() % 6;
        st.fired = rng() % 4;
      }
      const Op op = ops[rng() % 6];
      Request req{op, 0, 0};
      if (op != Op::Flush) {
        req.offset = (rng() % (space + 8)) * 512 + (rng() % 4 == 0 ? rng() % 512 : 0);
        req.length = rng() % 8 == 0 ? rng() % 600 : (1 + rng() % 16) * 512;
      }
      DecideContext ctx;
      ctx.phase = phases[rng() % 3];
      ctx.ms_in_phase = rng() % 300;
      Verdict a = decide(*compiled, req, states, ctx, CandidateSearch::Index);
      Verdict b = decide(*compiled, req, states, ctx, CandidateSearch::BruteForce);
      ASSERT_EQ(a.matched, b.matched) << "round " << round << " q " << q;
      ASSERT_EQ(a.fired.size(), b.fired.size());
      for (std::size_t i = 0; i < a.fired.size(); ++i) {
        ASSERT_EQ(a.fired[i].rule, b.fired[i].rule);
        ASSERT_EQ(a.fired[i].bits, b.fired[i].bits);
        ASSERT_EQ(a.fired[i].bytes, b.fired[i].bytes);
      }
      ASSERT_EQ(a.decision.flip_bits, b.decision.flip_bits);
      ASSERT_EQ(a.decision.error, b.decision.error);
      ASSERT_EQ(a.decision.delay_ms, b.decision.delay_ms);
      ASSERT_EQ(a.decision.edits, b.decision.edits);
      ASSERT_EQ(a.decision.torn, b.decision.torn);
      ASSERT_EQ(a.decision.disconnect, b.decision.disconnect);
      ASSERT_EQ(a.decision.persist_flip, b.decision.persist_flip);
      ASSERT_EQ(a.decision.rule, b.decision.rule);
      ASSERT_EQ(a.dies, b.dies);
    }
  }
}

}  // namespace
}  // namespace fsfault::faults
