#include "faults/fault_engine.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <limits>
#include <unordered_set>

#include "faults/rng.h"

namespace fsfault::faults {

Clock steady_clock_ms() {
  return [] {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                          std::chrono::steady_clock::now().time_since_epoch())
                                          .count());
  };
}

namespace {

using Span = std::pair<std::uint64_t, std::uint64_t>;  // bytes [first, second)

// Sector arithmetic that saturates instead of wrapping (sector numbers come
// from schedule text, up to 2^64 - 1, when the disk size is unknown).
std::uint64_t sector_byte(std::uint64_t sector) {
  return sector > UINT64_MAX / kSectorSize ? UINT64_MAX : sector * kSectorSize;
}
std::uint64_t end_byte(const SectorRange& r) { return r.last == UINT64_MAX ? UINT64_MAX : sector_byte(r.last + 1); }

// The absolute byte spans a zero, fill or byte-range flip rule changes: the
// window of each piece, or the whole ranges; sorted and merged.
std::vector<Span> data_areas(const Rule& r) {
  const auto& pieces = r.pieces.empty() ? r.ranges : r.pieces;
  std::vector<Span> spans;
  for (const auto& p : pieces) {
    std::uint64_t lo = sector_byte(p.first);
    std::uint64_t hi = end_byte(p);
    if (const auto& w = r.action.window) {
      if (w->offset >= hi - lo) continue;
      lo += w->offset;
      if (w->bytes && *w->bytes < hi - lo) hi = lo + *w->bytes;
    }
    spans.emplace_back(lo, hi);
  }
  std::sort(spans.begin(), spans.end());
  std::vector<Span> merged;
  for (const auto& sp : spans) {
    if (!merged.empty() && sp.first <= merged.back().second) {
      merged.back().second = std::max(merged.back().second, sp.second);
    } else {
      merged.push_back(sp);
    }
  }
  return merged;
}

// The sectors holding some byte of the spans.
std::vector<SectorRange> sectors_of(const std::vector<Span>& spans) {
  std::vector<SectorRange> out;
  for (const auto& [lo, hi] : spans) out.push_back({lo / kSectorSize, (hi - 1) / kSectorSize});
  return normalize_ranges(std::move(out));
}

}  // namespace

std::shared_ptr<const CompiledSchedule> CompiledSchedule::build(Schedule schedule) {
  auto c = std::make_shared<CompiledSchedule>();
  const std::size_t n = schedule.rules.size();
  if (n > std::numeric_limits<std::uint32_t>::max()) throw std::length_error("too many rules");
  c->match_ranges.resize(n);
  c->areas.resize(n);
  c->fixed_byte.assign(n, 0);
  c->fixed_bit.assign(n, 0);
  std::vector<IntervalIndex::Interval> intervals;
  intervals.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    const Rule& r = schedule.rules[i];
    auto& ranges = c->match_ranges[i];
    if (r.action.kind == ActionKind::Flip && r.action.flip_offset) {
      // The bit indexes the concatenation of the rule's ranges (sector 0
      // onwards for a rule without ranges).
      std::uint64_t bit = *r.action.flip_offset;
      std::uint64_t byte = bit / 8;
      std::uint64_t abs_byte = byte;
      if (!r.ranges.empty()) {
        abs_byte = UINT64_MAX;
        for (const auto& range : r.ranges) {
          const std::uint64_t bytes = range.count() * kSectorSize;
          if (byte < bytes) {
            abs_byte = range.first * kSectorSize + byte;
            break;
          }
          byte -= bytes;
        }
      }
      c->fixed_byte[i] = abs_byte;
      c->fixed_bit[i] = static_cast<std::uint8_t>(bit % 8);
      if (abs_byte == UINT64_MAX) {
        ranges = {{UINT64_MAX, UINT64_MAX}};  // out of range: can never match
      } else {
        ranges = {{abs_byte / kSectorSize, abs_byte / kSectorSize}};
      }
    } else if (changes_data(r.action.kind) && (r.action.kind != ActionKind::Flip || r.action.window)) {
      // Matches only requests that reach a byte it changes.
      c->areas[i] = data_areas(r);
      ranges = c->areas[i].empty() && !r.ranges.empty() ? std::vector<SectorRange>{{UINT64_MAX, UINT64_MAX}}
                                                         : sectors_of(c->areas[i]);
    } else {
      ranges = r.ranges;
    }
    if (ranges.empty()) {
      c->rangeless.push_back(static_cast<std::uint32_t>(i));
    } else {
      for (const auto& range : ranges) intervals.push_back({range.first, range.last, static_cast<std::uint32_t>(i)});
    }
  }
  c->index = IntervalIndex(std::move(intervals));
  c->schedule = std::move(schedule);
  return c;
}

