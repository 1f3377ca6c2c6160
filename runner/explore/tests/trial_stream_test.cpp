// The stream scheduler: results in index order whatever finishes first, exactly the indices
// `more` allows, and no batch barrier (a slow trial does not hold the other workers back).
#include "runner/explore/trial_stream.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>

using namespace fsfault::vm::explore;
using std::chrono::milliseconds;

namespace {

// Early indices sleep longest, so they finish after later ones on other workers.
int sleep_ms(std::uint64_t k) { return static_cast<int>((7 - k % 8) * 3); }

}  // namespace

TEST(TrialStream, HandsResultsOnInIndexOrderWhateverFinishesFirst) {
  std::vector<std::uint64_t> seen;
  std::vector<std::uint64_t> values;
  std::atomic<int> finished_out_of_order{0};
  std::atomic<std::uint64_t> highest_finished{0};
  TrialStream<std::uint64_t> s{
      [](std::uint64_t k) { return k < 40; },
      [&](std::uint64_t k) {
        std::this_thread::sleep_for(milliseconds(sleep_ms(k)));
        if (highest_finished.load() > k) ++finished_out_of_order;
        std::uint64_t h = highest_finished.load();
        while (h < k && !highest_finished.compare_exchange_weak(h, k)) {}
        return k * k + 1;
      },
      [&](std::uint64_t k, std::uint64_t& r) {
        seen.push_back(k);
        values.push_back(r);
      }};
  run_stream(s, 3);
  ASSERT_EQ(seen.size(), 40u);
  for (std::uint64_t k = 0; k < 40; ++k) {
    EXPECT_EQ(seen[k], k);
    EXPECT_EQ(values[k], k * k + 1);
  }
  EXPECT_GT(finished_out_of_order.load(), 0) << "the test did not make runs finish out of order";
}

TEST(TrialStream, RunsExactlyTheIndicesMoreAllowsFromFirst) {
  std::vector<std::uint64_t> asked;
  std::atomic<int> runs{0};
  std::vector<std::uint64_t> seen;
  TrialStream<int> s{[&](std::uint64_t k) {
                       asked.push_back(k);
                       return k < 12;
                     },
                     [&](std::uint64_t) { return ++runs; },
                     [&](std::uint64_t k, int&) { seen.push_back(k); }};
  run_stream(s, 2, 5);
  EXPECT_EQ(runs.load(), 7);
  EXPECT_EQ(seen, (std::vector<std::uint64_t>{5, 6, 7, 8, 9, 10, 11}));
  EXPECT_EQ(asked, (std::vector<std::uint64_t>{5, 6, 7, 8, 9, 10, 11, 12}));  // not asked again after "no"
}

TEST(TrialStream, ASlowTrialDoesNotHoldTheOtherWorkersBack) {
  std::atomic<bool> zero_done{false};
  std::atomic<int> started_while_zero_ran{0};
  TrialStream<int> s{[](std::uint64_t k) { return k < 12; },
                     [&](std::uint64_t k) {
                       if (k == 0) {
                         std::this_thread::sleep_for(milliseconds(400));
                         zero_done = true;
                       } else {
                         if (!zero_done) ++started_while_zero_ran;
                         std::this_thread::sleep_for(milliseconds(5));
                       }
                       return 0;
                     },
                     [](std::uint64_t, int&) {}};
  run_stream(s, 2);
  // A batch of 2 x jobs would start only indices 1-3 before index 0 ends.
  EXPECT_EQ(started_while_zero_ran.load(), 11);
}
