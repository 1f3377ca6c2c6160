#include "runner/judge/health_expectations.h"

#include <string>

namespace fsfault::vm {

namespace {

bool selected(const json& ex, const json& r) {
  if (r.value("type", std::string()) != "health") return false;
  if (r.value("event", std::string()) != ex["health"].get<std::string>()) return false;
  if (ex.contains("domain") && r.value("domain", std::string()) != ex["domain"].get<std::string>()) return false;
  return !ex.contains("disk") || r.value("disk", 0) == ex["disk"].get<int>();
}

std::string summary(const json& r) {
  json s = r;
  for (const char* k : {"type", "seq", "t_ms", "time_ns", "domain_code", "event_code"}) s.erase(k);
  return s.dump();
}

constexpr long long kShown = 6;  // records quoted in a failure; a flood is hundreds

std::string more(long long all) {
  return all > kShown ? ", … " + std::to_string(all - kShown) + " more" : "";
}

}  // namespace

void judge_health(const json& ex, const Trace& t, Outcome& o) {
  std::string label = "health " + ex["health"].get<std::string>();
  if (ex.contains("domain")) label += " (domain " + ex["domain"].get<std::string>() + ")";
  long long n = 0, all = 0;
  std::string seen;
  for (const json& r : t.records) {
    if (r.value("type", std::string()) == "health" && ++all <= kShown)
      seen += (seen.empty() ? "" : ", ") + summary(r);
    if (!selected(ex, r)) continue;
    ++n;
    if (ex.contains("lostcount") && !count_matches(ex["lostcount"], r.value("lostcount", -1LL)))
      o.reasons.push_back(label + ": lostcount: expected " + spec_text(ex["lostcount"]) + ", saw " +
                          std::to_string(r.value("lostcount", -1LL)));
    if (ex.contains("reasons") && r.value("reasons", -1LL) != ex["reasons"].get<long long>())
      o.reasons.push_back(label + ": reasons: expected " + ex["reasons"].dump() + ", saw " +
                          std::to_string(r.value("reasons", -1LL)));
  }
  json want = ex.contains("count") ? ex["count"] : json(">=1");
  if (!count_matches(want, n))
    o.reasons.push_back(label + ": expected count " + spec_text(want) + ", saw " + std::to_string(n) +
                        (seen.empty() ? " (no health records)" : " in {" + seen + more(all) + "}"));
  else
    o.notes.push_back(label + ": " + std::to_string(n) + " record(s)");
}

}  // namespace fsfault::vm