namespace {

struct Candidate {
  std::uint32_t rule;
  std::uint32_t begin;  // slice of the overlap vector (sector ranges ∩ request)
  std::uint32_t count;
};

// Byte span [lo, hi) of the request, relative to the request's first byte,
// covered by sector range r.
bool request_bytes_in(const Request& req, const SectorRange& r, std::uint64_t& lo, std::uint64_t& hi) {
  const std::uint64_t req_end = req.offset + req.length;  // exclusive
  const std::uint64_t r_lo = r.first * kSectorSize;
  const std::uint64_t r_hi = (r.last + 1) * kSectorSize;
  const std::uint64_t a = std::max(req.offset, r_lo);
  const std::uint64_t b = std::min(req_end, r_hi);
  if (a >= b) return false;
  lo = a - req.offset;
  hi = b - req.offset;
  return true;
}

std::vector<std::uint64_t> pick_flip_bits(const CompiledSchedule& s, std::uint32_t rule_index, std::uint64_t n,
                                          const Request& req, std::span<const SectorRange> overlap) {
  const Rule& rule = s.schedule.rules[rule_index];
  std::vector<std::uint64_t> bits;
  if (rule.action.flip_offset) {
    const std::uint64_t byte = s.fixed_byte[rule_index];
    if (byte >= req.offset && byte - req.offset < req.length) {
      bits.push_back((byte - req.offset) * 8 + s.fixed_bit[rule_index]);
    }
    return bits;
  }
  // Byte spans of the request the rule covers.
  std::vector<std::pair<std::uint64_t, std::uint64_t>> spans;
  if (overlap.empty()) {
    if (req.length > 0) spans.emplace_back(0, req.length);
  } else {
    for (const auto& r : overlap) {
      std::uint64_t lo, hi;
      if (request_bytes_in(req, r, lo, hi)) spans.emplace_back(lo, hi);
    }
  }
  std::uint64_t total_bits = 0;
  for (const auto& [lo, hi] : spans) total_bits += (hi - lo) * 8;
  const std::uint64_t want = std::min<std::uint64_t>(rule.action.flip_bits, total_bits);
  if (want == 0) return bits;
  // Floyd's algorithm: `want` distinct values in [0, total_bits).
  DetRng rng(s.schedule.seed, rule_index, n, RngPurpose::FlipBits);
  std::unordered_set<std::uint64_t> chosen;
  chosen.reserve(want * 2);
  for (std::uint64_t j = total_bits - want; j < total_bits; ++j) {
    const std::uint64_t t = rng.below(j + 1);
    if (!chosen.insert(t).second) chosen.insert(j);
  }
  std::vector<std::uint64_t> idx(chosen.begin(), chosen.end());
  std::sort(idx.begin(), idx.end());
  // Map positions in the concatenated spans to request-relative bits.
  std::size_t span = 0;
  std::uint64_t span_base = 0;  // bit index where `span` starts in the concatenation
  for (std::uint64_t v : idx) {
    while (v >= span_base + (spans[span].second - spans[span].first) * 8) {
      span_base += (spans[span].second - spans[span].first) * 8;
      ++span;
    }
    bits.push_back(spans[span].first * 8 + (v - span_base));
  }
  return bits;
}

// Request-relative spans of the request that a zero, fill or byte-range flip
// rule changes (the whole request for a rangeless zero).
std::vector<Span> pick_bytes(const CompiledSchedule& s, std::uint32_t rule_index, const Request& req) {
  const auto& areas = s.areas[rule_index];
  std::vector<Span> out;
  if (req.length == 0) return out;
  if (areas.empty()) {
    out.emplace_back(0, req.length);
    return out;
  }
  const std::uint64_t req_end = req.offset + req.length;
  auto it = std::upper_bound(areas.begin(), areas.end(), req.offset,
                             [](std::uint64_t off, const Span& a) { return off < a.second; });
  for (; it != areas.end() && it->first < req_end; ++it) {
    out.emplace_back(std::max(it->first, req.offset) - req.offset, std::min(it->second, req_end) - req.offset);
  }
  return out;
}

// Adds a firing data rule's changes to the decision; false when it changes
// no byte of this request.
bool add_data_change(const CompiledSchedule& s, const Candidate& c, std::uint64_t n, const Request& req,
                     std::span<const SectorRange> overlap, Decision& d, Firing& f) {
  const Action& a = s.schedule.rules[c.rule].action;
  if (a.kind == ActionKind::Flip && !a.window) {
    f.bits = pick_flip_bits(s, c.rule, n, req, overlap);
    if (f.bits.empty()) return false;  // nothing of the target in this request's bytes
    std::vector<std::uint64_t> merged;
    merged.reserve(d.flip_bits.size() + f.bits.size());
    std::set_union(d.flip_bits.begin(), d.flip_bits.end(), f.bits.begin(), f.bits.end(),
                   std::back_inserter(merged));
    d.flip_bits = std::move(merged);
    d.persist_flip = d.persist_flip || a.persist;
    return true;
  }
  f.bytes = pick_bytes(s, c.rule, req);
  if (f.bytes.empty()) return false;
  const bool invert = a.kind == ActionKind::Flip;
  for (const auto& [lo, hi] : f.bytes) {
    d.edits.push_back({invert ? DataEdit::Kind::Invert : DataEdit::Kind::Fill,
                       a.kind == ActionKind::Fill ? a.fill_byte : std::uint8_t{0}, invert && a.persist, lo, hi});
  }
  return true;
}

void collect_candidates(const CompiledSchedule& s, const Request& req, CandidateSearch search,
                        std::vector<Candidate>& cands, std::vector<SectorRange>& overlap) {
  const bool has_range = req.length > 0;
  std::uint64_t first = 0, last = 0;
  if (has_range) {
    first = req.offset / kSectorSize;
    last = (req.offset + (req.length - 1)) / kSectorSize;
  }
  auto clip = [&](const SectorRange& r) { return SectorRange{std::max(r.first, first), std::min(r.last, last)}; };
  if (search == CandidateSearch::BruteForce) {
    for (std::uint32_t i = 0; i < s.schedule.rules.size(); ++i) {
      if (!op_matches(s.schedule.rules[i].op, req.op)) continue;
      const auto& ranges = s.match_ranges[i];
      if (ranges.empty()) {
        cands.push_back({i, static_cast<std::uint32_t>(overlap.size()), 0});
        continue;
      }
      if (!has_range) continue;
      const auto begin = static_cast<std::uint32_t>(overlap.size());
      for (const auto& r : ranges) {
        if (r.first <= last && r.last >= first) overlap.push_back(clip(r));
      }
      const auto count = static_cast<std::uint32_t>(overlap.size()) - begin;
      if (count > 0) cands.push_back({i, begin, count});
    }
    return;
  }
  // Index: ranged candidates, grouped per rule in file order.
  std::vector<std::uint32_t> ids;
  if (has_range) {
    s.index.query(first, last, ids);
    std::erase_if(ids, [&](std::uint32_t id) { return !op_matches(s.schedule.rules[s.index.at(id).value].op, req.op); });
    std::sort(ids.begin(), ids.end(), [&](std::uint32_t a, std::uint32_t b) {
      const auto& x = s.index.at(a);
      const auto& y = s.index.at(b);
      return x.value != y.value ? x.value < y.value : x.first < y.first;
    });
  }
  std::size_t i = 0;
  std::size_t j = 0;  // position in s.rangeless
  while (i < ids.size() || j < s.rangeless.size()) {
    const std::uint32_t ranged_rule = i < ids.size() ? s.index.at(ids[i]).value : UINT32_MAX;
    const std::uint32_t free_rule = j < s.rangeless.size() ? s.rangeless[j] : UINT32_MAX;
    if (free_rule < ranged_rule) {
      ++j;
      if (op_matches(s.schedule.rules[free_rule].op, req.op)) {
        cands.push_back({free_rule, static_cast<std::uint32_t>(overlap.size()), 0});
      }
      continue;
    }
    const auto begin = static_cast<std::uint32_t>(overlap.size());
    while (i < ids.size() && s.index.at(ids[i]).value == ranged_rule) {
      const auto& iv = s.index.at(ids[i]);
      overlap.push_back(clip({iv.first, iv.last}));
      ++i;
    }
    cands.push_back({ranged_rule, begin, static_cast<std::uint32_t>(overlap.size()) - begin});
  }
}

}  // namespace

