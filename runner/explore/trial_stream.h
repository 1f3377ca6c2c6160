// Trials as a stream over J workers: a worker that finishes takes the next index, so no worker
// waits for the slowest of a batch; results are handed on in index order, so what a campaign
// concludes (a finding's first trial, its trial list) does not depend on which VM was faster.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

namespace fsfault::vm::explore {

template <class R>
struct TrialStream {
  // Whether index k is to run; asked in increasing k, once each, until it says no (the budget, the
  // clock, a termination signal).
  std::function<bool(std::uint64_t k)> more;
  // Runs index k (on a worker thread; several at once).
  std::function<R(std::uint64_t k)> run;
  // Index k's result, in increasing k with none left out, one call at a time.
  std::function<void(std::uint64_t k, R& result)> done;
};

// Runs the stream from index `first` with `jobs` workers; returns when every started index was
// handed to `done`.
template <class R>
void run_stream(const TrialStream<R>& s, int jobs, std::uint64_t first = 0) {
  std::mutex m;
  std::uint64_t next = first, deliver = first;
  bool open = true;
  std::map<std::uint64_t, R> waiting;  // finished, but an earlier index is still running
  auto worker = [&] {
    for (;;) {
      std::uint64_t k;
      {
        std::lock_guard<std::mutex> g(m);
        if (!open || !(open = s.more(next))) return;
        k = next++;
      }
      R r = s.run(k);
      std::lock_guard<std::mutex> g(m);
      waiting.emplace(k, std::move(r));
      for (auto it = waiting.find(deliver); it != waiting.end(); it = waiting.find(++deliver)) {
        s.done(deliver, it->second);
        waiting.erase(it);
      }
    }
  };
  std::vector<std::thread> threads;
  for (int j = 0; j < std::max(1, jobs); ++j) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
}

}  // namespace fsfault::vm::explore
