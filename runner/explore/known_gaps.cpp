#include "runner/explore/known_gaps.h"

#include "runner/explore/finding.h"
#include "runner/vm/catalogue_run.h"

#include <algorithm>

namespace fsfault::vm::explore {

std::string gap_invariant(const json& expect) {
  // accounting_failure() (runner/judge) is the rule of both the expectation and explore's
  // `accounting` invariant, so a gap stated as accounting is exactly what that invariant finds.
  if (expect.contains("accounting")) return "accounting";
  // Other kinds say what the kernel must do, not which invariant sees it failing (an FS_ERROR
  // `error` may be a missing event or a wrong errno): the gap names it, `explore = "..."`.
  return expect["known_gap"].value("explore", std::string());
}

std::vector<KnownGap> known_gaps(const std::vector<Scenario>& catalogue) {
  std::vector<KnownGap> out;
  for (auto& s : catalogue)
    for (auto& ex : s.expects) {
      if (!ex.contains("known_gap")) continue;
      const json& g = ex["known_gap"];
      KnownGap k{s.name, s.file, g.value("what", ""), g.value("function", ""), g.value("fixed_when", ""),
                 gap_invariant(ex), s.kernel};
      if (ex.contains("kernel") && ex["kernel"].is_string())
        k.kernel += (k.kernel.empty() ? "" : ";") + ex["kernel"].get<std::string>();
      out.push_back(k);
    }
  return out;
}

std::vector<KnownGap> load_known_gaps(const std::string& root, std::vector<std::string>& warnings) {
  Selection sel = select_scenarios({root}, "", "");
  for (auto& bad : sel.invalid)
    warnings.push_back(bad.file + " did not load, its known gaps are not recognised: " +
                       (bad.outcome.reasons.empty() ? std::string("?") : bad.outcome.reasons[0]));
  return known_gaps(sel.scenarios);
}

namespace {

bool gates_met(const std::string& gates, const std::string& release) {
  KernelVersion v = parse_kernel_version(release);
  if (!v.known()) return true;  // a trial without a hello: the gate cannot be checked
  for (std::size_t p = 0; p < gates.size();) {
    auto q = std::min(gates.find(';', p), gates.size());
    if (q > p && kernel_gate(gates.substr(p, q - p), v)) return false;
    p = q + 1;
  }
  return true;
}

}  // namespace

const KnownGap* recognise(const std::string& sig, const std::vector<KnownGap>& gaps, const std::string& release) {
  auto [inv, fns] = split_signature(sig);
  for (auto& g : gaps)
    if (!g.invariant.empty() && g.invariant == inv && fns.count(g.function) && gates_met(g.kernel, release))
      return &g;
  return nullptr;
}

}  // namespace fsfault::vm::explore