Verdict decide(const CompiledSchedule& s, const Request& req, std::span<const RuleState> states,
               const DecideContext& ctx, CandidateSearch search) {
  Verdict v;
  if (ctx.dead) {
    v.decision.error = EIO;
    v.decision.rule = std::string(ctx.dead_rule);
    return v;
  }
  std::vector<Candidate> cands;
  std::vector<SectorRange> overlap;
  collect_candidates(s, req, search, cands, overlap);
  Decision& d = v.decision;
  for (const Candidate& c : cands) {
    const Rule& rule = s.schedule.rules[c.rule];
    if (rule.phase && *rule.phase != ctx.phase) continue;
    if (ctx.ms_in_phase < rule.after_ms) continue;
    const RuleState& st = states[c.rule];
    const std::uint64_t n = st.matches + 1;
    v.matched.push_back(c.rule);
    if (n <= rule.after) continue;
    if ((n - rule.after - 1) % rule.every != 0) continue;
    if (rule.count && st.fired >= *rule.count) continue;
    if (rule.probability < 1.0) {
      DetRng rng(s.schedule.seed, c.rule, n, RngPurpose::Probability);
      if (!(rng.uniform() < rule.probability)) continue;
    }
    const Action& a = rule.action;
    Firing f{c.rule, a.kind, {}, {}};
    if (changes_data(a.kind)) {
      if (!add_data_change(s, c, n, req, std::span(overlap).subspan(c.begin, c.count), d, f)) continue;
    } else if (a.kind == ActionKind::Delay) {
      const std::uint64_t sum = static_cast<std::uint64_t>(d.delay_ms) + a.delay_ms;
      d.delay_ms = static_cast<std::uint32_t>(std::min<std::uint64_t>(sum, UINT32_MAX));
    }
    v.fired.push_back(std::move(f));
    if (!is_terminal(a.kind)) continue;
    // Terminal: this rule decides the outcome; earlier data changes are cancelled.
    std::erase_if(v.fired, [](const Firing& x) { return changes_data(x.kind); });
    d.flip_bits.clear();
    d.persist_flip = false;
    d.edits.clear();
    switch (a.kind) {
      case ActionKind::Fail: d.error = a.error; break;
      case ActionKind::Disconnect: d.disconnect = true; break;
      case ActionKind::Die:
        d.error = EIO;
        v.dies = true;
        break;
      case ActionKind::Torn: d.torn = true; break;
      default: break;
    }
    d.rule = rule.name;
    return v;
  }
  if (!v.fired.empty()) d.rule = s.schedule.rules[v.fired.front().rule].name;
  return v;
}

