// decide() cost against schedule size: a generated "bad block list" of n
// single-sector fail rules (plus 1% ranged delay rules) spread over a 1 TiB
// disk, queried with random 4 KiB reads. The index keeps the cost flat.
#include <benchmark/benchmark.h>

#include <map>
#include <memory>
#include <random>

#include "faults/fault_engine.h"

namespace ff = fsfault::faults;

namespace {

constexpr std::uint64_t kDiskSectors = 1ULL << 31;  // 1 TiB

std::shared_ptr<const ff::CompiledSchedule> schedule_of(std::int64_t n) {
  static std::map<std::int64_t, std::shared_ptr<const ff::CompiledSchedule>> cache;
  auto& slot = cache[n];
  if (slot) return slot;
  std::mt19937_64 rng(1);
  ff::Schedule s;
  s.seed = 7;
  s.rules.reserve(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    ff::Rule r;
    r.name = "bad#" + std::to_string(i);
    r.op = ff::OpMatch::Read;
    const std::uint64_t a = rng() % kDiskSectors;
    if (i % 100 == 99) {
      r.action.kind = ff::ActionKind::Delay;
      r.action.delay_ms = 1;
      r.ranges = {{a, a + 4096}};
    } else {
      r.action.kind = ff::ActionKind::Fail;
      r.action.error = 5;
      r.ranges = {{a, a}};
    }
    s.rules.push_back(std::move(r));
  }
  slot = ff::CompiledSchedule::build(std::move(s));
  return slot;
}

std::vector<ff::Request> requests() {
  std::mt19937_64 rng(2);
  std::vector<ff::Request> out(4096);
  for (auto& r : out) r = {ff::Op::Read, (rng() % (kDiskSectors - 8)) * 512, 4096};
  return out;
}

void BM_Decide(benchmark::State& state) {
  auto s = schedule_of(state.range(0));
  std::vector<ff::RuleState> states(s->schedule.rules.size());
  const auto reqs = requests();
  const ff::DecideContext ctx;
  std::size_t i = 0, hits = 0;
  for (auto _ : state) {
    auto v = ff::decide(*s, reqs[i++ & 4095], states, ctx);
    hits += v.matched.size();
    benchmark::DoNotOptimize(v);
  }
  state.counters["matched/req"] = benchmark::Counter(static_cast<double>(hits) / static_cast<double>(state.iterations()));
}
BENCHMARK(BM_Decide)->Arg(0)->Arg(1000)->Arg(100000)->Arg(1000000);

// Requests that always land on a rule's sector: the k in O(log n + k).
void BM_DecideHit(benchmark::State& state) {
  auto s = schedule_of(state.range(0));
  std::vector<ff::RuleState> states(s->schedule.rules.size());
  std::vector<ff::Request> reqs;
  for (std::size_t j = 0; j < 4096; ++j) {
    const auto& r = s->schedule.rules[(j * 7919) % s->schedule.rules.size()];
    reqs.push_back({ff::Op::Read, r.ranges[0].first * 512, 4096});
  }
  const ff::DecideContext ctx;
  std::size_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(ff::decide(*s, reqs[i++ & 4095], states, ctx));
}
BENCHMARK(BM_DecideHit)->Arg(1000)->Arg(100000)->Arg(1000000);

// The linear reference, for scale.
void BM_DecideBruteForce(benchmark::State& state) {
  auto s = schedule_of(state.range(0));
  std::vector<ff::RuleState> states(s->schedule.rules.size());
  const auto reqs = requests();
  const ff::DecideContext ctx;
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(ff::decide(*s, reqs[i++ & 4095], states, ctx, ff::CandidateSearch::BruteForce));
  }
}
BENCHMARK(BM_DecideBruteForce)->Arg(1000)->Arg(100000);

// The full engine path (lock, decide, commit counters), no log.
void BM_Evaluate(benchmark::State& state) {
  ff::FaultEngine engine;
  engine.load(schedule_of(state.range(0)));
  const auto reqs = requests();
  std::size_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(engine.evaluate(reqs[i++ & 4095]));
}
BENCHMARK(BM_Evaluate)->Arg(0)->Arg(1000)->Arg(100000)->Arg(1000000);

// Building the index once at load.
void BM_Compile(benchmark::State& state) {
  auto base = schedule_of(state.range(0));
  for (auto _ : state) {
    state.PauseTiming();
    ff::Schedule copy = base->schedule;
    state.ResumeTiming();
    benchmark::DoNotOptimize(ff::CompiledSchedule::build(std::move(copy)));
  }
}
BENCHMARK(BM_Compile)->Arg(100000)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
