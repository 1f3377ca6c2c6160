// The catalogue's known gaps (docs/scenarios.md, "Known gaps") as `fsfault explore` recognises
// them: a finding whose invariant is the one the gap's expectation states, and whose kernel
// functions include the gap's function, is "known" rather than new.
#pragma once

#include "runner/scenario/scenario.h"

#include <string>
#include <vector>

namespace fsfault::vm::explore {

struct KnownGap {
  std::string scenario;  // "ext4/bitmap-first-kib-unreported"
  std::string file;      // the scenario file
  std::string what, function, fixed_when;  // the known_gap table
  std::string invariant;  // the explore invariant that sees the same wrong behaviour; "" none
  std::string kernel;     // the scenario's kernel gate and the expectation's, ";"-separated ("" any)
  std::string describe() const { return what + " (" + function + ", " + scenario + ")"; }
};

// The explore invariant judging what an expectation states: `accounting` -> "accounting"; else
// the gap's own `explore = "negative-errno"`; else "" (no explore invariant judges it).
std::string gap_invariant(const json& expect);

// Every [[expect]] with known_gap in `catalogue`, in its order.
std::vector<KnownGap> known_gaps(const std::vector<Scenario>& catalogue);

// The known gaps of the catalogue under `root`, loaded by the scenario loader (select_scenarios).
// A file that does not load is a warning in `warnings` (its gaps are not known), not an error.
std::vector<KnownGap> load_known_gaps(const std::string& root, std::vector<std::string>& warnings);

// The known gap finding `sig` ("accounting@__ext4_grp_locked_error+ext4_mb_generate_buddy") shows
// on kernel `release` ("" when unknown): same invariant, the gap's function among the signature's,
// the gap's kernel gates met. nullptr when none: the finding is new.
const KnownGap* recognise(const std::string& sig, const std::vector<KnownGap>& gaps, const std::string& release);

}  // namespace fsfault::vm::explore