FaultEngine::FaultEngine(Clock clock, std::shared_ptr<FaultLog> log)
    : clock_(std::move(clock)),
      start_ms_(clock_()),
      compiled_(CompiledSchedule::build(Schedule{})),
      phase_start_ms_(start_ms_),
      log_(std::move(log)),
      logging_(log_ != nullptr) {}

Decision FaultEngine::evaluate(const Request& req) {
  {
    // Fast path: most requests match no rule (or there are none). decide() is
    // pure, so it can run under a shared lock; only if something matched do
    // we retake the lock exclusively and decide again against fresh counters.
    std::shared_lock lock(mu_);
    if (dead_ && !log_) {
      // A dead disk with nobody logging: the flood path, nothing to commit.
      requests_.fetch_add(1, std::memory_order_relaxed);
      Decision d;
      d.error = EIO;
      d.rule = dead_rule_;
      return d;
    }
    if (!dead_) {
      if (compiled_->schedule.rules.empty()) {
        requests_.fetch_add(1, std::memory_order_relaxed);
        return {};
      }
      DecideContext ctx{phase_, clock_() - phase_start_ms_, false, {}};
      Verdict v = decide(*compiled_, req, states_, ctx);
      if (v.matched.empty() && v.fired.empty() && !v.dies) {
        requests_.fetch_add(1, std::memory_order_relaxed);
        return std::move(v.decision);
      }
    }
  }
  std::unique_lock lock(mu_);
  const std::uint64_t now = clock_();
  const std::uint64_t request_number = requests_.fetch_add(1, std::memory_order_relaxed) + 1;
  DecideContext ctx{phase_, now - phase_start_ms_, dead_, dead_rule_};
  Verdict v = decide(*compiled_, req, states_, ctx);
  for (auto r : v.matched) ++states_[r].matches;
  for (const auto& f : v.fired) ++states_[f.rule].fired;
  const bool was_dead = dead_;
  if (v.dies) {
    dead_ = true;
    dead_rule_ = v.decision.rule;
  }
  if (log_ && (was_dead || !v.fired.empty())) {
    FaultRecord rec;
    rec.t_ms = now - start_ms_;
    rec.req = request_number;
    rec.phase = phase_;
    rec.op = req.op;
    if (req.length > 0) {
      rec.sector = req.offset / kSectorSize;
      rec.sectors = (req.offset + req.length - 1) / kSectorSize - rec.sector + 1;
    }
    if (was_dead) {
      rec.rule = dead_rule_;
      rec.action = "dead";
      rec.error = EIO;
      log_->write(v.fired.empty() ? std::move(rec) : rec);
    }
    for (const auto& f : v.fired) {
      const Rule& rule = compiled_->schedule.rules[f.rule];
      rec.rule = rule.name;
      rec.action = std::string(to_string(f.kind));
      rec.error = (f.kind == ActionKind::Fail || f.kind == ActionKind::Die || f.kind == ActionKind::Torn)
                      ? (f.kind == ActionKind::Fail ? rule.action.error : EIO)
                      : 0;
      rec.bits = f.bits;
      rec.bytes = f.bytes;
      rec.fill_byte = rule.action.fill_byte;
      rec.persist = rule.action.persist;
      rec.delay_ms = rule.action.delay_ms;
      log_->write(&f == &v.fired.back() ? std::move(rec) : rec);
    }
  }
  return std::move(v.decision);
}

