// An Outcome's reasons, one a line: what the judge tests print when an assertion fails.
#pragma once

#include "runner/judge/judge.h"

#include <string>

namespace fsfault::vm::testing {

inline std::string reasons_text(const Outcome& o) {
  std::string s;
  for (const auto& r : o.reasons) s += r + "\n";
  return s;
}

}  // namespace fsfault::vm::testing
