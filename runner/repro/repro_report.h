// What `fsfault repro` leaves after its run: the printed report and report.html in the
// scenario's artifact directory.
#pragma once

#include <string>

namespace fsfault::vm {

// Counts the flood in `artifact_dir` (count_flood), writes artifact_dir/report.html (flood_html)
// and returns the report to print: flood_report's lines, then "repro: VERDICT" with the judge's
// first reason (result.json), e.g. "repro: FAIL accounting: 3 error(s) vanished silently: ...".
// `accounting` false (--no-accounting): the report's accounting line says "not judged".
std::string repro_report(const std::string& artifact_dir, bool accounting);

}  // namespace fsfault::vm