void FaultEngine::load(Schedule schedule) { load(CompiledSchedule::build(std::move(schedule))); }

void FaultEngine::load(std::shared_ptr<const CompiledSchedule> compiled) {
  std::vector<RuleState> fresh(compiled->schedule.rules.size());
  bool delays = false;
  for (const auto& r : compiled->schedule.rules) delays |= r.action.kind == ActionKind::Delay;
  std::unique_lock lock(mu_);
  may_delay_.store(delays, std::memory_order_relaxed);
  compiled_ = std::move(compiled);
  states_ = std::move(fresh);
  dead_ = false;
  dead_rule_.clear();
}

void FaultEngine::clear() { load(CompiledSchedule::build(Schedule{})); }

void FaultEngine::set_phase(std::string name) {
  std::shared_ptr<FaultLog> log;
  {
    std::unique_lock lock(mu_);
    if (name == phase_) return;
    phase_ = std::move(name);
    phase_start_ms_ = clock_();
    log = log_;
  }
  if (log) log->flush();  // the previous phase's faults are on disk
}

std::string FaultEngine::phase() const {
  std::unique_lock lock(mu_);
  return phase_;
}

void FaultEngine::die(std::string who) {
  std::shared_ptr<FaultLog> log;
  {
    std::unique_lock lock(mu_);
    if (dead_) return;
    dead_ = true;
    dead_rule_ = std::move(who);
    log = log_;
  }
  if (log) log->flush();
}

bool FaultEngine::dead() const {
  std::unique_lock lock(mu_);
  return dead_;
}

std::size_t FaultEngine::rule_count() const {
  std::unique_lock lock(mu_);
  return states_.size();
}

void FaultEngine::set_log(std::shared_ptr<FaultLog> log) {
  {
    std::unique_lock lock(mu_);
    log.swap(log_);
    logging_.store(log_ != nullptr, std::memory_order_relaxed);
  }
  if (log) log->flush();  // the old log (its destructor would flush it too)
}

void FaultEngine::flush_log() {
  // Called once per reply batch: most servers have no log, and the shared
  // lock's cache line is contended by every worker.
  if (!logging_.load(std::memory_order_relaxed)) return;
  std::shared_ptr<FaultLog> log;
  {
    std::shared_lock lock(mu_);
    log = log_;
  }
  if (log) log->flush();
}

nlohmann::json FaultEngine::stats() const {
  std::shared_ptr<FaultLog> log;
  nlohmann::json out;
  {
    std::unique_lock lock(mu_);
    out = stats_locked();
    log = log_;
  }
  // Every fault counted above was queued before the lock was taken: once
  // flushed, the file holds at least what the stats report.
  if (log) log->flush();
  return out;
}

nlohmann::json FaultEngine::stats_locked() const {
  nlohmann::json rules = nlohmann::json::array();
  for (std::size_t i = 0; i < states_.size(); ++i) {
    rules.push_back({{"name", compiled_->schedule.rules[i].name},
                     {"matches", states_[i].matches},
                     {"fired", states_[i].fired}});
  }
  return {{"phase", phase_.empty() ? nlohmann::json(nullptr) : nlohmann::json(phase_)},
          {"dead", dead_},
          {"requests", requests_.load()},
          {"rules", std::move(rules)}};
}

}  // namespace fsfault::faults
