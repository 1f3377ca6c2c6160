// Minimizing a finding: delta debugging (Zeller's ddmin) over its rules, then each remaining
// rule's byte window and firing counts shrunk while the oracle still says "reproduces".
#pragma once

#include "runner/scenario/scenario.h"

#include <functional>
#include <vector>

namespace fsfault::vm::explore {

// True when the rules still reproduce the finding (a campaign runs them K times).
using Oracle = std::function<bool(const std::vector<json>& rules)>;

struct Minimized {
  std::vector<json> rules;
  int oracle_calls = 0;
};

// ddmin: a 1-minimal subset of `rules` for which the oracle holds (removing any one rule breaks
// it), assuming it holds for all of `rules`. Subsets are tried in their original order.
Minimized ddmin(const std::vector<json>& rules, const Oracle& holds);

// Smaller variants of one rule, each tried in turn: byte windows halved (down to 16 bytes), bit
// counts halved, count lowered to 1, after and every dropped.
std::vector<json> shrink_candidates(const json& rule);

// ddmin, then shrink each rule greedily until no candidate reproduces or `max_calls` oracle calls
// were spent (each call costs K trials in a campaign).
Minimized minimize(const std::vector<json>& rules, const Oracle& holds, int max_calls = 20);

}  // namespace fsfault::vm::explore
