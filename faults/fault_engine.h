// The fault engine: decides, for each request, what fault (if any) to inject.
//
// HOW RULES COMBINE (also in docs/faults.md)
// A request's candidate rules are those whose op matches and whose sector
// ranges overlap the request (rules without ranges match every request of
// their op). Candidates are evaluated in file order. For each one:
//   1. Gates: a rule with `phase` is skipped unless that phase is current; a
//      rule with `after_ms` is skipped until that many ms have passed since the
//      current phase began. A skipped rule has not "matched".
//   2. The rule matched: its match count n (from 1) goes up.
//   3. It fires when n > after, (n - after - 1) % every == 0, it has fired
//      fewer than `count` times, and its probability roll succeeds.
//   4. What firing does:
//      - delay: adds its delay_ms (delays of several rules add up);
//        evaluation continues.
//      - zero, fill and flip change only the request's bytes inside the
//        rule's ranges (or byte windows of them); evaluation continues.
//        zero, fill and byte-range flips become Decision::edits in file
//        order; random and fixed bit flips unite in flip_bits (a bit picked
//        by two rules is flipped once; persist_flip if any of them persists).
//        A firing that changes no byte of this request (the window lies
//        elsewhere in the sector) counts as a match, not a firing.
//      - fail, disconnect, die, torn are TERMINAL: the first terminal rule to
//        fire decides the outcome and evaluation STOPS — later rules are not
//        evaluated at all (their match counts do not move). Data changes
//        picked earlier for this request are cancelled (a failed or dropped
//        request returns no data): those rules count the match but not a
//        firing, and are not logged. Delays picked earlier still apply (the
//        request is delayed, then fails).
// Decision::rule names the terminal rule, else the first rule that fired.
// `die` fails its request with EIO and puts the engine in the dead state:
// every later request fails with EIO (logged as action "dead") without
// evaluating rules, until load() or clear().
//
// DETERMINISM: probability rolls and random bit choices are functions of
// (schedule seed, rule index in file, the rule's match count n) only. The
// same schedule, seed and request sequence give the same decisions and the
// same log (apart from t_ms), whatever the thread timing — provided requests
// reach evaluate() in the same order. after_ms is the one wall-clock gate.
//
// COST: decide() finds candidates through an IntervalIndex over the rules'
// sector ranges, O(log n + k) for n ranges of which k overlap the request,
// plus the range-less rules (kept in a separate list, scanned linearly).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <atomic>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "faults/decision.h"
#include "faults/fault_log.h"
#include "faults/interval_index.h"
#include "faults/request.h"
#include "faults/schedule.h"

namespace fsfault::faults {

// Monotonic milliseconds. Injected so tests control time.
using Clock = std::function<std::uint64_t()>;
Clock steady_clock_ms();

// A schedule prepared for matching; immutable once built.
struct CompiledSchedule {
  Schedule schedule;
  // Per rule: the sector ranges used for matching (the rule's ranges, or for a
  // flip with a fixed offset just the sector that holds the bit).
  std::vector<std::vector<SectorRange>> match_ranges;
  // Per rule, for zero, fill and byte-range flip: the absolute byte spans
  // [begin, end) it changes, sorted and merged; empty for a rangeless zero
  // (it changes whole requests).
  std::vector<std::vector<std::pair<std::uint64_t, std::uint64_t>>> areas;
  // Flip with fixed offset: absolute byte on the disk and bit within the byte.
  std::vector<std::uint64_t> fixed_byte;
  std::vector<std::uint8_t> fixed_bit;
  IntervalIndex index;                  // (range, rule index) for ranged rules
  std::vector<std::uint32_t> rangeless; // rules not limited by position, file order

  static std::shared_ptr<const CompiledSchedule> build(Schedule schedule);
};

struct RuleState {
  std::uint64_t matches = 0;
  std::uint64_t fired = 0;
};

struct DecideContext {
  std::string_view phase;          // "" = none announced yet
  std::uint64_t ms_in_phase = 0;   // since the current phase began
  bool dead = false;
  std::string_view dead_rule;      // who killed the disk
};

struct Firing {
  std::uint32_t rule = 0;
  ActionKind kind = ActionKind::Fail;
  std::vector<std::uint64_t> bits;  // flip: this rule's bits, request-relative
  std::vector<std::pair<std::uint64_t, std::uint64_t>> bytes;  // zero, fill, flip of bytes: [begin, end)
};

struct Verdict {
  Decision decision;
  std::vector<std::uint32_t> matched;  // rules whose match count goes up
  std::vector<Firing> fired;           // rules that fired (counted, logged)
  bool dies = false;                   // a die rule fired
};

enum class CandidateSearch { Index, BruteForce };

// PURE: no state is read except the arguments and nothing is modified.
// `states` holds one RuleState per rule of `s`. BruteForce scans all rules
// linearly and exists as the reference for tests.
Verdict decide(const CompiledSchedule& s, const Request& req, std::span<const RuleState> states,
               const DecideContext& ctx, CandidateSearch search = CandidateSearch::Index);

// Thread-safe: every public method may be called from any thread.
class FaultEngine {
 public:
  explicit FaultEngine(Clock clock = steady_clock_ms(), std::shared_ptr<FaultLog> log = nullptr);

  // Decides one request, commits the rules' counters and logs fired faults.
  Decision evaluate(const Request& req);

  // Replaces the schedule atomically (counters start at zero; the dead state
  // is lifted; the phase is kept). Compilation happens outside the lock.
  void load(Schedule schedule);
  void load(std::shared_ptr<const CompiledSchedule> compiled);
  // No rules; the dead state is lifted; the phase is kept.
  void clear();
  // Announces a phase. Re-announcing the current phase changes nothing (its
  // after_ms clock keeps running); a new phase restarts it.
  void set_phase(std::string name);
  std::string phase() const;
  // From now on every request fails with EIO (until load/clear).
  void die(std::string who = "control");
  bool dead() const;
  std::size_t rule_count() const;
  // True when some rule can delay a request (callers that batch requests
  // stop batching, so one delayed request does not hold up others).
  bool may_delay() const { return may_delay_.load(std::memory_order_relaxed); }
  void set_log(std::shared_ptr<FaultLog> log);
  // Writes the faults logged so far (FaultLog::flush). The server calls it
  // once per reply batch, before sending: a fault is in the file before the
  // client sees it.
  void flush_log();

  // {"phase": str|null, "dead": bool, "requests": N,
  //  "rules": [{"name": str, "matches": N, "fired": N}, ...]} (file order)
  // Flushes the fault log, so the file holds every fault these stats count.
  nlohmann::json stats() const;

 private:
  nlohmann::json stats_locked() const;  // under mu_
  Clock clock_;
  std::uint64_t start_ms_;
  // Shared for the common case (no rule matches: nothing to commit), exclusive
  // when counters, the dead state or the log change.
  mutable std::shared_mutex mu_;
  std::shared_ptr<const CompiledSchedule> compiled_;
  std::vector<RuleState> states_;
  std::string phase_;
  std::uint64_t phase_start_ms_;
  bool dead_ = false;
  std::string dead_rule_;
  std::atomic<std::uint64_t> requests_{0};
  std::atomic<bool> may_delay_{false};
  std::shared_ptr<FaultLog> log_;
  std::atomic<bool> logging_{false};  // log_ != nullptr: flush_log() without the lock
};

}  // namespace fsfault::faults
