#include "runner/explore/trial.h"

#include "runner/explore/workload.h"

#include <fnmatch.h>

#include <algorithm>
#include <cstdio>
#include <random>
#include <stdexcept>

namespace fsfault::vm::explore {

namespace {

// splitmix64: a good 64-bit mix, so that neighbouring (seed, i) give unrelated generators.
std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

using Rng = std::mt19937_64;

// Uniform in [lo, hi], drawn by hand: std::uniform_int_distribution differs between libraries,
// and a campaign's trials must be the same wherever it is replayed.
std::uint64_t pick(Rng& r, std::uint64_t lo, std::uint64_t hi) { return lo + r() % (hi - lo + 1); }

template <typename T>
const T& one_of(Rng& r, const std::vector<T>& v) {
  return v[pick(r, 0, v.size() - 1)];
}

// Bytes of the target's largest range: windows must start inside one (docs/faults.md).
std::uint64_t largest_range_bytes(const faults::Target& t) {
  std::uint64_t most = 0;
  for (auto& rg : t.ranges) most = std::max<std::uint64_t>(most, (rg.last - rg.first + 1) * 512);
  return most;
}

// {offset, bytes}: a window at the start (half the time) or at a 256-byte step inside the range.
json byte_window(Rng& r, std::uint64_t range_bytes) {
  static const std::vector<std::uint64_t> sizes = {16, 256, 1024, 4096};
  std::uint64_t span = std::min<std::uint64_t>(range_bytes, 4096);
  std::uint64_t offset = pick(r, 0, 1) ? 0 : pick(r, 0, (span - 1) / 256) * 256;
  return json{{"offset", offset}, {"bytes", one_of(r, sizes)}};
}

json action(Rng& r, const std::string& kind, std::uint64_t range_bytes) {
  if (kind == "fail") return json{{"fail", pick(r, 0, 3) ? "EIO" : "ENOSPC"}};
  if (kind == "zero") return json{{"zero", byte_window(r, range_bytes)}};
  if (kind == "fill") {
    json w = byte_window(r, range_bytes);
    w["byte"] = pick(r, 0, 1) ? 0xff : static_cast<int>(pick(r, 1, 254));
    return json{{"fill", w}};
  }
  if (kind == "flip") {
    if (pick(r, 0, 1)) return json{{"flip", json{{"bits", pick(r, 1, 64)}}}};
    return json{{"flip", byte_window(r, range_bytes)}};
  }
  throw std::runtime_error("unknown action \"" + kind + "\" (fail, zero, fill, flip)");
}

// A rule on `target`: reads for the data-changing actions, any op for fail; firing controls
// drawn so that most rules fire often and some only once or late.
json rule(Rng& r, std::size_t n, const std::string& target, const faults::TargetMap& map,
          const std::vector<std::string>& actions) {
  const std::string& kind = one_of(r, actions);
  json rl{{"name", "r" + std::to_string(n)}, {"phase", "armed"}};
  rl["match"] = json{{"op", kind == "fail" ? (pick(r, 0, 1) ? "read" : "any") : "read"}, {"target", target}};
  rl["action"] = action(r, kind, largest_range_bytes(*map.find(target)));
  switch (pick(r, 0, 3)) {
    case 0: rl["count"] = pick(r, 1, 4); break;
    case 1: rl["after"] = pick(r, 1, 3); break;
    case 2: rl["every"] = pick(r, 2, 3); break;
    default: break;  // every match fires
  }
  return rl;
}

}  // namespace

std::string Trial::name() const {
  if (!label.empty()) return label;
  char b[32];
  snprintf(b, sizeof b, "explore/t%04llu", static_cast<unsigned long long>(index));
  return b;
}

std::vector<std::string> matching_targets(const faults::TargetMap& map, const std::vector<std::string>& globs) {
  std::vector<std::string> out;
  for (auto& [name, t] : map.targets())
    for (auto& g : globs)
      if (fnmatch(g.c_str(), name.c_str(), 0) == 0) {
        out.push_back(name);
        break;
      }
  if (out.empty()) {
    std::string gl;
    for (auto& g : globs) gl += (gl.empty() ? "" : " ") + g;
    throw std::runtime_error("no target of " + map.source + " matches --targets " + gl);
  }
  return out;
}

TrialGenerator::TrialGenerator(TrialSpace space, std::uint64_t seed) : space_(std::move(space)), seed_(seed) {
  targets_ = matching_targets(space_.map, space_.target_globs);
  if (space_.workloads.empty()) space_.workloads = workload_names();
  for (auto& w : space_.workloads) (void)workload_steps(w, space_.map);  // unknown names fail now
  Rng probe(0);
  for (auto& a : space_.actions) (void)action(probe, a, 4096);  // unknown actions fail now
}

Trial TrialGenerator::draw(std::uint64_t i) const {
  Rng r(mix(mix(seed_) ^ i));
  Trial t;
  t.seed = seed_;
  t.index = i;
  std::size_t n = pick(r, 1, 4);
  for (std::size_t k = 0; k < n; ++k) t.rules.push_back(rule(r, k, one_of(r, targets_), space_.map, space_.actions));
  t.workload = one_of(r, space_.workloads);
  return t;
}

namespace {

json read_errors_count(const char* label) {
  // ext4's es->s_error_count (fs/ext4/sysfs.c "errors_count"); ENOENT on xfs, which the
  // accounting expectation then does not judge.
  return json{{"do", "read-file"}, {"path", "/sys/fs/ext4/vda/errors_count"}, {"label", label}};
}

// The steps `fsfault repro` frames a workload with (runner/repro/repro.cpp), so a trial's
// accounting reads the same way. With a control disk the watch covers it too.
json framed_steps(const json& workload, bool control) {
  json watch{{"do", "watch"}};
  if (control) watch["disks"] = json::array({0, 1});
  json s = json::array({watch, read_errors_count("errors-before"), json{{"do", "drop-caches"}},
                        json{{"do", "phase"}, {"name", "armed"}}});
  for (auto& st : workload) s.push_back(st);
  s.push_back(json{{"do", "read-events"}, {"timeout_ms", 3000}, {"settle_ms", 500}, {"min", 0}});
  // errors=continue folds counted errors into es->s_error_count from s_error_work
  // (fs/ext4/super.c flush_stashed_error_work), not synchronously.
  s.push_back(json{{"do", "sleep"}, {"ms", 500}});
  s.push_back(read_errors_count("errors-after"));
  s.push_back(json{{"do", "read-events"}, {"timeout_ms", 500}, {"settle_ms", 200}, {"min", 0}});
  return s;
}

std::string table(const char* header, const json& t) {
  std::string s = std::string("\n[[") + header + "]]\n";
  for (auto& [k, v] : t.items()) s += k + " = " + toml_value(v) + "\n";
  return s;
}

}  // namespace

std::string trial_scenario_toml(const Trial& t, const TrialDisk& disk, const faults::TargetMap& map,
                                const json& known_gap) {
  std::string s = "name = " + toml_value(t.name()) + "\n";
  s += "description = " + toml_value("fsfault explore: seed " + std::to_string(t.seed) + ", trial " +
                                     std::to_string(t.index) + ", workload " + t.workload) + "\n";
  s += "seed = " + std::to_string(t.index + 1) + "\n";
  s += "step = [\n";
  for (auto& st : framed_steps(workload_steps(t.workload, map), !disk.control_image.empty()))
    s += "  " + toml_value(st) + ",\n";
  s += "]\n";
  s += table("disk", json{{"image", disk.image}, {"mount", json{{"fs", map.fs}, {"options", disk.mount_options}}}});
  if (!disk.control_image.empty())
    s += table("disk", json{{"image", disk.control_image}, {"mount", json{{"options", disk.mount_options}}}});
  for (auto& r : t.rules) s += table("rule", r);
  // As `fsfault repro` judges it (expect_accounting): a counter that did not move passes.
  json accounting{{"accounting", "errors"}, {"before", "errors-before"}, {"after", "errors-after"},
                  {"disk", 0},           {"fs", "ext4"},             {"require_errors", false}};
  if (!known_gap.is_null()) accounting["known_gap"] = known_gap;
  s += table("expect", accounting);
  return s;
}

}  // namespace fsfault::vm::explore
