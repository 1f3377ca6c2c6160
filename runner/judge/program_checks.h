// What a program step (exec, wait, stop) must show to pass: that it started, its exit status
// (`exit`, default 0 for exec and wait), its output (`contains`, `matches`) and, with `format`,
// the results of the third-party test it ran (third_party_results.h), which become the
// scenario's subtests.
#pragma once

#include "runner/judge/judge.h"

#include <string>

namespace fsfault::vm {

// spec: the scenario's step; rec: the guest's record of it; what: "step 3 (exec)".
void judge_program_step(const json& spec, const json& rec, const std::string& what, Outcome& o);

// After every check: a scenario whose only third-party results are skips (LTP TCONF, TAP SKIP)
// and which failed nothing else is a skip, with the first skip's reason.
void apply_third_party_skip(Outcome& o);

// "sh -c 'echo hi'" or argv joined, shortened: how a failure names the program.
std::string program_of(const json& spec);
// At most ~160 characters of the output, newlines shown as \n, quoted.
std::string output_excerpt(const std::string& output);

}  // namespace fsfault::vm
