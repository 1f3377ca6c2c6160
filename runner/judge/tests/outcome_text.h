// An Outcome's reasons as the judge tests read them: one a line when an assertion fails, or
// whether any reason mentions a phrase.
#pragma once

#include "runner/judge/judge.h"

#include <string>

namespace fsfault::vm::testing {

inline std::string reasons_text(const Outcome& o) {
  std::string s;
  for (const auto& r : o.reasons) s += r + "\n";
  return s;
}

inline bool mentions(const Outcome& o, const std::string& what) {
  for (const auto& r : o.reasons)
    if (r.find(what) != std::string::npos) return true;
  return false;
}

}  // namespace fsfault::vm::testing
